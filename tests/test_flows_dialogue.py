"""How the bundled flows talk: consent before a password, per-client steps, the catalogue's real
settings in fixes, "I don't know" answers, and the server vantage. Probe results are played
back (RecordedProbeRunner), so these run in milliseconds; tests/test_flows_diagnoses.py proves
the same flows against real servers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from bot.engine import Engine, Reply, Session
from bot.probes.model import ProbeReport
from bot.probes.runners import RecordedProbeRunner

FLOWS = Path(__file__).resolve().parent.parent / "flows"
EMAIL = "alice@centurylink.net"  # in the bundled catalogue: smtp.centurylink.net:587 STARTTLS
CLIENT_SETTINGS = {
    "outgoing_server": "smtp.centurylink.net", "outgoing_port": "587",
    "outgoing_security": "starttls", "outgoing_auth": "true",
}
# What every check report carries (the sweep's facts) and what port_blocked promises.
FACTS = {"configured_host": "smtp.centurylink.net", "configured_port": "25",
         "configured_security": "none", "protocol": "smtp",
         "working_port": "587", "working_security": "starttls"}


_RUNNER = RecordedProbeRunner()
MakeEngine = Callable[..., Engine]


@pytest.fixture(scope="module")
def shared() -> Engine:
    """One engine for the module (loading flows and the matcher is the slow part)."""
    return Engine.load(FLOWS, runner=_RUNNER)


@pytest.fixture
def engine(shared: Engine) -> Iterator[MakeEngine]:
    """Queue the probe results a conversation will get, and set the vantage."""

    def make(outcomes: Iterable[tuple[str, str]], vantage: str = "local") -> Engine:
        # a lookup that found the provider carries it (the catalogue's, for EMAIL)
        found = shared.provider_for(EMAIL)
        _RUNNER.reports = [ProbeReport(name, "target", outcome, facts=FACTS,
                                       provider=found if outcome == "found" else None)
                           for name, outcome in outcomes]
        _RUNNER.calls.clear()
        shared.vantage = vantage  # type: ignore[assignment]
        return shared

    yield make
    shared.vantage = "local"


async def converse(eng: Engine, context: Mapping[str, str], lines: Iterable[str] = ()
                   ) -> tuple[Session, list[Reply]]:
    session = eng.start(context)
    replies = [await session.open()]
    for line in lines:
        replies.append(await session.send(line))
    replies.append(await session.finish())
    return session, replies


def bot_text(replies: Iterable[Reply]) -> str:
    return "\n".join(m.text for r in replies for m in r.messages)


def outbox(**slots: str) -> dict[str, str]:
    return {"message": "my emails are stuck in the outbox", "email": EMAIL, **slots}


async def test_login_is_tested_only_after_consent_password_not_kept(engine: MakeEngine) -> None:
    eng = engine([("check_outgoing", "ok")])
    session, replies = await converse(
        eng, outbox(client="Thunderbird", **CLIENT_SETTINGS),
        ["yes", "alice@centurylink.net", "Tr0ub4dor&3"])
    questions = [r.question for r in replies if r.question is not None]
    assert [q.slot for q in questions] == ["login_consent", "username", "password"]
    assert questions[-1].secret
    assert session.outcome is not None and session.outcome.diagnosis == "ok"
    assert "accepts your login" in bot_text(replies)
    saved = json.dumps(session.to_dict())
    transcript = json.dumps(session.transcript().to_dict())
    assert "Tr0ub4dor&3" not in saved and "Tr0ub4dor&3" not in transcript


async def test_no_consent_means_no_password_question(engine: MakeEngine) -> None:
    eng = engine([("check_outgoing", "ok")])
    session, replies = await converse(eng, outbox(client="Thunderbird", **CLIENT_SETTINGS), ["no"])
    assert all(not (r.question and r.question.secret) for r in replies)
    assert session.outcome is not None and session.outcome.diagnosis == "ok"
    assert "I did not test your password" in bot_text(replies)


@pytest.mark.parametrize(("client", "words"), [
    ("Outlook 2016", "File > Account Settings > Server Settings"),
    ("new outlook", "Settings (gear) > Accounts > Email accounts"),
    ("tbird", "Outgoing Server (SMTP)"),
    ("mac mail", "Mail > Settings > Accounts"),
    ("my iPhone", "Account > SMTP"),
    ("gmail app on android", "Outgoing settings"),
    ("Windows 10 Mail", "Advanced mailbox settings"),
    ("Eudora", "find the outgoing (SMTP) server"),
])
async def test_fix_gives_the_clients_own_clicks(
    engine: MakeEngine, client: str, words: str
) -> None:
    eng = engine([("check_outgoing", "smtp_auth_required")])
    session, replies = await converse(eng, outbox(client=client, password="pw", **CLIENT_SETTINGS))
    assert session.outcome is not None and session.outcome.diagnosis == "smtp_auth_required"
    assert words in bot_text(replies)


async def test_fix_names_the_providers_real_servers(engine: MakeEngine) -> None:
    eng = engine([("check_outgoing", "port_blocked")])
    session, replies = await converse(
        eng, outbox(client="Thunderbird", password="pw", **{**CLIENT_SETTINGS,
                                                          "outgoing_port": "25"}))
    text = bot_text(replies)
    assert session.outcome is not None and session.outcome.diagnosis == "port_blocked"
    assert "Port 25 does not answer" in text
    assert "port 587 with security STARTTLS" in text
    assert "smtp.centurylink.net" in text and "(unknown)" not in text


async def test_unknown_settings_are_left_to_the_catalogue(engine: MakeEngine) -> None:
    eng = engine([("check_outgoing", "ok")])
    runner = eng.runner
    assert isinstance(runner, RecordedProbeRunner)
    session, replies = await converse(eng, outbox(client="Thunderbird"), ["I don't know", "no"])
    assert session.outcome is not None and session.outcome.status == "resolved"
    name, params = runner.calls[0]
    assert name == "check_outgoing" and "outgoing_server" not in params
    assert "recommended settings" in bot_text(replies)


@pytest.mark.parametrize("outcome", ["port_blocked", "server_unreachable", "ok"])
async def test_server_vantage_offers_a_local_probe(engine: MakeEngine, outcome: str) -> None:
    eng = engine([("check_outgoing", outcome)], vantage="server")
    session, replies = await converse(eng, outbox(client="Outlook", password="pw",
                                                  **CLIENT_SETTINGS))
    assert session.outcome is not None and session.outcome.status == "handoff"
    assert f"deskbot probe {EMAIL}" in bot_text(replies)


async def test_local_vantage_concludes_port_blocked(engine: MakeEngine) -> None:
    eng = engine([("check_outgoing", "port_blocked")])
    session, _ = await converse(eng, outbox(client="Outlook", password="pw", **CLIENT_SETTINGS))
    assert session.outcome is not None and session.outcome.status == "resolved"


@pytest.mark.parametrize(("protocol", "words"), [
    ("pop3", "Leave a copy of messages on the server"),
    ("imap", "another device"),
])
async def test_missing_mail_leads_to_leave_a_copy_or_imap(
    engine: MakeEngine, protocol: str, words: str
) -> None:
    """Input 10: "Advice-only endings (e.g. 'leave a copy on the server' explained, nothing
    probed) record `diagnosis: ok`. diagnoses.yaml: no evidence, no code (null)." """
    eng = engine([("check_incoming", "ok")])
    context = {"message": "emails disappear from my phone after my computer downloads them",
               "email": EMAIL, "client": "Outlook 2019", "incoming_protocol": protocol}
    session, replies = await converse(eng, context)
    assert session.symptom == "missing_on_other_devices"
    # IMAP needs only advice (nothing probed): no evidence, no code (issue 12, input 10)
    expected = "ok" if protocol == "pop3" else None
    assert session.outcome is not None and session.outcome.diagnosis == expected
    assert words in bot_text(replies)


async def test_account_setup_gives_the_settings_and_tests_them_on_yes(engine: MakeEngine) -> None:
    eng = engine([("lookup_provider", "found"), ("check_incoming", "ok"),
                  ("check_outgoing", "ok")])
    context = {"message": "what are the correct settings to set up my email account",
               "email": EMAIL, "client": "iPhone"}
    session, replies = await converse(eng, context, ["yes", "no"])
    text = bot_text(replies)
    assert session.outcome is not None and session.outcome.diagnosis == "ok"
    assert "smtp.centurylink.net, port 587" in text
    assert "Both servers answer" in text and "Add Mail Account" in text
    runner = eng.runner
    assert isinstance(runner, RecordedProbeRunner)
    assert [c[0] for c in runner.calls] == ["lookup_provider", "check_incoming",
                                            "check_outgoing"]


async def test_account_setup_without_the_test_gives_the_settings(engine: MakeEngine) -> None:
    eng = engine([("lookup_provider", "found")])
    context = {"message": "what are the correct settings to set up my email account",
               "email": EMAIL, "client": "Thunderbird"}
    session, replies = await converse(eng, context, ["no"])
    # the settings were given, nothing was tested: advice only, so no diagnosis (input 10)
    assert session.outcome is not None and session.outcome.status == "resolved"
    assert session.outcome.diagnosis is None
    assert "Configure manually" in bot_text(replies)


async def test_account_setup_tests_the_settings_when_input_ends(engine: MakeEngine) -> None:
    eng = engine([("lookup_provider", "found"), ("check_incoming", "port_blocked")])
    context = {"message": "what are the correct settings to set up my email account",
               "email": EMAIL, "client": "Thunderbird"}
    session, replies = await converse(eng, context)  # no answers left: "I don't know"
    assert session.outcome is not None and session.outcome.diagnosis == "port_blocked"
    assert all(not (r.question and r.question.secret) for r in replies)
