"""Probe-report checks against the registry; the registry itself is `bot.registry`.

The registry (which probes a flow may name, their outcomes and guaranteed facts) moved to a
lower layer so flow validation needs no probe code; its names are re-exported here for code
written against the old place.
"""

from __future__ import annotations

from bot.probes.model import ProbeReport
from bot.registry import INCONCLUSIVE, PROBES, ProbeInfo, check_probe, facts_table

__all__ = ["INCONCLUSIVE", "PROBES", "ProbeInfo", "check_probe", "facts_table", "unkept_promise"]


def unkept_promise(report: ProbeReport) -> str | None:
    """Why a report breaks what its outcome guarantees to fix texts, or None when it keeps it.

    The flow linter lets a fix text use the facts its outcome guarantees (and `{provider.X}`
    after `lookup_provider` → found); the tests hold every runner's reports to it.
    """
    info = PROBES.get(report.name)
    if info is None or report.outcome not in info.outcomes:
        return None
    missing = sorted(info.guaranteed_facts(report.outcome) - set(report.facts))
    if missing:
        return f"outcome {report.outcome} without the fact(s) {', '.join(missing)}"
    if report.name == "lookup_provider" and report.outcome == "found" and not report.provider:
        return "outcome found without a provider"
    return None
