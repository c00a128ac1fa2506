"""deskbot: an e-mail troubleshooter that runs real network probes to prove the cause.

The public API (docs/api.md): load flows into an `Engine`, `start` a `Session`, `send` it
what the customer types and read the `Reply`.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Config
    from bot.engine import (
        BotMessage,
        Choice,
        Engine,
        HandoffPackage,
        Outcome,
        Question,
        Reply,
        Session,
        SettingsRow,
    )
    from bot.errors import (
        AnswersError,
        ConfigError,
        DeskbotError,
        EngineError,
        FlowError,
        FlowProblem,
    )
    from bot.probes.model import Check, ProbeObserver, ProbeReport
    from bot.probes.runners import ProbeCall, ProbeRunner, RecordedProbeRunner

# Imported on first use, so `deskbot match` and `deskbot --help` do not pay for the engine.
_HOMES = {
    "Config": "bot.config",
    **dict.fromkeys(
        ("BotMessage", "Choice", "Engine", "HandoffPackage", "Outcome", "Question", "Reply",
         "Session", "SettingsRow"),
        "bot.engine",
    ),
    **dict.fromkeys(
        ("AnswersError", "ConfigError", "DeskbotError", "EngineError", "FlowError",
         "FlowProblem"),
        "bot.errors",
    ),
    **dict.fromkeys(("Check", "ProbeObserver", "ProbeReport"), "bot.probes.model"),
    **dict.fromkeys(("ProbeCall", "ProbeRunner", "RecordedProbeRunner"), "bot.probes.runners"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "AnswersError",
    "BotMessage",
    "Check",
    "Choice",
    "Config",
    "ConfigError",
    "DeskbotError",
    "Engine",
    "EngineError",
    "FlowError",
    "FlowProblem",
    "HandoffPackage",
    "Outcome",
    "ProbeCall",
    "ProbeObserver",
    "ProbeReport",
    "ProbeRunner",
    "Question",
    "RecordedProbeRunner",
    "Reply",
    "Session",
    "SettingsRow",
    "__version__",
]
