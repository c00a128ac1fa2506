"""The plain-text form of a bot message: what plain chat prints and transcripts keep.

The one place message parts become text: a question's numbered choices, a fix's settings
table. Interfaces that lay messages out themselves (terminal, web) use the parts instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.engine import texts

if TYPE_CHECKING:
    from bot.engine.values import BotMessage, Choice, SettingsRow


def plain_text(message: BotMessage) -> str:
    """The message as plain text: its words, then its numbered choices or settings table."""
    question = message.question
    if message.kind == "question" and question is not None and question.type == "choice":
        return with_choices(message.body, question.choices)
    if message.kind in ("result", "handoff") and message.settings:
        table = f"{texts.SETTINGS_HEADER}\n{settings_table(message.settings)}"
        tail = f"\n\n{texts.HANDOFF_TAIL}"
        if message.kind == "handoff" and message.body.endswith(tail):
            # the agent's note closes a handoff: the table goes between the words and it
            return f"{message.body[: -len(tail)]}\n\n{table}{tail}"
        return f"{message.body}\n\n{table}"
    return message.body


def with_choices(prompt: str, choices: Sequence[Choice]) -> str:
    """A prompt followed by its numbered choices (numbers work as answers)."""
    if not choices:
        return prompt
    lines = [f"  {i}. {c.label}" for i, c in enumerate(choices, 1)]
    return "\n".join([prompt, *lines])


def settings_table(rows: Sequence[SettingsRow]) -> str:
    """The settings as one plain-text line per server."""
    return "\n".join(
        f"{r.side} ({r.protocol}): server {r.host}, port {r.port}, security {r.security}, "
        f"username {r.username}" for r in rows)
