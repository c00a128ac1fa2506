"""Facts are enforced at run time: a runner that breaks what its outcome promises ends the
conversation in an honest handoff, through the real engine and the bundled flows.

The broken runner is scripted on purpose: no real probe produces a report that breaks the
diagnosis table's promise (test_facts_contract.py holds the live sweep to it).
"""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.errors import DeskbotError, RunnerFault
from bot.flows.bundled import default_flows_dir
from bot.probes.model import ProbeReport
from bot.probes.runners import RecordedProbeRunner, unkept_facts

TICKET = {"message": "I can't send email", "email": "ann@example.test", "client": "outlook",
          "outgoing_server": "smtp.example.test", "outgoing_port": "25",
          "outgoing_security": "none", "outgoing_auth": "true"}
SWEEP = {"configured_host": "smtp.example.test", "configured_port": "25",
         "configured_security": "none", "protocol": "smtp"}


class BrokenRunner(RecordedProbeRunner):
    """Reports `port_blocked` without the working port it promises (a buggy runner)."""


def _blocked(**facts: str) -> ProbeReport:
    return ProbeReport("check_outgoing", "smtp.example.test:25", "port_blocked",
                       diagnoses=("port_blocked",), facts=facts)


async def _talk(runner: RecordedProbeRunner):  # type: ignore[no-untyped-def]
    engine = Engine.load(default_flows_dir(), runner=runner)
    session = engine.start(TICKET)
    reply = await session.open()
    texts = [m.text for m in reply.messages]
    for _ in range(10):
        if reply.outcome is not None:
            break
        reply = await (session.finish() if reply.question is None else session.send("no"))
        texts += [m.text for m in reply.messages]
    return session, reply, "\n".join(texts)


async def test_a_runner_that_breaks_the_facts_promise_ends_in_an_honest_handoff() -> None:
    session, reply, text = await _talk(BrokenRunner([_blocked(**SWEEP)]))
    assert reply.outcome.status == "handoff"
    assert reply.outcome.diagnosis is None and reply.outcome.basis is None
    assert "(unknown)" not in text and "port_blocked" not in text
    assert "incomplete" in text  # the customer is told why, in words
    package = next(m.handoff for m in reply.messages if m.handoff is not None)
    assert "BrokenRunner" in package.reason
    assert "port_blocked" in package.reason
    assert "working_port" in package.reason and "working_security" in package.reason
    probe = next(t for t in session.turns if t.name == "check_outgoing")
    assert probe.report.outcome == "inconclusive"  # not recorded as evidence of the code


async def test_the_same_report_with_its_facts_resolves() -> None:
    """The control: the flow does resolve port_blocked when the runner keeps the promise."""
    good = _blocked(**SWEEP, working_port="587", working_security="starttls")
    _, reply, text = await _talk(RecordedProbeRunner([good]))
    assert reply.outcome.status == "resolved" and reply.outcome.diagnosis == "port_blocked"
    assert "587" in text and "(unknown)" not in text


def test_the_fault_is_typed_and_names_runner_code_and_facts() -> None:
    fault = RunnerFault("BrokenRunner", "check_outgoing", "port_blocked",
                        unkept_facts(_blocked(**SWEEP)))
    assert isinstance(fault, DeskbotError)
    assert fault.missing == ("working_port", "working_security")
    assert str(fault) == ("the BrokenRunner runner broke its promise: check_outgoing reported "
                          "port_blocked without working_port, working_security, which "
                          "port_blocked guarantees")


@pytest.mark.parametrize(("report", "missing"), [
    (ProbeReport("lookup_provider", "a@b.test", "found"), ("provider",)),
    (ProbeReport("lookup_provider", "a@b.test", "not_found"), ()),
    (ProbeReport("check_outgoing", "t", "inconclusive"), ()),
    (ProbeReport("check_outgoing", "t", "port_blocked", facts={**SWEEP,
                                                              "working_security": "ssl"}),
     ("working_port",)),
    (ProbeReport("check_incoming", "t", "ok", facts=SWEEP), ()),
    (ProbeReport("check_incoming", "t", "ok"), tuple(sorted(SWEEP))),
])
def test_what_a_report_owes(report: ProbeReport, missing: tuple[str, ...]) -> None:
    assert unkept_facts(report) == missing
