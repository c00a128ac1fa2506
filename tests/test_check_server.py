"""The one check sub-flow (flows/_check_server.yaml) ends every code its probe can report.

Probe results are played back (RecordedProbeRunner) with only the facts the diagnosis table
guarantees for the code, so a fix text that leans on anything more shows here. The six codes
of issue 12 are not produced by the probes yet; their fix texts are proven here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.diagnoses import Diagnosis, as_code, diagnosis
from bot.engine import Engine
from bot.probes.model import ProbeReport
from bot.probes.runners import RecordedProbeRunner
from bot.registry import PROBES
from tests.test_flows_dialogue import FLOWS, converse

EMAIL = "alice@centurylink.net"  # in the bundled catalogue
UNCATALOGUED = "alice@mail.x.test"  # a provider the catalogue does not know
SIDES = {
    "outgoing": {"message": "my emails are stuck in the outbox", "email": EMAIL,
                 "client": "Thunderbird", "password": "pw", "outgoing_server": "smtp.x.test",
                 "outgoing_port": "587", "outgoing_security": "starttls",
                 "outgoing_auth": "true"},
    "incoming": {"message": "I am not receiving any emails", "email": EMAIL,
                 "client": "Thunderbird", "password": "pw", "incoming_protocol": "imap",
                 "incoming_server": "imap.x.test", "incoming_port": "993",
                 "incoming_security": "ssl"},
}
# Who must act, in the customer's words, for the codes of issue 12.
WHO_ACTS = {
    "auth_app_password_required": "in your mail app instead of your normal password",
    "encryption_required": "In your app's",
    "too_many_connections": "administrator",
    "mailbox_over_quota": "larger limit",
    "sender_blocklisted": "ask your internet provider",
    "ipv6_path_broken": "ask your internet provider",
}
FAKE_FACTS = {"configured_host": "mail.x.test", "configured_port": "587",
              "configured_security": "none", "protocol": "smtp", "working_port": "465",
              "working_security": "ssl", "cert_names": "other.x.test",
              "accepted_username": "alice"}
_RUNNER = RecordedProbeRunner()


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    yield Engine.load(FLOWS, runner=_RUNNER)


def cases() -> Iterator[tuple[str, Diagnosis, str]]:
    for side in SIDES:
        # recommended_ok is no diagnosis (tests/test_honest_outcomes.py)
        for code in sorted(PROBES[f"check_{side}"].outcomes
                           - {"ok", "inconclusive", "recommended_ok"}):
            for email in (EMAIL, UNCATALOGUED):
                yield side, diagnosis(as_code(code)), email


@pytest.mark.parametrize(("side", "code", "email"), list(cases()))
async def test_every_reported_code_ends_in_its_fix(engine: Engine, side: str,
                                                   code: Diagnosis, email: str) -> None:
    facts = {k: v for k, v in FAKE_FACTS.items() if k in code.facts}
    provider = engine.provider_for(email)
    _RUNNER.reports = [ProbeReport(f"check_{side}", "mail.x.test:587", code.code, facts=facts,
                                   provider=provider)]
    session, replies = await converse(engine, {**SIDES[side], "email": email})
    assert session.outcome is not None
    results = [m for r in replies for m in r.messages if m.kind in ("result", "handoff")]
    assert results, [m.text for r in replies for m in r.messages]
    if session.outcome.status == "resolved":
        assert session.outcome.diagnosis == code.code
        assert results[-1].headline is not None and results[-1].headline.text == code.headline
    else:  # only a cause no setting of the customer's can fix is handed to a person
        assert code.code == "auth_mechanism_unsupported" and side == "incoming"
    if code.code in WHO_ACTS:
        assert WHO_ACTS[code.code] in results[-1].text
    said = [m.text for r in replies for m in r.messages]
    assert not [t for t in said if "(unknown)" in t]


async def test_the_plain_chat_shows_the_tables_headline(engine: Engine) -> None:
    import io

    from bot.interfaces.cmd_chat import plain_chat

    _RUNNER.reports = [ProbeReport("check_outgoing", "mail.x.test:587",
                                   "sender_blocklisted", facts=FAKE_FACTS)]
    out = io.StringIO()
    await plain_chat(engine, SIDES["outgoing"], io.StringIO(""), out)
    assert f"What's wrong: {diagnosis('sender_blocklisted').headline}\n" in out.getvalue()


async def test_http_json_and_the_handoff_package_carry_the_tables_headline(
        engine: Engine) -> None:
    from bot.interfaces.http.serialize import reply_json

    _RUNNER.reports = [ProbeReport("check_outgoing", "mail.x.test:587", "port_closed",
                                   facts=FAKE_FACTS)]
    _, replies = await converse(engine, SIDES["outgoing"])
    bodies = [m for r in replies for m in reply_json(r)["messages"] if m["kind"] == "result"]
    assert bodies[-1]["headline"] == diagnosis("port_closed").headline
    from bot.engine.handoff import build_package

    report = ProbeReport("check_outgoing", "mail.x.test:587", "port_blocked",
                         diagnoses=("port_blocked",), facts=FAKE_FACTS)
    package = build_package("outbox_stuck", "server vantage", {}, [report])
    assert package.to_dict()["headline"] == diagnosis("port_blocked").headline
