"""A probe runner that plays back recorded reports: for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.probes.model import ProbeObserver, ProbeReport
from bot.probes.runners.base import CatalogueProviders, ProbeCall, tell
from bot.registry import PROBES


def fallback_outcome(name: str) -> str:
    """The outcome meaning "no evidence" for a probe: `inconclusive`, or `not_found` for lookups."""
    info = PROBES.get(name)
    if info is None or "inconclusive" in info.outcomes:
        return "inconclusive"
    return "not_found" if "not_found" in info.outcomes else sorted(info.outcomes)[0]


class RecordedProbeRunner(CatalogueProviders):
    """Answers each `run(name)` with the next recorded report of that name.

    A name with no report left gets an `inconclusive` report, so a flow that asks for a
    probe nobody recorded still ends (and `missing` tells the caller which ones). Provider
    look-ups are the engine's catalogue's.
    """

    label = "recorded"

    def __init__(self, reports: Iterable[ProbeReport] = ()) -> None:
        self.reports: list[ProbeReport] = list(reports)
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.contexts: list[ProbeCall] = []
        self.missing: list[str] = []

    def add(self, report: ProbeReport) -> None:
        """Queue one more report."""
        self.reports.append(report)

    async def run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
        *, call: ProbeCall,
    ) -> ProbeReport:
        """The next recorded report for `name`; observers see its checks as if they ran."""
        self.calls.append((name, {k: v for k, v in params.items() if k != "password"}))
        self.contexts.append(call)
        for index, report in enumerate(self.reports):
            if report.name == name:
                del self.reports[index]
                break
        else:
            self.missing.append(name)
            report = ProbeReport(name, params.get("email", ""), fallback_outcome(name),
                                 notes=("no recorded result for this probe",))
        return tell(observer, report)
