"""Secrets whatever the dialogue does: a line equal to a password is never kept.

A customer may type their password where the bot did not ask for it (a dialogue out of step,
a misread answer, a paste into the wrong box). Whenever the session learns a secret, every
earlier user line equal to it is redacted, and any slot that holds it is dropped; a later line
equal to a known secret is redacted as it arrives. The transcript writer scrubs again on
writing (defence in depth); this keeps the live state, and so every session store, clean.

A customer may also write the password into a sentence ("my password is Hunter2!x", "pw:
…", "password = …", "the password I use is …"). `disclosed` finds such values so the line is
kept with the value replaced (REDACTED) and the value is never used for a login: the login
test asks for the password separately, hidden, after consent.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass

from bot.engine.state import Waypoint
from bot.engine.transcript import Role, Turn
from bot.english import english_word
from bot.scrub import REDACTED, scrub_text

# "my (e-mail) password is X", "the password I use is X", "pw: X", "password = X", "pass - X".
# The value is the next token, or a quoted run. Sentences that only talk about the password
# ("my password is wrong", "password: not accepted") are told apart by the word that follows.
_NAMES = (r"(?:pass ?words?|passwd|passw|passcode|passphrase|passwort|p@ssword|p/w|pwd|pw|pass|"
          r"mot de passe|contrase[ñn]a)")
_DISCLOSING = re.compile(
    r"\b" + _NAMES +
    r"(?:\s+(?:i|we)\s+(?:use|used|typed|entered|have|set|chose|put in))?"
    # "the password for my gmail is X", "password for bob@example.com is X"
    r"(?:\s+(?:for|of|on)(?:\s+[^\s,;:]+){1,3}?(?=\s+(?:is|was)\b))?"
    r"\s*(?:(?:(?:is now|was set to|should be|would be|is|was|ist|est|es|['’]s)\b|=>?|->|:|-)"
    r"\s*)+"
    # "is now X", "is still X", "is probably X": the value after a word about it
    r"(?:(?:now|still|definitely|really|actually|just|certainly|surely|currently|also|probably|"
    r"maybe|like|either|prob|i think)\s+)*"
    r"(?P<value>\"[^\"]{1,128}\"|'[^'\s][^']{0,127}'|“[^”]{1,128}”|\[[^\]\s]{1,128}\]|"
    r"[^\s\"“]{1,128})",
    re.IGNORECASE)
# Looser shapes, where only a value that looks like a password counts: "my password
# Zebra7-x doesn't work", "re-entered the password (Zebra7-x)", "I typed Zebra7-x as my
# password", "login: bob@example.com / Zebra7-x".
_TOKEN = r"(?P<value>[^\s,;()\"“”]{6,128})"
_RIGHT_AFTER = re.compile(r"\b(?:" + _NAMES + r"|pin)\s+(?:\(\s*)?" + _TOKEN, re.I)
# Where a made-up word is a password too: "X is my password", "changed it to X", "the new
# one is X", "creds bob / X", "bob@example.com:X".
_PLACED = (
    re.compile(_TOKEN + r"\s+(?:is|was|=|as|for)\s+(?:my|the|a|our)\s+(?:new\s+|old\s+)?"
               r"(?:e-?mail\s+)?(?:pass ?word|passwd|pw)\b", re.I),
    re.compile(r"\b" + _NAMES + r"\s*,\s*" + _TOKEN + r"\s*,", re.I),  # "my password, X, is ..."
    re.compile(r"\b(?:changed|reset|set|changing)\s+(?:it|that|my\s+\w+|the\s+\w+)\s+to\s+"
               + _TOKEN, re.I),
    re.compile(r"\bnew\s+(?:one|password|pw)\s*(?:is|:|=)\s*" + _TOKEN, re.I),
    re.compile(r"\bcreds?\b\W{0,3}\S+\s*/\s*" + _TOKEN, re.I),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*[/:|]\s*" + _TOKEN),
)
# Google's app passwords: four groups of four letters ("abcd efgh ijkl mnop"), after "app
# password" or alone on a line.
_APP_PASSWORD = re.compile(
    r"(?:\bapp[ -]?pass ?words?\W{0,3}(?:(?:is|was)\s+)?(?P<named>[a-z]{4}(?:[ -][a-z]{4}){3})\b"
    r"|^\s*(?P<alone>[a-z]{4}(?:[ -][a-z]{4}){3})\s*$)", re.I)
# A line about a password or a login: any token in it that looks like one is one ("I tried
# Kq05-x and Kq05b-x", "user bob@example.com pass Kq06-x", "creds: bob / Kq68-x").
_LOGIN_TALK = re.compile(
    r"\b(?:pass(?: ?words?)?|passwd|passcode|passphrase|passwort|pwd|pw|pin|creds|credentials|"
    r"user(?: ?name)?|log(?:ging)? ?in|sign(?:ing)? ?in|tried|typed|entered|used?|reset|"
    r"changed)\b", re.I)
_WORD = re.compile(r"[^\s,;()\"“”'‘’<>]+")
# What looks like a password: letters with a digit or a sign, and no host, address, code or
# product with its version ("Outlook2016", "iPhone15", "macOS14.5", "TLS1.2").
_HOST_OR_CODE = re.compile(
    r"^(?:(?:\*\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?::\d+)?|[\w-]+:\d+|[\w.+-]*@[\w.-]*|0x[0-9a-f]+|"
    r"\d+(?:\.\d+)+|[A-Z0-9]+(?:_[A-Z0-9]+)+|https?:\S*|"
    r"\d+[- ]?[a-z]+|[a-z0-9]{1,6}(?:/[a-z0-9]{1,6})+)$", re.I)
_SIGN = re.compile(r"[!@#$%^&*+=?~]")
_PRODUCT = re.compile(r"^([A-Za-z]+)[- ]?\d{1,4}[a-z]?(?:\.\d+)*$")
PRODUCTS = frozenset({"iphone", "ipad", "ios", "macos", "osx", "win", "tls", "ssl", "imap", "pop",
                      "smtp", "galaxy", "moto", "thunderbird", "outlook", "office", "gmail",
                      "pixel", "redmi", "xperia", "surface", "note"})
# ... nor an identifier a system prints: a ticket, update or error id in capitals and digits
# ("INC0012345", "KB5034441", "AADSTS50126", "SM-G991B"), a hex id, a host with its port and
# path ("outlook.office365.com:993/SSL"), a dotted user name ("j.smith85"), a protocol
# revision ("IMAP4rev1").
_ID = re.compile(
    r"^(?:[A-Z0-9]+(?:-[A-Z0-9]+)*|[0-9a-f-]{8,}|[\w.-]+:\d+(?:/\w+)*|[a-z]+(?:\.[a-z0-9]+)+|"
    r"(?i:(?:imap|pop|smtp|tls|ssl|http|ftp)\w*))$")
# Words that follow "password is" in talk about a password, not in a password itself.
_TALK_WORDS = """
a an the my your his her our their this that it not no never definitely certainly surely
wrong right correct incorrect invalid valid fine ok okay good bad same different new old
rejected accepted refused denied expired locked working changed reset saved stored remembered
correctly still also too now being always just only really very actually probably correct
definitely case sensitive longer shorter short long strong weak secure required needed
asked missing empty blank unknown forgotten lost there here in on for from with by to of
and or but so because since definately 100% deffo sure true false yes none nothing
i out up what exactly identical outdated updated protected through word words forgot
case-sensitive anymore doesnt dont isnt wont cant didnt wasnt aint works work
perfect legit alright mine fine hidden see above n/a na unchanged
outlook thunderbird gmail yahoo hotmail icloud apple iphone ipad android windows mac office
exchange imap pop pop3 smtp webmail server app account login prompt box field dialog window
"""
# A value that is an app's reply or a placeholder, not a password: "535-5.7.8", "0x800CCC92",
# "[AUTHENTICATIONFAILED]", "-ERR", "AUTH=PLAIN", "********", "<none>".
_REPLY_VALUE = re.compile(
    r"^(?:\d{3}(?:\b|[-\s])|[245]\.\d{1,3}\.\d{1,3}|0x[0-9a-f]+|\[|-ERR|AUTH=|\*+$|<)", re.I)
_NOT_A_VALUE = frozenset(_TALK_WORDS.split())


@dataclass(frozen=True)
class Disclosure:
    """A line that writes out a password: `line` with the values replaced by REDACTED,
    `values` (in memory only, to scrub later copies). A replayed line whose value is already
    REDACTED is still a disclosure, with no values."""

    line: str
    values: tuple[str, ...] = ()


def disclosed(line: str) -> Disclosure | None:
    """The passwords `line` writes out, or None when it writes none.

    Shapes: "my password is Hunter2!x" → Disclosure("my password is [redacted]",
    ("Hunter2!x",)); "my password is wrong" → None. A value is kept with and without a
    trailing full stop or comma, since a sentence may end right after it.
    """
    found: list[str] = []
    seen = False
    for hit in _DISCLOSING.finditer(line):
        value = hit.group("value").strip("\"'“”‘’[]()")
        bare = value.rstrip(".,;:)!?").strip("\"'“”‘’")
        if (not bare or bare.lower() in _NOT_A_VALUE or _REPLY_VALUE.match(bare)
                or _counts_chars(line, hit.end()) or _describes(bare, line[hit.end():])):
            continue  # talk about a password: "is wrong", "is 12 characters long", "535 ..."
        seen = True
        if REDACTED in value:
            continue  # a replayed line, already clean
        found += [value, bare] if bare != value else [value]
    for hit in _APP_PASSWORD.finditer(line):
        value = hit.group("named") or hit.group("alone")
        # alone on a line, four random groups ("what time does your" is English)
        if hit.group("named") or sum(map(english_word, re.split("[ -]", value.lower()))) <= 1:
            seen = True
            found.append(value)
    # right after "pw", or where a password is named, a made-up word is one too ("pw
    # hunterfakeyy rejected", "zqfwaaa is my password", "I changed it to zqfwaae")
    for pattern in (_RIGHT_AFTER, *_PLACED):
        for hit in pattern.finditer(line):
            value = hit.group("value").rstrip(".,;:)!?").strip("\"'“”‘’[]")
            if _REPLY_VALUE.match(hit.group("value")):
                continue  # "password [AUTHENTICATIONFAILED]": the server's words
            if _placed_secret(value) or _made_up(value):
                seen = True
                found.append(value)
    if _LOGIN_TALK.search(line):
        for word in _WORD.findall(line):
            value = word.rstrip(".,;:)!?").lstrip("(")
            if _looks_secret(value):
                seen = True
                found.append(value)
    if not seen:
        return None
    values = tuple(dict.fromkeys(found))
    return Disclosure(_redact(line, values) if values else line, values)


def _placed_secret(value: str) -> bool:
    """Where the line names it the password, any value with letters and a digit or a sign
    ("zq27@fakepw" too), six characters or more, that is no server reply."""
    return (len(value) >= 6 and value.lower() not in _NOT_A_VALUE and REDACTED not in value
            and bool(re.search(r"[A-Za-z]", value))
            and bool(re.search(r"\d", value) or _SIGN.search(value))
            and _REPLY_VALUE.match(value) is None)


def _made_up(value: str) -> bool:
    """A word of letters that is no English word nor one about the password ("hunterfakeyy")."""
    return (len(value) >= 5 and value.isalpha() and not value.isupper()
            and value.lower() not in _NOT_A_VALUE and not english_word(value.lower()))


# "my password is declined by Outlook", "is failing in Outlook", "is current": an English word
# that tells how the password fares (by its ending, or a preposition after it), not one.
_TELLING_ENDINGS = ("ed", "ing", "ly", "able", "ible", "ent", "ant", "ate", "ful", "ous", "ive")
_GOES_ON = re.compile(r"\s+(?:by|in|on|for|every|at|from|with|after|since|when|because)\b", re.I)


def _describes(value: str, rest: str) -> bool:
    word = value.lower()
    if not word.isalpha() or not english_word(word):
        return False
    return word.endswith(_TELLING_ENDINGS) or _GOES_ON.match(rest) is not None


def _looks_secret(value: str) -> bool:
    """Letters and a digit or a sign, six characters or more, and not a host name, an address,
    an error code or a word about the password ("Zebra7-x" is; "smtp.gmail.com", "0x800CCC0E",
    "535", "wrong" are not)."""
    if len(value) < 6 or value.lower() in _NOT_A_VALUE or REDACTED in value:
        return False
    if not re.search(r"[A-Za-z]", value) or not (re.search(r"\d", value) or _SIGN.search(value)):
        return False
    if _HOST_OR_CODE.match(value) or _REPLY_VALUE.match(value) or _ID.match(value):
        return False
    product = _PRODUCT.match(value)  # "Outlook2016", "Pixel7a", "iPhone15" (not "zqpass2024")
    return product is None or not (english_word(product[1].lower())
                                   or product[1].lower() in PRODUCTS)


def only_disclosure(line: str) -> bool:
    """True when a (redacted) line says nothing but the password ("pw: …", "my password
    is …"): no answer to read in it."""
    rest = _DISCLOSING.sub(" ", line)
    words = [w for w in re.findall(r"[a-z0-9']+", rest.lower()) if w not in _FILLER]
    return not words


_FILLER = frozenset({"my", "the", "e", "mail", "email", "account", "and", "it", "is", "here",
                     "s", "this", "that", "ok", "okay", "so", "btw", "oh", "by", "way", "fyi"})


def _counts_chars(line: str, end: int) -> bool:
    return bool(re.match(r"\s*(characters|chars|letters|digits|long)\b", line[end:], re.I))


def _redact(line: str, values: tuple[str, ...]) -> str:
    for value in sorted(values, key=len, reverse=True):
        line = line.replace(value, REDACTED)
    return scrub_text(line, values)


def redact_within(mapping: MutableMapping[str, str], secret: str) -> int:
    """Replace `secret` inside every value of `mapping` (a help desk's `message`, a slot
    read from the disclosing line); returns how many values changed."""
    changed = 0
    for key, value in list(mapping.items()):
        if isinstance(value, str) and secret in value:
            mapping[key] = value.replace(secret, REDACTED)
            changed += 1
    return changed


def matches(line: str, secrets: Iterable[str]) -> bool:
    """True when the line, trimmed, is one of the secrets."""
    text = line.strip()
    return bool(text) and any(text == s.strip() for s in secrets if s and s.strip())


def forget(secret: str, turns: list[Turn], slots: MutableMapping[str, str],
           history: list[Waypoint], context: MutableMapping[str, str]) -> int:
    """Redact every user turn equal to `secret` and drop every value equal to it from the
    slots, the go-back waypoints and the context. Returns how many places were cleaned."""
    cleaned = 0
    for index, turn in enumerate(turns):
        if turn.role is Role.USER and matches(turn.text or "", (secret,)):
            turns[index] = Turn.misplaced_secret()
            cleaned += 1
    for mapping in (slots, context):
        cleaned += _drop(mapping, secret)
    for index, point in enumerate(history):
        kept = dict(point.slots)
        if _drop(kept, secret):
            history[index] = dataclasses.replace(point, slots=kept)
            cleaned += 1
    return cleaned


def _drop(mapping: MutableMapping[str, str], secret: str) -> int:
    keys = [k for k, v in mapping.items() if matches(str(v), (secret,))]
    for key in keys:
        del mapping[key]
    return len(keys)
