"""Customer-side evidence in the engine (bot/engine/evidence.py), on the bundled flows with
recorded reports (no network: the live path is tests/test_probelink.py): which check a
customer could settle, continuing from it, and the handoff package carrying both vantages."""

from __future__ import annotations

from bot.catalog.model import Provider, ServerSettings
from bot.engine import Engine, Role
from bot.flows.bundled import default_flows_dir
from bot.probes.model import Check, ProbeReport
from bot.probes.runners import RecordedProbeRunner

SMTP = "smtp.example.test"
PROVIDER = Provider("example.test", "Example Mail", ("example.test",), (), (
    ServerSettings("smtp", SMTP, 587, "starttls"), ServerSettings("smtp", SMTP, 465, "ssl")))
CONTEXT = {"email": "ann@example.test", "client": "Thunderbird", "outgoing_server": SMTP,
           "outgoing_port": "587", "outgoing_security": "starttls", "outgoing_auth": "true",
           "message": "my mail is stuck in the outbox"}


def outgoing(outcome: str, *checks: Check, **facts: str) -> ProbeReport:
    return ProbeReport("check_outgoing", f"{SMTP}:587", outcome, checks,
                       (outcome,) if outcome not in ("ok", "inconclusive") else (),
                       {"configured_host": SMTP, "configured_port": "587", **facts}, PROVIDER)


async def handed_off() -> tuple[Engine, dict[str, object]]:
    """A server-vantage conversation that ended in a handoff after a healthy sweep."""
    ok = outgoing("ok", Check("tcp", f"{SMTP}:587", "ok", "connected"))
    engine = Engine.load(default_flows_dir(), runner=RecordedProbeRunner([ok]),
                         vantage="server")
    session = engine.start(CONTEXT)
    reply = await session.open()
    while reply.outcome is None:
        reply = await session.send("no")
    assert reply.outcome.status == "handoff"
    return engine, session.to_dict()


async def test_a_server_handoff_names_the_check_and_customer_evidence_proves_the_cause() -> None:
    engine, state = await handed_off()
    session = engine.with_vantage("customer").restore(state)
    check = session.customer_check()
    assert check is not None and check.probe == "check_outgoing"
    assert check.params["outgoing_port"] == "587" and "vantage" not in check.params
    blocked = outgoing("port_blocked", Check("tcp", f"{SMTP}:587", "fail", "filtered",
                                             "port_blocked", 1000.0, "filtered"),
                       Check("tcp", f"{SMTP}:465", "ok", "connected"),
                       working_port="465", working_security="ssl")
    reply = await session.take_evidence(check, blocked)
    assert reply.outcome is not None
    assert (reply.outcome.status, reply.outcome.diagnosis) == ("resolved", "port_blocked")
    assert "port 465" in reply.messages[-1].text
    probes = [t for t in session.turns if t.role is Role.PROBE]
    assert [p.vantage for p in probes] == ["server", "customer"]
    assert session.customer_check() is None  # resolved: nothing left to ask the customer


async def test_an_unsettled_customer_run_hands_off_with_both_vantages() -> None:
    engine, state = await handed_off()
    session = engine.with_vantage("customer").restore(state)
    check = session.customer_check()
    assert check is not None
    reply = await session.take_evidence(check, outgoing("inconclusive"))
    assert reply.outcome is not None and reply.outcome.status == "handoff"
    (package,) = [m.handoff for m in reply.messages if m.handoff is not None]
    assert [p["vantage"] for p in package.probes] == ["server", "customer"]


async def test_no_check_to_repeat_after_the_customer_spoke_or_without_a_probe() -> None:
    engine, state = await handed_off()
    session = engine.restore(state)
    await session.send("thanks")  # a line after the end: not a question for probes
    assert session.customer_check() is None
    fresh = engine.start({})
    await fresh.open()
    assert fresh.customer_check() is None
    # in the terminal chat the probes already ran on the customer's computer
    local = Engine.load(default_flows_dir(), runner=RecordedProbeRunner())
    session = local.start(CONTEXT)
    reply = await session.open()
    while reply.outcome is None:
        reply = await session.send("no")
    assert session.customer_check() is None
