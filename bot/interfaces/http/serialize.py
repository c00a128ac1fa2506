"""Engine values (replies, messages, questions, outcomes, probe reports) as plain JSON."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from bot.slots import SECRET_SLOTS


def to_json(value: Any) -> Any:
    """A JSON-able copy: `to_dict()` when a value has one, dataclass fields otherwise."""
    # exact-type checks first: this runs for every field of every reply (measured hot path)
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is dict:
        return {str(k): to_json(v) for k, v in value.items() if k not in SECRET_SLOTS}
    if kind in (list, tuple):
        return [to_json(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_json(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items() if str(k) not in SECRET_SLOTS}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


def reply_json(reply: Any) -> dict[str, Any]:
    """The body of a turn: messages, outcome (null while the conversation goes on), question."""
    return {
        "messages": [message_json(m) for m in getattr(reply, "messages", ())],
        "outcome": to_json(getattr(reply, "outcome", None)),
        "question": to_json(getattr(reply, "question", None)),
    }


def message_json(message: Any) -> Any:
    """One message: `kind` and its plain `text` (as plain chat shows it), then its typed parts.

    `body` is the words alone (a prompt without its numbered choices, a fix without its
    settings table), so a page lays out `question.choices`, `headline`, `proof` and `settings`
    itself instead of reading them back out of `text`.
    """
    return to_json(message)  # BotMessage.to_dict: kind, text, then the parts
