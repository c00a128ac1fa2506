"""The error catalogue: texts mail apps and servers show → symptom, hypotheses, diagnosis.

Data in `bot/data/errors.yaml` (a help desk extends it), validated at load: a bad entry is a
`FlowError` whose problems read `FILE:LINE: message`. `ErrorCatalogue.find(text)` is pure:
the entries whose pattern occurs in the text, in the file's order (the first is the best
reading, so specific entries come before generic ones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.errors import FlowError, FlowProblem
from bot.ids import diagnosis_codes, symptom_ids
from bot.yamlguard import MAX_NODES, YamlProblem, expanded_size

# Slots an entry may fill: the flows' own choice slots and one CONTRACT slot.
ENTRY_SLOTS: Mapping[str, frozenset[str]] = {
    "failing_side": frozenset({"sending", "receiving", "both"}),
    "bounce_reason": frozenset({"relay", "spam", "recipient", "other"}),
    "incoming_protocol": frozenset({"pop3", "imap"}),
}
_REQUIRED = ("id", "pattern", "symptom", "hypotheses", "meaning", "source", "example")
_OPTIONAL = ("diagnosis", "slots")
MAX_SCAN = 4000  # characters of a line searched; a pasted log beyond that adds nothing


# What marks a quoted reply: an SMTP code, an enhanced status code, an Outlook/Windows code,
# an IMAP/POP3 response code, an app's error constant, or the words apps put around errors.
_REPLY_MARK = re.compile(r"\b[245]\d\d\b|\b[245]\.\d{1,3}\.\d{1,3}\b|0x[0-9a-f]{8}|"
                         r"\[[A-Z/-]{2,}\]|-ERR\b|\bNO \[|"
                         # an app's error constant or exception: SEC_ERROR_UNKNOWN_ISSUER,
                         # WSAETIMEDOUT, SSLHandshakeException, Java's PKIX, Go's x509
                         r"\b[A-Z]{2,}(?:_[A-Z]+){2,}\b|\bWSAE[A-Z]+\b|(?i:socket error:? ?\d{5})|"
                         r"\b[A-Z][A-Za-z]*Exception\b|\bPKIX\b|\bx509:|"
                         r"\bSMTP[A-Z][a-z][A-Za-z]+\b|"  # Python's smtplib errors
                         # POSIX errno names apps print (Node's ETIMEDOUT, ECONNREFUSED), and
                         # RFC 5530 response codes some apps show without their brackets
                         r"\bE(?:TIMEDOUT|CONNREFUSED|CONNRESET|CONNABORTED|HOSTUNREACH|NETUNREACH)\b|"
                         r"\bErrno -?\d+|\bWinError \d+|"  # Python's "[Errno 111] ..."
                         r"\b(?:AUTHENTICATIONFAILED|AUTHORIZATIONFAILED|OVERQUOTA)\b")
QUOTE_LENGTH = 32  # a match this long is an app's or server's sentence, not a description
QUOTE_MARKS = "\"'`“‘„‚«»"  # one of these just before a match: the customer quoted the app


@dataclass(frozen=True)
class ErrorEntry:
    """One catalogue entry (see the header of bot/data/errors.yaml)."""

    id: str
    pattern: re.Pattern[str]
    symptom: str
    hypotheses: tuple[str, ...]
    meaning: str
    source: str
    diagnosis: str | None = None
    slots: tuple[tuple[str, str], ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ErrorMatch:
    """An entry found in a text, with the matched words (the customer's own quote)."""

    entry: ErrorEntry
    quote: str
    length: int = 0  # characters the pattern matched
    in_quotes: bool = False  # the customer put quote marks right before it: the app's words

    @property
    def decisive(self) -> bool:
        """True when the text alone proves a diagnosis."""
        return self.entry.diagnosis is not None

    @property
    def quoted(self) -> bool:
        """True when this reads as a message an app or server showed, not the customer's own
        description: decisive wording, a code, or a long stretch of an app's own sentence
        ("552 5.2.2 Mailbox full" is a reply, "my mailbox is full" a description)."""
        return self.decisive or self.length >= QUOTE_LENGTH or self.coded or self.in_quotes

    @property
    def coded(self) -> bool:
        """True when the quote carries a reply or error code (550, 5.7.1, 0x800CCC0E, [IN-USE])."""
        return _REPLY_MARK.search(self.quote) is not None


class ErrorCatalogue:
    """The loaded entries; `find` is pure and deterministic."""

    def __init__(self, entries: Sequence[ErrorEntry]) -> None:
        self.entries = tuple(entries)
        # A literal pre-filter (as grep engines do): an entry's regex runs only when one of
        # the literal words every match must contain occurs in the lower-cased line, which
        # keeps a line at a few substring tests for most of the ~100 entries.
        self._needles = tuple(required_literals(e.pattern.pattern) for e in self.entries)
        # The last line read and what was found: the matcher asks twice per line (is it only
        # a pasted error? does it quote one?), and `find` is pure.
        self._last: tuple[str, tuple[ErrorMatch, ...]] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, text: str) -> tuple[ErrorMatch, ...]:
        """Every entry whose pattern occurs in `text`, best first (the file's order)."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        whole, text = text, text[:MAX_SCAN]
        lowered = text.lower()
        found: list[ErrorMatch] = []
        for entry, needles in zip(self.entries, self._needles, strict=True):
            if needles and not any(n in lowered for n in needles):
                continue
            hit = entry.pattern.search(text)
            if hit is not None:
                opened = text[max(0, hit.start() - 8) : hit.start()].rstrip()[-1:]
                found.append(ErrorMatch(entry, _quote(text, hit), hit.end() - hit.start(),
                                        bool(opened) and opened in QUOTE_MARKS))
        result = tuple(found)
        self._last = (whole, result)
        return result

    def best(self, text: str) -> ErrorMatch | None:
        """The best reading of `text`, or None when it holds no catalogued error."""
        found = self.find(text)
        return found[0] if found else None


def required_literals(pattern: str) -> tuple[str, ...]:
    """Lower-case literal words of which every match of `pattern` contains at least one: the
    longest plain run of each top-level alternative. Empty when some alternative has no run
    of 3 or more characters (then the regex always runs)."""
    needles: list[str] = []
    for alternative in _top_level_alternatives(pattern):
        run = _longest_literal(alternative)
        if len(run) < 3:
            return ()
        needles.append(run.lower())
    return tuple(needles)


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


_ESCAPED_LITERALS = frozenset(".[]()-+*?{}|^$\\/#:\"' ")
_QUANTIFIERS = frozenset("?*{")


def _longest_literal(alternative: str) -> str:
    """The longest run of characters that every match of this group-free stretch contains;
    groups, classes, `.` and quantified characters break a run."""
    best, run, depth, i, in_class = "", "", 0, 0, False
    while i < len(alternative):
        ch = alternative[i]
        literal: str | None = None
        if ch == "\\" and i + 1 < len(alternative):
            nxt = alternative[i + 1]
            literal = nxt if nxt in _ESCAPED_LITERALS else None
            i += 2
        else:
            if in_class:
                in_class = ch != "]"
            elif ch == "[":
                in_class = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "{" and depth == 0:
                i = alternative.find("}", i) if "}" in alternative[i:] else len(alternative)
            elif depth == 0 and ch not in ".^$+*?":
                literal = ch
            i += 1
        if literal is not None and i < len(alternative) and alternative[i] in _QUANTIFIERS:
            literal = None  # "s?" or "x{0,3}": not required
        if literal is None or depth > 0 or in_class:
            best, run = max(best, run, key=len), ""
        else:
            run += literal
    return max(best, run, key=len)


_CODE_BEFORE = re.compile(r"(?:\b\d{3}[ -](?:\d\.\d{1,3}\.\d{1,3}[ -])?|\b\d\.\d{1,3}\.\d{1,3} |"
                          r"-ERR |\b(?:NO|BAD) |\* |\[?(?:Errno -?|WinError )\d+\]? )$")
_SENTENCE_END = re.compile(r"\.(?=\s+[A-Z0-9(\[])|[\n\r]|\s+(?:and|but) I\b")


def _quote(text: str, hit: re.Match[str]) -> str:
    """The error as pasted: from the matched words (with the reply code just before them) to
    the end of its sentence, at most 160 characters (what the answer quotes back)."""
    start = hit.start()
    if code := _CODE_BEFORE.search(text[max(0, start - 20):start]):
        start -= len(code.group(0))
    stop = _SENTENCE_END.search(text, hit.end())
    quote = text[start:stop.start() if stop else len(text)].strip().rstrip(".")
    return quote if len(quote) <= 160 else quote[:157].rstrip() + "..."


@cache
def load_errors() -> ErrorCatalogue:
    """The bundled catalogue (bot/data/errors.yaml), loaded and validated once.

    Raises FlowError (problems as `errors.yaml:LINE: message`) when an entry is invalid.
    """
    text = resources.files("bot.data").joinpath("errors.yaml").read_text(encoding="utf-8")
    return parse_errors(text, "bot/data/errors.yaml")


def read_errors(path: str | Path) -> ErrorCatalogue:
    """A help desk's own catalogue file, validated like the bundled one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([FlowProblem(str(path), 1, f"cannot read file: {exc}")]) from exc
    return parse_errors(text, str(path))


def parse_errors(text: str, label: str) -> ErrorCatalogue:
    """Parse and validate catalogue YAML; every problem is reported, not only the first."""
    items, problems = _items(text, label)
    entries: list[ErrorEntry] = []
    seen: dict[str, int] = {}
    for item, line, key_lines in items:
        entry, found = _entry(item, line, label, key_lines)
        problems.extend(found)
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(FlowProblem(label, line, f"duplicate id '{entry.id}' "
                                                     f"(first at line {seen[entry.id]})"))
        seen.setdefault(entry.id, line)
        entries.append(entry)
    if problems:
        raise FlowError(problems)
    return ErrorCatalogue(entries)


Item = tuple[Any, int, dict[str, int]]  # an entry, its line, the line of each of its keys


def _items(text: str, label: str) -> tuple[list[Item], list[FlowProblem]]:
    """The `errors:` entries with their lines (safe YAML, alias bombs refused first)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None and expanded_size(root) > MAX_NODES:
            raise YamlProblem(1, f"YAML expands to more than {MAX_NODES} nodes; refused")
        data = yaml.safe_load(text)
    except YamlProblem as exc:
        raise FlowError([FlowProblem(label, exc.line, str(exc))]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise FlowError([FlowProblem(label, line, f"not valid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise FlowError([FlowProblem(label, 1, f"not valid YAML: {exc}")]) from exc
    nodes = _errors_node(root)
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list) or nodes is None:
        raise FlowError([FlowProblem(label, 1, "expected a top-level `errors:` list")])
    items: list[Item] = []
    for item, node in zip(data["errors"], nodes.value, strict=True):
        keys = {str(k.value): k.start_mark.line + 1 for k, _ in node.value} if isinstance(
            node, yaml.MappingNode) else {}
        items.append((item, node.start_mark.line + 1, keys))
    return items, []


def _errors_node(root: yaml.Node | None) -> yaml.SequenceNode | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value == "errors" and isinstance(value, yaml.SequenceNode):
            return value
    return None


def _entry(item: Any, line: int, label: str,
           key_lines: dict[str, int]) -> tuple[ErrorEntry | None, list[FlowProblem]]:
    if not isinstance(item, dict):
        return None, [FlowProblem(label, line, "an entry must be a mapping")]
    problems = [FlowProblem(label, line, msg) for msg in _shape_problems(item)]
    if problems:
        return None, problems
    name = str(item["id"])
    try:
        pattern = re.compile(str(item["pattern"]), re.IGNORECASE)
    except re.error as exc:
        return None, [FlowProblem(label, key_lines.get("pattern", line),
                                  f"entry '{name}': pattern is not a valid regex: {exc}")]
    entry = ErrorEntry(
        name, pattern, str(item["symptom"]), tuple(str(h) for h in item["hypotheses"]),
        str(item["meaning"]), str(item["source"]),
        str(item["diagnosis"]) if item.get("diagnosis") else None,
        tuple((str(k), str(v)) for k, v in (item.get("slots") or {}).items()), line,
    )
    problems = [FlowProblem(label, key_lines.get(key, line), f"entry '{name}': {msg}")
                for key, msg in _meaning_problems(entry, str(item["example"]))]
    return (entry if not problems else None), problems


def _shape_problems(item: Mapping[str, Any]) -> list[str]:
    out = [f"missing key '{k}'" for k in _REQUIRED if k not in item]
    out += [f"unknown key '{k}'" for k in item if k not in _REQUIRED + _OPTIONAL]
    for key in ("id", "pattern", "symptom", "meaning", "source", "example"):
        if key in item and (not isinstance(item[key], str) or not item[key].strip()):
            out.append(f"'{key}' must be non-empty text")
    if "hypotheses" in item and not isinstance(item["hypotheses"], list):
        out.append("'hypotheses' must be a list of diagnosis codes")
    if item.get("slots") is not None and not isinstance(item["slots"], dict):
        out.append("'slots' must be a mapping of slot to value")
    return out


def _meaning_problems(entry: ErrorEntry, example: str) -> list[tuple[str, str]]:
    codes = diagnosis_codes()
    out: list[tuple[str, str]] = []
    if entry.symptom not in symptom_ids():
        out.append(("symptom", f"unknown symptom id '{entry.symptom}'"))
    out += [("hypotheses", f"unknown diagnosis code '{h}'")
            for h in entry.hypotheses if h not in codes]
    if entry.diagnosis is not None and entry.diagnosis not in codes:
        out.append(("diagnosis", f"unknown diagnosis code '{entry.diagnosis}'"))
    if entry.diagnosis is not None and entry.diagnosis not in entry.hypotheses:
        out.append(("diagnosis", "the diagnosis must also be one of the hypotheses"))
    for slot, value in entry.slots:
        allowed = ENTRY_SLOTS.get(slot)
        if allowed is None:
            out.append(("slots", f"slot '{slot}' cannot be filled from an error text"))
        elif value not in allowed:
            out.append(("slots", f"{slot} cannot be '{value}' (one of {sorted(allowed)})"))
    if entry.pattern.search(example) is None:
        out.append(("example", "the example does not match the pattern"))
    if entry.pattern.search("") is not None:
        out.append(("pattern", "the pattern matches empty text"))
    return out


# Words of a customer's own story: a line with any of them is not only a pasted error, and
# the matcher reads it as a whole (the catalogue then only adds evidence in the engine).
_STORY_WORDS = frozenset({
    "i", "im", "i'm", "ive", "i've", "my", "me", "we", "our", "when", "keeps", "keep",
    "trying", "tried", "help", "please", "why", "how",
})
_WORD = re.compile(r"[a-z']+")


def error_symptom(text: str) -> str | None:
    """The symptom a quoted error in the line points at (the matcher's `errors` lookup), or
    None: what a customer pasted counts as evidence for its flow, their own words do not."""
    return next((m.entry.symptom for m in load_errors().find(text) if m.quoted), None)


def pasted_symptom(text: str) -> str | None:
    """The symptom of a line that is only a pasted error (the matcher's `pasted` lookup)."""
    found = pasted_error(text)
    return found.entry.symptom if found is not None else None


def pasted_error(text: str) -> ErrorMatch | None:
    """The best catalogue reading of a line that is ONLY a pasted error (no words of the
    customer's own story around it), else None."""
    lowered = text.lower().replace("’", "'")
    if any(word in _STORY_WORDS for word in _WORD.findall(lowered)):
        return None
    return next((m for m in load_errors().find(text) if m.quoted), None)
