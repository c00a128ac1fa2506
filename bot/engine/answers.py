"""Reading what people type: repair phrases, and answers validated and normalised by type."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from rapidfuzz.distance import DamerauLevenshtein

from bot.flows.model import ClientSteps
from bot.slots import clean_value

Repair = Literal["unknown", "back", "restart", "human"]
MAX_LINE = 2000  # characters of a line we read; the rest of a pasted log is ignored

_REPAIRS: dict[Repair, tuple[str, ...]] = {
    "unknown": (
        "i don't know", "i dont know", "dont know", "don't know", "do not know", "not sure",
        "no idea", "idk", "dunno", "no clue", "unknown", "i have no idea", "i'm not sure",
        "im not sure", "not certain", "no se", "keine ahnung", "je ne sais pas", "?", "??",
    ),
    "back": ("go back", "back", "previous", "undo", "previous question", "go back please"),
    "restart": ("start over", "restart", "start again", "begin again", "reset", "from the start"),
    "human": (
        "talk to a person", "talk to a human", "human", "agent", "person", "operator",
        "real person", "a person", "a human", "speak to a person", "speak to someone",
        "representative", "talk to someone", "human please", "agent please", "support agent",
        "talk to an agent", "speak to an agent", "speak to a human",
    ),
}
_REPAIR_INDEX = {phrase: kind for kind, phrases in _REPAIRS.items() for phrase in phrases}

_YES = frozenset({"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right",
                  "true", "affirmative", "certainly", "absolutely", "definitely", "please",
                  "si", "sí", "ja", "oui", "da", "👍", "✅", "yess", "yea", "ya", "go",
                  # a setting's state: "it's on", "enabled", "ticked"
                  "on", "enabled", "checked", "ticked", "yesss", "ofc", "indeed"})
_NO = frozenset({"no", "n", "nope", "nah", "false", "negative", "never", "not", "don't",
                 "dont", "nein", "non", "👎", "❌", "nö", "off", "disabled", "unchecked",
                 "unticked", "nop", "noo"})
_PROTOCOLS = {"pop": "pop3", "pop3": "pop3", "imap": "imap", "imap4": "imap", "imaps": "imap",
              "pop3s": "pop3", "pops": "pop3"}
# Mail apps label implicit TLS "SSL", "SSL/TLS" or "TLS/SSL", and STARTTLS "STARTTLS" or just
# "TLS" (Outlook), so a bare "tls" means STARTTLS.
_SECURITY = {
    "ssl": "ssl", "ssl/tls": "ssl", "tls/ssl": "ssl", "ssl tls": "ssl", "implicit": "ssl",
    "implicit tls": "ssl", "ssl/tls (implicit)": "ssl", "smtps": "ssl", "ssl tls encryption": "ssl",
    "starttls": "starttls", "start tls": "starttls", "tls": "starttls", "start-tls": "starttls",
    "starttls if available": "starttls", "explicit tls": "starttls",
    "none": "none", "no": "none", "off": "none", "plain": "none", "unencrypted": "none",
    "no encryption": "none", "never": "none", "plaintext": "none", "nothing": "none",
}
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "pop3": ("pop", "pop 3", "pop3"), "imap": ("imap", "imap4"),
    "ssl": ("ssl/tls", "ssl", "implicit tls"), "starttls": ("starttls", "start tls", "tls"),
    "none": ("none", "no encryption", "unencrypted"),
}
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)*"
                   r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def clean_line(text: str) -> tuple[str, bool]:
    """Printable text of at most MAX_LINE characters, cleaned as a slot value is
    (bot.slots.clean_value: no terminal control sequences, no control characters); True when
    it had to be shortened."""
    return clean_value(text[:MAX_LINE]), len(text) > MAX_LINE


def words_of(text: str) -> str:
    """Lower-case words without surrounding punctuation (for phrase lookups)."""
    text = text.lower().replace("’", "'")
    return " ".join(w.strip(".,!;:\"()[]") for w in text.split()).strip()


# A greeting or a bare call for help, in any order: "hi", "hello?", "can you help me".
_GREETING_WORDS = frozenset({
    "hi", "hello", "hey", "hiya", "howdy", "yo", "there", "help", "me", "please", "good",
    "morning", "afternoon", "evening", "anyone", "someone", "can", "could", "you", "i", "need",
    "some", "pls", "plz", "thanks", "hallo",
    # other languages' hellos: answered in English, which says what language deskbot speaks
    "hola", "bonjour", "salut", "ciao", "ola", "olá", "hej", "hei", "merhaba", "guten", "tag",
    "buenos", "dias", "días", "cześć", "hoi", "dag",
})


def is_greeting(text: str) -> bool:
    """The line only greets or asks for help ("hi", "hello?", "help me please"): no problem
    is told yet, so the customer is asked for one, with examples, and no miss is counted."""
    words = words_of(text).replace("?", " ").replace("!", " ").split()
    return bool(words) and all(w in _GREETING_WORDS for w in words)


def repair_of(text: str) -> Repair | None:
    """A global repair request ("I don't know", "go back", ...) or None."""
    words = words_of(text)
    if words in _REPAIR_INDEX:
        return _REPAIR_INDEX[words]
    stripped = words.removesuffix(" please").removeprefix("please ").strip()
    if stripped in _REPAIR_INDEX:
        return _REPAIR_INDEX[stripped]
    for phrase in ("talk to a person", "talk to a human", "speak to a person", "real person",
                   "speak to a human", "talk to an agent", "speak to someone"):
        if phrase in words:
            return "human"
    if words.startswith(("i don't know", "i dont know", "no idea", "not sure")):
        return "unknown"
    return None


def parse_yesno(text: str) -> str | None:
    """`yes`, `no` or None for anything else (or both)."""
    words = words_of(text).replace("n't", " not").split()
    yes = any(w in _YES for w in words[:3])
    no = any(w in _NO for w in words[:3])
    if words[:2] in (["of", "course"], ["go", "ahead"]) or words[:3] == ["i", "think", "so"]:
        yes = True
    if yes == no:
        return None
    return "yes" if yes else "no"


def parse_email(text: str) -> str | None:
    """The first e-mail address in the text, lower-cased."""
    found = _EMAIL.search(text)
    return found.group(0).lower().strip(".") if found else None


def parse_host(text: str) -> str | None:
    """A host name or IPv4 address: lower case, no scheme, port or trailing dot."""
    for token in words_of(text).split():
        token = re.sub(r"^[a-z]+://", "", token).split("/")[0].rstrip(".")
        token = token.rsplit(":", 1)[0] if token.count(":") == 1 else token
        if _IPV4.match(token) and all(int(p) < 256 for p in token.split(".")):
            return token
        if ("." in token or token == "localhost") and _HOST.match(token) and "@" not in token:
            return token
    return None


def parse_port(text: str) -> str | None:
    """A TCP port number 1-65535."""
    numbers = re.findall(r"\d+", text)
    if len(numbers) != 1 or not 0 < int(numbers[0]) < 65536:
        return None
    return str(int(numbers[0]))


def parse_security(text: str) -> str | None:
    """ssl, starttls or none, from the words mail apps use."""
    words = words_of(text)
    if words in _SECURITY:
        return _SECURITY[words]
    found: set[str] = set()
    for key in sorted((k for k in _SECURITY if len(k) > 2), key=len, reverse=True):
        if _inside(key, words):  # longest first: "ssl/tls" must not also count as "tls"
            found.add(_SECURITY[key])
            words = re.sub(rf"(?<!\w){re.escape(key)}(?!\w)", " ", words)
    return found.pop() if len(found) == 1 else None


def parse_protocol(text: str) -> str | None:
    """pop3 or imap."""
    found = {_PROTOCOLS[w] for w in re.split(r"[\s,/]+", words_of(text)) if w in _PROTOCOLS}
    if not found and "pop 3" in words_of(text):
        found = {"pop3"}
    return found.pop() if len(found) == 1 else None


# "both", "all of them", "1 and 2": every option offered, not one of them
_EVERY = frozenset({"both", "all", "each", "everything", "two"})
_ALONG = frozenset({  # words that may come with it: "yes, both of them please"
    "of", "them", "these", "those", "the", "problems", "issues", "things", "please", "yes",
    "well", "i", "have", "really", "actually", "and", "are", "is", "its", "it's", "above",
})


def parse_every(text: str, count: int) -> bool:
    """The customer picks every one of `count` options ("both", "all of them", "yes both",
    "1 and 2", "1, 2"), not one of them ("one of them")."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    numbers = {w for w in words if w.isdigit()}
    said = set(words) - numbers
    if not said <= _EVERY | _ALONG:
        return False
    if numbers:
        return numbers == {str(n) for n in range(1, count + 1)}
    return bool(said & _EVERY)


def parse_choice(text: str, choices: Sequence[tuple[str, str]]) -> str | None:
    """A choice in the customer's words: its number or an ordinal ("the first one", "2nd"),
    its value or label, any phrase of its label or of its synonyms (bot/data/choice-words.yaml),
    or the content words of its label, with light typos forgiven. None when no option, or
    more than one equally, fits."""
    words = words_of(text)
    if (index := _ordinal(words, len(choices))) is not None:
        return choices[index][0]
    for value, label in choices:
        if words in (value.lower(), words_of(label)) or words in _synonyms(value):
            return value
    repaired = _repair_typos(words, choices)
    spans = {v: _phrase_span(repaired, v, label) for v, label in choices}
    hits = {v: span for v, span in spans.items() if span is not None}
    if hits:
        # The longest phrase wins when it covers the others ("sending and receiving" → both);
        # options named side by side ("spam or relay") are no answer.
        best = max(hits, key=lambda v: hits[v][1] - hits[v][0])
        start, end = hits[best]
        if all(s >= start and e <= end for v, (s, e) in hits.items() if v != best):
            return best
        return None
    return _best(repaired, choices, _word_score)


_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4, "fifth": 5, "5th": 5, "one": 1, "two": 2, "three": 3, "four": 4}
_ORDINAL = re.compile(r"^(?:(?:the|option|number|no|choice|nr|#)\s*)*(\d+|[a-z0-9]+)"
                      r"(?:\s*(?:one|option|choice|\)|\.))?$")
_FILLER = frozenset({"the", "a", "an", "it", "its", "it's", "is", "says", "say", "said", "was",
                     "i", "my", "when", "or", "and", "of", "to", "for", "on", "in", "with",
                     "that", "this", "one", "just", "mostly", "like", "something", "am",
                     "error", "message", "bounce", "about", "/", "-", "server"})


def _ordinal(words: str, count: int) -> int | None:
    found = _ORDINAL.match(words.rstrip(")").lstrip("#").strip())
    if found is None:
        return None
    token = found.group(1)
    number = int(token) if token.isdigit() else _ORDINALS.get(token)
    if words.startswith("the last") or words == "last":
        number = count
    return number - 1 if number is not None and 1 <= number <= count else None


@cache
def _choice_words() -> dict[str, tuple[str, ...]]:
    text = resources.files("bot.data").joinpath("choice-words.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)["choices"]
    return {str(k): tuple(words_of(str(w)) for w in v) for k, v in data.items()}


def _synonyms(value: str) -> tuple[str, ...]:
    return _SYNONYMS.get(value, ()) + _choice_words().get(value, ())


def _phrases(value: str, label: str) -> tuple[str, ...]:
    parts = re.split(r"\s*(?:/|,|\(|\)|\bor\b)\s*", words_of(label))
    return tuple(p for p in (*parts, value.lower(), *_synonyms(value)) if p and p not in _FILLER)


def _phrase_span(words: str, value: str, label: str) -> tuple[int, int] | None:
    """Where the longest phrase of an option occurs in the words (None: nowhere)."""
    best: tuple[int, int] | None = None
    for phrase in _phrases(value, label):
        found = re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", words) if phrase else None
        if found and (best is None or found.end() - found.start() > best[1] - best[0]):
            best = (found.start(), found.end())
    return best


def _word_score(words: str, value: str, label: str) -> float:
    mine = {w for p in _phrases(value, label) for w in p.split()} - _FILLER
    return len(mine & set(words.split()))


def _best(words: str, choices: Sequence[tuple[str, str]],
          score: Callable[[str, str, str], float]) -> str | None:
    scored = sorted(((score(words, v, label), v) for v, label in choices), reverse=True)
    if not scored or scored[0][0] <= 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]


def _repair_typos(words: str, choices: Sequence[tuple[str, str]]) -> str:
    """Each word of five or more letters that is one edit (two from nine letters) from a word
    of the options, replaced by it ("recieving" → "receiving", "blacklsited" → "blacklisted")."""
    known = {w for v, label in choices for p in _phrases(v, label) for w in p.split()}
    out = []
    for word in words.split():
        if len(word) >= 5 and word.isalpha() and word not in known:
            limit = 2 if len(word) >= 9 else 1
            near = sorted((DamerauLevenshtein.distance(word, k, score_cutoff=limit), k)
                          for k in known if len(k) >= 5 and k[0] == word[0])
            near = [(d, k) for d, k in near if d <= limit]
            if near and (len(near) == 1 or near[0][0] < near[1][0]):
                word = near[0][1]
        out.append(word)
    return " ".join(out)


def _inside(phrase: str, words: str) -> bool:
    return bool(phrase) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", words) is not None


def parse_answer(
    kind: str, text: str, choices: Sequence[tuple[str, str]], clients: ClientSteps
) -> str | None:
    """The normalised answer for a question type, or None when the text is not one."""
    if not text.strip():
        return None
    if kind == "choice":
        if choices and {v for v, _ in choices} <= {"pop3", "imap"}:
            return parse_protocol(text) or parse_choice(text, choices)
        return parse_choice(text, choices)
    if kind == "client":
        if len(text.split()) <= 2 and parse_yesno(text) is not None:
            return None  # "yes" is not the name of a mail app
        return clients.resolve(text) or text.strip()[:80]
    if kind == "secret":
        return text
    if kind == "text":
        return text.strip()[:500]
    parser = {"email": parse_email, "yesno": parse_yesno, "host": parse_host,
              "port": parse_port, "security": parse_security, "protocol": parse_protocol}
    return parser[kind](text) if kind in parser else text.strip()


# The type each standard slot has when it arrives from --answers or a help desk's context.
SLOT_TYPES: dict[str, str] = {
    "email": "email", "client": "client", "incoming_protocol": "protocol",
    "incoming_server": "host", "outgoing_server": "host", "incoming_port": "port",
    "outgoing_port": "port", "incoming_security": "security", "outgoing_security": "security",
    "outgoing_auth": "yesno",
}


def store_value(slot: str, kind: str, value: str) -> str:
    """How a normalised answer is kept in its slot (yes/no as true/false for outgoing_auth)."""
    if kind == "yesno" and slot == "outgoing_auth":
        return "true" if value == "yes" else "false"
    return value


def label_value(kind: str, value: str) -> str:
    """The `on:` label a slot value takes (true/false answer a yes/no question)."""
    if kind == "yesno":
        return {"true": "yes", "false": "no"}.get(value, value)
    return value
