"""The replay runner: a transcript's recorded probe results and providers, fed back in order.

Replay (bot.transcripts.replay) gives each transcript its own `ReplayRunner` through
`Engine.with_runner`: one loaded engine serves every transcript, and nothing is shared between
replays running at the same time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.probes.model import ProbeObserver, ProbeReport
from bot.probes.runners.base import ProbeCall, ProbeRunner, tell
from bot.probes.runners.recorded import fallback_outcome

if TYPE_CHECKING:
    from bot.catalog.catalog import Catalog
    from bot.catalog.model import Provider


@dataclass
class RecordedFeed:
    """The recorded probe reports of one transcript (with their turn numbers), in order.

    `problems` collects where the flow now asks for something else than the recording holds.
    """

    reports: Sequence[tuple[int, ProbeReport]]
    position: int = 0
    problems: list[str] = field(default_factory=list)

    def next_for(self, name: str) -> ProbeReport:
        """The next recorded report, which must be of probe `name` (else a stand-in)."""
        if self.position >= len(self.reports):
            self.problems.append(f"the flow now runs probe {name!r} after the last recorded one")
            return _stand_in(name)
        turn_no, report = self.reports[self.position]
        self.position += 1
        if report.name != name:
            self.problems.append(
                f"turn {turn_no}: the flow now runs probe {name!r} where the recording "
                f"ran {report.name!r}"
            )
            return _stand_in(name)
        return report


def _stand_in(name: str) -> ProbeReport:
    return ProbeReport(name=name, target="", outcome=fallback_outcome(name),
                       notes=("not recorded",))


class ReplayRunner:
    """Answers from one transcript: its recorded reports (`feed`) and its providers.

    `feed` None (`deskbot replay --live`): the probes run again through `inner`; providers the
    transcript recorded still answer look-ups for their domains, as when it was recorded.
    """

    label = "replay"

    def __init__(self, feed: RecordedFeed | None, providers: Mapping[str, Provider],
                 inner: ProbeRunner) -> None:
        self.feed = feed
        self.providers = {domain.lower(): p for domain, p in providers.items()}
        self.inner = inner

    async def run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
        *, call: ProbeCall,
    ) -> ProbeReport:
        if self.feed is None:
            return await self.inner.run(name, params, observer, call=call)
        return tell(observer, self.feed.next_for(name))

    def provider(self, email: str, catalogue: Catalog | None) -> Provider | None:
        recorded = self.providers.get(email.rpartition("@")[2].lower())
        return recorded if recorded is not None else self.inner.provider(email, catalogue)
