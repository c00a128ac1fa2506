"""Slot extraction: what a customer's line says about their setup, in the CONTRACT's slots.

`extract(text, apps)` is pure: it reads one line (a first message, a later answer, a ticket's
`message`) and returns the slots it states with certainty, the ones it names with doubt
("port 25 or 26": both kept, to confirm with one short question), the facts the customer
states ("2-step verification is on"), and the catalogued error texts it quotes. It never
guesses a value that is not written in the line. Cost: a few regex passes (bench:
bench/questions_bench.py prints the p99 per line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from bot.reading.errors import ErrorMatch, load_errors

# Words that place a clause on one side of the mail flow.
_OUT = re.compile(r"\b(outgoing|smtp|sending|send|sends|sent|outbox|submission)\b")
_IN = re.compile(r"\b(incoming|imap|pop3?|receiving|receive|received|inbox|download\w*|"
                 r"check(ing)? (for )?(my |new |the )*(e-?)?mails?|new mail|get(ting)? (my )?mail|"
                 r"fetch\w*|sync\w*|refresh\w*)\b")
# "…asks for my password when I send": the moment a symptom shows names the failing side even
# without a failure word. Opening or starting the app counts as receiving: that is when mail
# apps check the incoming server (and ask for its password).
_WHEN = re.compile(r"\b(when(ever)?|every time|each time|while|as soon as)\s+"
                   r"(i\s+|it\s+|we\s+|the app\s+)?((try|want|go)(ing)?\s+to\s+|hit(ting)?\s+|"
                   r"click(ing)?\s+|press(ing)?\s+|tap(ping)?\s+)?(?P<what>.{0,40})")
_OPENING = re.compile(r"^(open|start|launch|load)\w*\b")
_FAIL = re.compile(
    r"\b(fail\w*|times? ?out|timed out|timeout|error\w*|not work\w*|(doesn|don|isn|won|can)'?t|"
    r"cannot|stuck|bounc\w*|reject\w*|refus\w*|broken|problems?|issues?|hangs?|keeps asking|"
    r"no longer|stopped|never)\b")
_OK = re.compile(r"\b(fine|works?|working|ok|okay|no problems?|good|normal(ly)?|all right)\b")
_HOST = re.compile(r"(?<![@\w./\\-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})"
                   r"(?::(\d{1,5}))?(?![\w@-])")
_PORT = re.compile(r"\bports?\s*(?:number\s*|is\s*|=\s*|:\s*)?(\d{1,5})"
                   r"(?:\s*(?:or|/|and|,)\s*(\d{1,5}))?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_USERNAME = re.compile(r"\buser ?name\s*(?:is|=|:)?\s*[\"'“]?([^\s\"'”,;]+@?[^\s\"'”,;]*)")
_CLAUSES = re.compile(r"[;!?\n]+|[,.](?=\s)|\s(?:but|while|whereas|though|although)\s")
_SECURITY = (  # longest first: "ssl/tls" must not also count as "tls"
    ("no encryption", "none"), ("not encrypted", "none"), ("unencrypted", "none"),
    ("without encryption", "none"), ("encryption none", "none"), ("security none", "none"),
    ("encryption off", "none"), ("ssl/tls", "ssl"), ("tls/ssl", "ssl"), ("starttls", "starttls"),
    ("start tls", "starttls"), ("secure connection", "ssl"), ("ssl", "ssl"), ("tls", "starttls"),
)
_PROTOCOLS = (("pop3", "pop3"), ("pop", "pop3"), ("imap", "imap"))
_OUT_PORTS = frozenset({"25", "465", "587", "2525", "26"})
_IN_PORTS = frozenset({"110", "995", "143", "993"})
# The first label of a server's name, as providers name them: a word, then digits or a
# hyphenated rest ("smtp", "smtp2", "smtp-mail", "mail-out", "pop3", "mx1").
_LABEL = re.compile(r"([a-z]+)(?:[0-9]*)(?:-([a-z0-9-]+))?")
_OUT_WORDS = frozenset({"smtp", "smtps", "smtpout", "outgoing", "send", "submission", "relay"})
_IN_WORDS = frozenset({"imap", "imaps", "pop", "pops", "incoming"})
_MAIL_WORDS = _OUT_WORDS | _IN_WORDS | {"mail", "mx", "exchange"}
# A dotted word ending so is a file ("send.sh", "smtplib.py"), not a server: these endings are
# country domains too, but a two-label name under them is no mail server a customer types.
_FILE_ENDINGS = frozenset({
    "sh", "py", "pl", "rb", "js", "php", "exe", "bat", "cmd", "ps1", "log", "txt", "cfg",
    "conf", "ini", "json", "yaml", "yml", "xml", "html", "htm", "pdf", "doc", "docx", "csv",
    "zip", "jar", "dll", "msi", "pst", "ost", "eml", "md",
})
# Stated facts: fact id → phrasings customers use (regexes on the lower-cased line).
FACTS: Mapping[str, re.Pattern[str]] = {
    "two_step_on": re.compile(
        r"\b(2|two)[- ]?(step|factor|fa)\b.{0,30}\b(on|enabled|active|turned on|set up)\b|"
        r"\b(enabled|turned on|have|use|set up)\b.{0,20}\b(2|two)[- ]?(step|factor)|\b2fa\b|mfa"),
    "webmail_works": re.compile(
        r"\b(web ?mail|the website|browser|online|on the web)\b.{0,40}\b(works?|fine|ok|can)\b|"
        r"\b(works?|fine|can log ?in|can sign ?in)\b.{0,40}\b(web ?mail|website|browser)\b"),
    "wifi_not_mobile": re.compile(
        r"\b(wi-?fi|home network)\b.{0,40}\b(but|not)\b.{0,30}"
        r"\b(mobile|cellular|4g|5g|lte|data)\b"),
    "mobile_not_wifi": re.compile(
        r"\b(mobile data|cellular|4g|5g|lte)\b.{0,40}\b(but|not)\b.{0,30}\b(wi-?fi|home)\b"),
    "app_password_tried": re.compile(
        r"\b(tried|used|created|generated|made|also|even)\b.{0,40}\bapp(lication)?[- ]"
        r"(specific )?password|app(lication)?[- ](specific )?password.{0,40}"
        r"\b(also |too |both |didn'?t work|doesn'?t work|failed|not work|no luck)"),
    "password_changed": re.compile(
        r"\b(changed|reset|updated|new)\b.{0,20}\bpassword\b|\bpassword\b.{0,20}\b(changed|reset)\b"),
    "new_device": re.compile(
        r"\bnew (computer|pc|laptop|phone|iphone|ipad|mac|macbook|android|device|tablet)\b|"
        r"\b(just )?(got|bought|switched to) a new\b"),
    "exchange": re.compile(r"\bexchange\b"),
}
_PLATFORMS = (
    ("windows 11", "Windows 11"), ("windows 10", "Windows 10"), ("windows", "Windows"),
    ("pc", "Windows"), ("laptop", "a laptop"), ("macbook", "Mac"), ("mac", "Mac"),
    ("iphone", "iPhone"), ("ipad", "iPad"), ("android", "Android"), ("samsung", "Android"),
)
# A clause that goes on about the same server: "port 25", "no encryption", "SSL".
_CONTINUES = re.compile(r"\s*(and |with |using |on )?(port|security|encryption|ssl|tls|starttls|"
                        r"no encryption|unencrypted|none|authentication|auth)\b")
# Aliases that also name an account or a service: an app only when no other app is named.
_AMBIGUOUS_APPS = frozenset({"gmail", "microsoft 365", "office 365", "outlook 365", "ios",
                             "android", "mac", "macos"})
_NOT_AN_APP = re.compile(r"^\s*(account|address|e-?mail address|mailbox|webmail|domain|tenant)")


_NAMED_ACCOUNT = re.compile(r"\b([a-z][a-z0-9&.-]{2,30}) (?:e-?mail )?account\b")
_MY_PROVIDER = re.compile(r"\bmy ([a-z][a-z0-9&.-]{2,30})(?: e-?mail| mail| webmail)?\b")
_NOT_PROVIDERS = frozenset({
    "own", "email", "e-mail", "mail", "new", "old", "work", "business", "personal", "password",
    "bounce", "phone", "computer", "laptop", "app", "account", "settings", "inbox", "outbox",
    "messages", "message", "server", "the", "main", "other", "second", "first", "school",
})


@dataclass(frozen=True)
class Extracted:
    """What one line states. `slots` are certain values (CONTRACT slot names plus the flows'
    `failing_side`); `doubtful` maps a slot to the values named for it (confirm, don't ask);
    `facts` maps a stated fact's id to "yes" (FACTS) or a short text (client_version,
    platform, provider_name)."""

    slots: dict[str, str] = field(default_factory=dict)
    doubtful: dict[str, tuple[str, ...]] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    errors: tuple[ErrorMatch, ...] = ()


def extract(text: str, apps: Mapping[str, str] = {}) -> Extracted:
    """Read one line. `apps` maps lower-case app aliases to client keys (flows/_clients.yaml).

    Shapes: slots hold normalised values (ports as digits, security ssl|starttls|none,
    protocol pop3|imap, host names lower case, failing_side sending|receiving|both).
    """
    lowered = text.lower().replace("’", "'")
    out = Extracted(errors=load_errors().find(text))
    if email := _EMAIL.search(text):
        out.slots["email"] = email.group(0).lower().strip(".")
    clauses = [c for c in _CLAUSES.split(lowered) if c and c.strip()]
    side: str | None = None
    for clause in clauses:  # "outgoing server X, port 25, no encryption": one side throughout
        side = _read_clause(clause, out, side)
    _failing_side(clauses, out)
    _protocol(lowered, out)
    _username(text, out)
    _app(lowered, apps, out)
    _facts(lowered, out)
    _from_errors(out)
    return out


def _side(clause: str, host: str | None = None, port: str | None = None) -> str | None:
    if host:
        words = _label_words(host)
        if words & _OUT_WORDS or "out" in words:
            return "outgoing"
        if words & _IN_WORDS or "in" in words:
            return "incoming"
    out, inc = bool(_OUT.search(clause)), bool(_IN.search(clause))
    if out != inc:
        return "outgoing" if out else "incoming"
    if port in _OUT_PORTS:
        return "outgoing"
    if port in _IN_PORTS:
        return "incoming"
    return None


def _read_clause(clause: str, out: Extracted, carried: str | None) -> str | None:
    """Fill what one clause states; returns the side it is about (carried to the next)."""
    side_of_clause = _side(clause) or (carried if _CONTINUES.match(clause) else None)
    for match in _HOST.finditer(clause):
        host, port = match.group(1), match.group(2)
        side = _side(clause, host, port)
        if side is None or not _looks_like_mail_host(clause, host):
            continue
        out.slots.setdefault(f"{side}_server", host)
        side_of_clause = side_of_clause or side
        if port and 0 < int(port) < 65536:  # "smtp.gmail.com:99999" names no port
            _put_port(out, side, (port,))
    for match in _PORT.finditer(clause):
        ports = tuple(p for p in match.groups() if p and 0 < int(p) < 65536)
        side = side_of_clause or _side(clause, port=ports[0] if ports else None)
        if side and ports:
            _put_port(out, side, ports)
            side_of_clause = side
    security = _security(clause)
    if security and side_of_clause:
        out.slots.setdefault(f"{side_of_clause}_security", security)
    return side_of_clause


def _label_words(host: str) -> frozenset[str]:
    """The words of a server name's first label ("smtp-mail" → smtp, mail; "smtplib" → none
    of the mail words: a word is the whole label but its digits and hyphenated rest)."""
    label = _LABEL.fullmatch(host.split(".", 1)[0])
    if label is None:
        return frozenset()
    return frozenset({label.group(1), *(label.group(2) or "").split("-")} - {""})


def _looks_like_mail_host(clause: str, host: str) -> bool:
    """A name the customer gives as their server, not a web address, a file ("send.sh",
    "smtplib.py") or their provider's."""
    labels = host.split(".")
    if len(labels) == 2 and labels[-1] in _FILE_ENDINGS:
        return False
    mailish = bool(_label_words(host) & _MAIL_WORDS)
    return mailish or "server" in clause or "host" in clause


def _put_port(out: Extracted, side: str, ports: tuple[str, ...]) -> None:
    slot = f"{side}_port"
    if slot in out.slots or slot in out.doubtful:
        return
    unique = tuple(dict.fromkeys(str(int(p)) for p in ports))
    if len(unique) == 1:
        out.slots[slot] = unique[0]
    else:
        out.doubtful[slot] = unique


_SECURITY_RX = tuple((re.compile(rf"(?<![\w/]){re.escape(w)}(?![\w/])"), v) for w, v in _SECURITY)
_SECURITY_ANY = re.compile(r"ssl|tls|encrypt|secure")


def _security(clause: str) -> str | None:
    if not _SECURITY_ANY.search(clause):
        return None
    found: set[str] = set()
    rest = f" {clause} "
    for pattern, value in _SECURITY_RX:
        if pattern.search(rest):
            found.add(value)
            rest = pattern.sub(" ", rest)
    return found.pop() if len(found) == 1 else None


def _failing_side(clauses: list[str], out: Extracted) -> None:
    fails: set[str] = set()
    for clause in clauses:
        if _OK.search(clause.replace("not work", "")):
            continue
        side = _when_side(clause)  # the moment it happens beats the clause's other words
        if side is None and not _FAIL.search(clause):
            continue
        side = side or _side(clause)
        if side == "both":
            fails |= {"outgoing", "incoming"}
            continue
        if side:
            fails.add(side)
        elif _OUT.search(clause) and _IN.search(clause):  # "can't send or receive"
            fails |= {"outgoing", "incoming"}
    if fails == {"outgoing"}:
        out.slots["failing_side"] = "sending"
    elif fails == {"incoming"}:
        out.slots["failing_side"] = "receiving"
    elif fails:
        out.slots["failing_side"] = "both"


def _when_side(clause: str) -> str | None:
    """The side a "when I send / when checking mail / when I open the app" phrase names
    (outgoing, incoming or both), or None."""
    for hit in _WHEN.finditer(clause):
        what = hit.group("what")
        if _OPENING.match(what):
            return "incoming"
        out, inc = bool(_OUT.search(what)), bool(_IN.search(what))
        if out or inc:
            return "both" if out and inc else ("outgoing" if out else "incoming")
    return None


def _protocol(lowered: str, out: Extracted) -> None:
    found = {value for word, value in _PROTOCOLS if re.search(rf"\b{word}\b", lowered)}
    if len(found) == 1:
        out.slots["incoming_protocol"] = found.pop()


def _username(text: str, out: Extracted) -> None:
    if found := _USERNAME.search(text):
        out.slots["username"] = found.group(1).strip(".")


def _app(lowered: str, apps: Mapping[str, str], out: Extracted) -> None:
    """The mail app by its longest alias in the line, unless the alias names an account
    ("my Gmail account", "Microsoft 365 account"); version and platform as facts."""
    best: tuple[int, str, int] | None = None
    for hit in _alias_rx(tuple(sorted(apps, key=len, reverse=True))).finditer(lowered):
        alias = hit.group(1)
        if _NOT_AN_APP.match(lowered[hit.end():]):
            continue
        rank = len(alias) + (0 if alias in _AMBIGUOUS_APPS else 100)
        if best is None or rank > best[0]:
            best = (rank, apps[alias], hit.end())
    if best is not None:
        out.slots["client"] = best[1]
        version = re.match(r"\s*(?:version\s*)?(\d[\d.]*)", lowered[best[2]:])
        if version:
            out.facts["client_version"] = version.group(1).rstrip(".")
    for word, label in _PLATFORMS:
        if re.search(rf"\b(on|with|from|using) (my |a |the |new )?{word}\b", lowered):
            out.facts["platform"] = label
            break


@cache
def _alias_rx(aliases: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of every alias, longest first (so "new outlook" beats "outlook")."""
    body = "|".join(re.escape(a) for a in aliases) or "(?!)"
    return re.compile(rf"(?<![\w@.])({body})(?![\w.])")


def _facts(lowered: str, out: Extracted) -> None:
    for fact, pattern in FACTS.items():
        if pattern.search(lowered):
            out.facts[fact] = "yes"
    named = _NAMED_ACCOUNT.search(lowered) or _MY_PROVIDER.search(lowered)
    if named and named.group(1) not in _NOT_PROVIDERS:
        out.facts["provider_name"] = named.group(1)


def _from_errors(out: Extracted) -> None:
    """A quoted error implies the side (a 535 is a sending login) and the bounce kind."""
    if not out.errors:
        return
    for slot, value in out.errors[0].entry.slots:
        out.slots.setdefault(slot, value)
