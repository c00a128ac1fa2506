"""The probe seam: the one interface through which the engine reaches the network.

Like an httpx transport: the engine hands every probe to a `ProbeRunner`, and the runners sit
side by side in this package (live: the real network; recorded: tests and benchmarks; replay:
a transcript's own results; safe: the HTTP service's limits around another runner). Each call
carries its context explicitly, as a `ProbeCall` argument (no ContextVars): which
conversation and client it is for, where it runs from, and the clock the service reports.

Provider look-ups go through the same seam (`provider`), so a replay answers them from the
transcript it replays without the engine knowing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from bot.probes.model import ProbeObserver, ProbeReport
from bot.registry import PROBES

if TYPE_CHECKING:
    from bot.catalog.catalog import Catalog
    from bot.catalog.model import Provider

Vantage = Literal["local", "server", "customer"]


@dataclass
class ProbeClock:
    """Seconds spent in probes during one turn (one per turn, added to by the runner): the
    service reports it in Server-Timing."""

    seconds: float = 0.0

    def add_since(self, started: float) -> None:
        """Add the time since `started` (a `time.perf_counter()` reading)."""
        self.seconds += time.perf_counter() - started


@dataclass(frozen=True)
class ProbeCall:
    """The context of one probe call, passed to `ProbeRunner.run` with it.

    `session`: the conversation's id ("-" outside the service); `client`: the address of the
    customer's connection ("-" outside the service: the login budget counts per client);
    `vantage`: where the probe runs from; `clock`: where the service adds probe time (None:
    nobody asks).
    """

    session: str = "-"
    client: str = "-"
    vantage: Vantage = "local"
    clock: ProbeClock | None = None


LOCAL = ProbeCall()  # a call from the command line: no conversation, no service


class ProbeRunner(Protocol):
    """The one seam to the network: live in normal use, recorded in replay and tests."""

    @property
    def label(self) -> str:
        """The runner's name in messages ("live", "replay", ...)."""
        ...

    async def run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
        *, call: ProbeCall,
    ) -> ProbeReport:
        """Run the named probe (bot.registry.PROBES) with slot values `params`."""
        ...

    def provider(self, email: str, catalogue: Catalog | None) -> Provider | None:
        """The provider of an address without touching the network: the runner's own answer
        (replay: the recorded one), else `catalogue`'s (the engine's, None when it has none)."""
        ...


class CatalogueProviders:
    """`provider()` for runners with no providers of their own: the engine's catalogue."""

    def provider(self, email: str, catalogue: Catalog | None) -> Provider | None:
        return catalogue.lookup(email) if catalogue is not None else None


def unkept_facts(report: ProbeReport) -> tuple[str, ...]:
    """What a report lacks of what its outcome promises, sorted; () when it keeps the promise.

    The promise is the diagnosis table's: a check probe's diagnosis outcome carries that
    diagnosis's guaranteed facts (and the sweep's), so `deskbot flows check` may let its fix
    text use them; `lookup_provider` → `found` carries the provider (`provider` when not).
    """
    info = PROBES.get(report.name)
    if info is None or report.outcome not in info.outcomes:
        return ()
    missing = sorted(info.guaranteed_facts(report.outcome) - set(report.facts))
    if report.name == "lookup_provider" and report.outcome == "found" and not report.provider:
        missing.append("provider")
    return tuple(missing)


def tell(observer: ProbeObserver | None, report: ProbeReport) -> ProbeReport:
    """Show a report's checks to the observer as if they ran now (played-back runners)."""
    if observer is not None:
        for check in report.checks:
            observer.check_started(check.probe, check.target)
            observer.check_finished(check)
    return report
