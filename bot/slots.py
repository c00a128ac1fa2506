"""Slot names (CONTRACT.md): the facts a conversation collects or a help desk passes in."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.errors import AnswersError
from bot.files import UnreadableFile, read_text_bounded
from bot.yamlguard import MAX_NODES, YamlProblem, expanded_size

SLOT_NAMES: frozenset[str] = frozenset(
    {
        "message", "email", "username", "password", "client",
        "incoming_protocol", "incoming_server", "incoming_port", "incoming_security",
        "outgoing_server", "outgoing_port", "outgoing_security", "outgoing_auth",
    }
)
SECRET_SLOTS: frozenset[str] = frozenset({"password"})
ONE_WORD: dict[str, str] = {"email": "e-mail address", "incoming_server": "server name",
                            "outgoing_server": "server name"}
MAX_ANSWERS_BYTES = 64 * 1024
MAX_VALUE_CHARS = 2000  # like a typed line (bot.engine.answers.MAX_LINE)


# A terminal's control sequence pasted with a line (ECMA-48: a CSI such as a colour,
# "\x1b[31m"; an OSC title or link ending in BEL or ST; any other escape such as the
# character-set choice "\x1b(B" that `tput sgr0` prints): none of it is the customer's words.
TERMINAL_ESCAPE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                             r"|\x1b[ -/]*[0-~]")


def clean_value(text: str) -> str:
    """A slot value as a typed line is cleaned: terminal control sequences go, control
    characters (CR, LF, NUL, ESC...), lone surrogates and other non-characters become spaces,
    runs of spaces one, at most MAX_VALUE_CHARS. Secrets are not cleaned (a changed password
    would be a wrong one); the probes refuse to send one that cannot be a protocol line
    (bot.probes.wire)."""
    text = TERMINAL_ESCAPE.sub("", text[:MAX_VALUE_CHARS])
    kept = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(kept.split())


def normalize_slots(values: Mapping[str, Any], *, source: str = "answers") -> dict[str, str]:
    """Slot values as strings; unknown names are refused with a message naming them."""
    unknown = sorted(set(values) - SLOT_NAMES)
    if unknown:
        known = ", ".join(sorted(SLOT_NAMES))
        raise AnswersError(f"{source}: unknown slot(s) {', '.join(unknown)}; known: {known}")
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, str) and name in SECRET_SLOTS:
            out[name] = value
        elif isinstance(value, str):
            out[name] = _checked(name, value, source)
        elif isinstance(value, int) and abs(value) >= 10**18:
            raise AnswersError(f"{source}: slot {name} is a number too large to be a value")
        elif isinstance(value, int | float):
            out[name] = str(value)
        else:
            kind = type(value).__name__
            raise AnswersError(f"{source}: slot {name} must be a single value, not a {kind}")
    return out


def _checked(name: str, value: str, source: str) -> str:
    """A value cleaned like a typed line; an address or a server name that cleaning leaves as
    several words is refused ("imap.example.test\r\nA1 LOGIN x" would otherwise become a look-up
    of "imap.example.test A1 LOGIN x")."""
    cleaned = clean_value(value)
    if name in ONE_WORD and " " in cleaned:
        raise AnswersError(f"{source}: slot {name} must be one {ONE_WORD[name]}, not "
                           f"{cleaned[:80]!r}")
    return cleaned


def read_answers(path: str | Path) -> dict[str, str]:
    """Read an --answers YAML mapping of slot name to value: a regular UTF-8 file of at most
    MAX_ANSWERS_BYTES whose aliases expand to at most yamlguard.MAX_NODES nodes (an alias bomb
    of 300 bytes must not become a gigabyte)."""
    path = Path(path)
    try:
        data = _safe_yaml(read_text_bounded(path, MAX_ANSWERS_BYTES))
    except UnreadableFile as exc:
        raise AnswersError(f"{path}: cannot read answers: {exc}") from exc
    except yaml.YAMLError as exc:
        # One line (CONTRACT.md): PyYAML's message spans several with a caret drawing.
        raise AnswersError(f"{path}: not valid YAML: {' '.join(str(exc).split())}"[:300]) from exc
    except (ValueError, RecursionError, YamlProblem) as exc:
        raise AnswersError(f"{path}: not usable answers: {str(exc)[:120]}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise AnswersError(f"{path}: answers must be a mapping of slot name to value")
    return normalize_slots(data, source=str(path))


def _safe_yaml(text: str) -> object:
    """yaml.safe_load, refusing an alias bomb before anything is constructed."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node) > MAX_NODES:
            raise ValueError(f"YAML expands to more than {MAX_NODES} nodes (an alias bomb?)")
        return loader.construct_document(node)
    finally:
        loader.dispose()
