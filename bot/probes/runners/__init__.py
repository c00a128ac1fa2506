"""The probe runners, side by side behind one seam (`ProbeRunner`, base.py):

    base.py      ProbeRunner (the protocol), ProbeCall (per-call context), ProbeClock
    live.py      LiveProbeRunner: the real network (imported on first use: the network stack)
    recorded.py  RecordedProbeRunner: queued reports, for tests and benchmarks
    replay.py    ReplayRunner: one transcript's reports and providers, fed back in order
    safe.py      SafeRunner: the HTTP service's target and login limits around another runner
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.probes.runners.base import (
    LOCAL,
    CatalogueProviders,
    ProbeCall,
    ProbeClock,
    ProbeRunner,
    Vantage,
    unkept_facts,
)
from bot.probes.runners.recorded import RecordedProbeRunner, fallback_outcome
from bot.probes.runners.replay import RecordedFeed, ReplayRunner
from bot.probes.runners.safe import SafeRunner, SafetySettings

if TYPE_CHECKING:
    from bot.probes.runners.live import LiveProbeRunner

__all__ = [
    "LOCAL",
    "CatalogueProviders",
    "LiveProbeRunner",
    "ProbeCall",
    "ProbeClock",
    "ProbeRunner",
    "RecordedFeed",
    "RecordedProbeRunner",
    "ReplayRunner",
    "SafeRunner",
    "SafetySettings",
    "Vantage",
    "fallback_outcome",
    "unkept_facts",
]


def __getattr__(name: str) -> Any:
    if name == "LiveProbeRunner":  # the network stack (dnspython, ssl): only when probing
        return importlib.import_module("bot.probes.runners.live").LiveProbeRunner
    raise AttributeError(f"module 'bot.probes.runners' has no attribute {name!r}")
