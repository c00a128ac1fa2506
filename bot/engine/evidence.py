"""Evidence from the customer's computer: which check to repeat there, and going on with it.

In serve mode the probes run on the help desk's server; when such a check ends the conversation
in a handoff (the server cannot see the customer's network), `customer_check()` names the check
to repeat on the customer's computer. `take_evidence()` continues the conversation from that
probe node with the customer's report, as if the probe had just answered there, so the flow's
`vantage: server` branches now take their customer-side way (e.g. `port_blocked` proven).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from bot.catalog.model import Provider
from bot.engine import texts
from bot.engine.state import Phase
from bot.engine.transcript import Role, Turn
from bot.engine.values import Reply
from bot.errors import EngineError
from bot.probes.model import ProbeObserver, ProbeReport
from bot.probes.runners.base import LOCAL, ProbeCall

if TYPE_CHECKING:
    from bot.engine.walk import FlowWalk

    _Base = FlowWalk
else:
    _Base = object

CUSTOMER_CHECKS = frozenset({"check_outgoing", "check_incoming", "check_relay"})


@dataclass(frozen=True)
class CustomerCheck:
    """A check to repeat on the customer's computer, and where the flow stood when it ran."""

    probe: str
    params: Mapping[str, str]  # slot values without secrets (and without `vantage`)
    flow: str
    node: str
    stack: tuple[tuple[str, str], ...] = ()
    login: bool = False  # the flow tested a login: the customer may type the password locally
    report: ProbeReport | None = field(default=None, compare=False)  # the server's own report
    # the provider whose servers the check sweeps: the server's report's, else the session's
    # (a check the port policy skipped on the server reports none)
    provider: Provider | None = field(default=None, compare=False)


class CustomerEvidence(_Base):
    """The half of `Session` that takes a customer-side report (mixed into Session)."""

    _lock: asyncio.Lock

    def customer_check(self) -> CustomerCheck | None:
        """The server-side check whose handoff a customer-side run could settle, or None.

        Only when the conversation ended in a handoff right after a `check_*` probe that ran
        on the server (no user line since: "talk to a person" is not a question for probes).
        """
        if self.outcome is None or self.outcome.status != "handoff":
            return None
        for turn in reversed(self.turns):
            if turn.role is Role.USER:
                return None
            if turn.role is Role.PROBE:
                check = _check_of(turn, self.evidence)
                if check is None or check.provider is not None:
                    return check
                return replace(check, provider=self.engine.provider_for(check.params["email"]))
        return None

    async def take_evidence(self, check: CustomerCheck, report: ProbeReport,
                            observer: ProbeObserver | None = None, *,
                            call: ProbeCall = LOCAL) -> Reply:
        """Continue from `check`'s probe node with the customer's report (already validated
        by the caller: its targets are the check's, its outcome one the probe can give).
        `call`: the context of any further probe this turn runs."""
        async with self._lock:
            self._observer, self._call = observer, call
            try:
                self._reopen(check)
                node = self._node()
                if node.kind != "probe" or node.probe != check.probe:
                    raise EngineError(f"flow '{check.flow}' has no probe node '{check.node}' "
                                      f"for {check.probe}", flow_id=check.flow, node=check.node)
                self._bot("text", texts.CUSTOMER_EVIDENCE)
                if observer is not None:
                    for c in report.checks:
                        observer.check_finished(c)
                params = {**check.params, "vantage": "customer"}
                report = self._record_probe(node, params, report, "customer")
                from bot.engine.walk import _probe_label

                await self._advance(_probe_label(node, report))
            finally:
                self._observer, self._call = None, LOCAL
            return self._reply()

    def _reopen(self, check: CustomerCheck) -> None:
        self.outcome, self.question = None, None
        self.state.clear_offers()
        self.phase, self.misses = Phase.FLOW, 0
        self.current, self.node = check.flow, check.node
        self.stack = [(f, n) for f, n in check.stack]


def _check_of(turn: Turn, evidence: list[ProbeReport]) -> CustomerCheck | None:
    name, flow, node = turn.name, turn.flow, turn.node
    if name not in CUSTOMER_CHECKS or turn.vantage != "server" or not flow or not node:
        return None
    params = {k: v for k, v in turn.params.items() if k != "vantage"}
    if "@" not in params.get("email", ""):
        return None  # no address, no provider: nothing a customer-side run could check
    report = evidence[-1] if evidence and evidence[-1].name == name else None
    return CustomerCheck(name, params, flow, node, turn.stack, turn.login, report,
                         report.provider if report is not None else None)
