"""The dialogue engine: sessions walking the flows' shared state machines (docs/api.md)."""

from __future__ import annotations

from bot.engine.core import Engine
from bot.engine.session import Session
from bot.engine.state import ConversationState, Phase
from bot.engine.transcript import Role, Transcript, Turn
from bot.engine.values import (
    BotMessage,
    Choice,
    HandoffPackage,
    Headline,
    Outcome,
    Question,
    Reply,
    SettingsRow,
)

__all__ = [
    "BotMessage",
    "Choice",
    "ConversationState",
    "Engine",
    "HandoffPackage",
    "Headline",
    "Outcome",
    "Phase",
    "Question",
    "Reply",
    "Role",
    "Session",
    "SettingsRow",
    "Transcript",
    "Turn",
]
