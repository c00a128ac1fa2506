"""Probe-report checks against the registry; the registry itself is `bot.registry`.

The registry (which probes a flow may name, their outcomes and guaranteed facts) moved to a
lower layer so flow validation needs no probe code; its names are re-exported here for code
written against the old place.
"""

from __future__ import annotations

from bot.probes.model import ProbeReport
from bot.probes.runners.base import unkept_facts
from bot.registry import INCONCLUSIVE, PROBES, ProbeInfo, check_probe, facts_table

__all__ = ["INCONCLUSIVE", "PROBES", "ProbeInfo", "check_probe", "facts_table", "unkept_promise"]


def unkept_promise(report: ProbeReport) -> str | None:
    """Why a report breaks what its outcome guarantees to fix texts, or None when it keeps it.

    The flow linter lets a fix text use the facts its outcome guarantees (and `{provider.X}`
    after `lookup_provider` → found); the tests hold every runner's reports to it.
    """
    missing = unkept_facts(report)
    if missing == ("provider",) and report.outcome == "found":
        return "outcome found without a provider"
    if missing:
        return f"outcome {report.outcome} without the fact(s) {', '.join(missing)}"
    return None
