"""deskbot: an e-mail troubleshooter that runs real network probes to prove the cause.

The public API (docs/api.md): load flows into an `Engine`, `start` a `Session`, `send` it
what the customer types and read the `Reply`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from bot.config import Config  # after __version__: submodules read it
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
from bot.probes.model import Check, ProbeObserver, ProbeReport, ProbeRunner
from bot.probes.recorded import RecordedProbeRunner

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
