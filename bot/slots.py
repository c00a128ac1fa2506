"""Slot names (CONTRACT.md): the facts a conversation collects or a help desk passes in."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.errors import AnswersError

SLOT_NAMES: frozenset[str] = frozenset(
    {
        "message", "email", "username", "password", "client",
        "incoming_protocol", "incoming_server", "incoming_port", "incoming_security",
        "outgoing_server", "outgoing_port", "outgoing_security", "outgoing_auth",
    }
)
SECRET_SLOTS: frozenset[str] = frozenset({"password"})
MAX_VALUE_CHARS = 2000  # like a typed line (bot.engine.answers.MAX_LINE)


def clean_value(text: str) -> str:
    """A slot value as a typed line is cleaned: control characters (CR, LF, NUL, ESC...),
    lone surrogates and other non-characters become spaces, runs of spaces one, at most
    MAX_VALUE_CHARS. Secrets are not cleaned (a changed password would be a wrong one); the
    probes refuse to send one that cannot be a protocol line (bot.probes.wire)."""
    text = text[:MAX_VALUE_CHARS]
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
            out[name] = clean_value(value)
        elif isinstance(value, int) and abs(value) >= 10**18:
            raise AnswersError(f"{source}: slot {name} is a number too large to be a value")
        elif isinstance(value, int | float):
            out[name] = str(value)
        else:
            raise AnswersError(f"{source}: slot {name} must be a single value, not {value!r}")
    return out


def read_answers(path: str | Path) -> dict[str, str]:
    """Read an --answers YAML mapping of slot name to value."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnswersError(f"{path}: cannot read answers: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        # One line (CONTRACT.md): PyYAML's message spans several with a caret drawing.
        raise AnswersError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnswersError(f"{path}: answers must be a mapping of slot name to value")
    return normalize_slots(data, source=str(path))
