"""Secrets whatever the dialogue does: a line equal to a password is never kept.

A customer may type their password where the bot did not ask for it (a dialogue out of step,
a misread answer, a paste into the wrong box). Whenever the session learns a secret, every
earlier user line equal to it is redacted, and any slot that holds it is dropped; a later line
equal to a known secret is redacted as it arrives. The transcript writer scrubs again on
writing (defence in depth); this keeps the live state, and so every session store, clean.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

# A user line withheld because it was a password typed where none was asked ("misplaced":
# replay feeds it back as the secret's placeholder; it answers no secret question).
REDACTED_TURN: dict[str, Any] = {"role": "user", "text": None, "redacted": True,
                                 "misplaced": True}


def matches(line: str, secrets: Iterable[str]) -> bool:
    """True when the line, trimmed, is one of the secrets."""
    text = line.strip()
    return bool(text) and any(text == s.strip() for s in secrets if s and s.strip())


def forget(secret: str, turns: list[dict[str, Any]], slots: MutableMapping[str, str],
           history: list[dict[str, Any]], context: MutableMapping[str, str]) -> int:
    """Redact every user turn equal to `secret` and drop every value equal to it from the
    slots, the go-back snapshots and the context. Returns how many places were cleaned."""
    cleaned = 0
    for index, turn in enumerate(turns):
        if turn.get("role") == "user" and matches(str(turn.get("text") or ""), (secret,)):
            turns[index] = dict(REDACTED_TURN)
            cleaned += 1
    for mapping in (slots, context, *(h.get("slots", {}) for h in history)):
        for key in [k for k, v in mapping.items() if matches(str(v), (secret,))]:
            del mapping[key]
            cleaned += 1
    return cleaned
