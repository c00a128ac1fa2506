"""Secrets whatever the dialogue does: a line equal to a password is never kept.

A customer may type their password where the bot did not ask for it (a dialogue out of step,
a misread answer, a paste into the wrong box). Whenever the session learns a secret, every
earlier user line equal to it is redacted, and any slot that holds it is dropped; a later line
equal to a known secret is redacted as it arrives. The transcript writer scrubs again on
writing (defence in depth); this keeps the live state, and so every session store, clean.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, MutableMapping

from bot.engine.state import Waypoint
from bot.engine.transcript import Role, Turn


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
