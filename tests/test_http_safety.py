"""Serve-mode probing limits: a chat user cannot aim the service's probes at arbitrary targets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from bot.catalog.model import Provider, ServerSettings
from bot.config import Config
from bot.interfaces.http.factory import serve_policy
from bot.probes.model import Check, ProbeObserver, ProbeReport
from bot.probes.runners import LOCAL, CatalogueProviders, ProbeCall, SafeRunner, SafetySettings
from bot.sessions.sqlite import SqliteStore

PROVIDER = Provider(
    id="example", name="Example Mail", domains=("example.test",),
    incoming=(ServerSettings("imap", "imap.example.test", 993, "ssl"),),
    outgoing=(ServerSettings("smtp", "smtp.example.test", 587, "starttls"),),
)


class RecordingRunner(CatalogueProviders):
    """The inner (live) runner: records what it was asked to probe."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []

    async def run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
    *, call: ProbeCall,
    ) -> ProbeReport:
        self.calls.append((name, dict(params)))
        if name == "lookup_provider":
            return ProbeReport(name, params["email"], "found", provider=PROVIDER)
        return ProbeReport(name, "t", "ok", checks=(Check("smtp", "t", "ok", "fine"),))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "s.db")
    yield s
    await s.close()


@pytest.fixture
def inner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def runner(inner: RecordingRunner, store: SqliteStore) -> SafeRunner:
    return SafeRunner(inner, store, SafetySettings(logins_per_session=3, logins_per_target=5))


def _probed(inner: RecordingRunner, name: str) -> list[dict[str, str]]:
    return [p for n, p in inner.calls if n == name]


async def test_the_providers_own_server_is_probed(runner: SafeRunner, inner: RecordingRunner):
    params = {"email": "ann@example.test", "outgoing_server": "SMTP.example.test.",
              "outgoing_port": "587"}
    report = await runner.run("check_outgoing", params, call=LOCAL)
    assert report.outcome == "ok"
    assert _probed(inner, "check_outgoing") == [params]


@pytest.mark.parametrize(
    ("server", "port", "why"),
    [
        ("127.0.0.1", "587", "not a server published or discovered for example.test"),
        ("localhost", "25", "not a server published"),
        ("169.254.169.254", "465", "not a server published"),  # cloud metadata
        ("redis.internal.corp", "993", "not a server published"),
        ("smtp.example.test", "6379", "port 6379 is not a mail port"),
        ("smtp.example.test", "22", "port 22 is not a mail port"),
        ("smtp.example.test", "587; rm -rf /", "is not a mail port"),
    ],
)
async def test_targets_outside_the_customers_provider_are_refused(
    runner: SafeRunner, inner: RecordingRunner, server: str, port: str, why: str
) -> None:
    params = {"email": "ann@example.test", "outgoing_server": server, "outgoing_port": port}
    report = await runner.run("check_outgoing", params, call=LOCAL)
    assert _probed(inner, "check_outgoing") == [], "the refused target was probed"
    assert report.outcome == "inconclusive"
    (check,) = report.checks
    assert check.status == "skipped"
    assert why in check.evidence
    assert "deskbot probe" in check.evidence  # the customer is offered the local check


async def test_a_named_server_without_an_address_is_refused(
    runner: SafeRunner, inner: RecordingRunner
) -> None:
    report = await runner.run("check_incoming", {"incoming_server": "10.0.0.5"}, call=LOCAL)
    assert report.outcome == "inconclusive" and inner.calls == []


async def test_refusal_is_shown_to_the_progress_observer(runner: SafeRunner) -> None:
    seen: list[Check] = []

    class Observer:
        def check_started(self, probe: str, target: str) -> None: ...

        def check_finished(self, check: Check) -> None:
            seen.append(check)

    await runner.run("check_outgoing", {"email": "a@example.test", "outgoing_server": "10.1.1.1"},
                     Observer(), call=LOCAL)
    assert [c.status for c in seen] == ["skipped"]


async def test_login_attempts_are_limited_per_session(
    runner: SafeRunner, inner: RecordingRunner
) -> None:
    params = {"email": "ann@example.test", "password": "pw-123", "outgoing_server":
              "smtp.example.test"}
    one = ProbeCall(session="session-one")
    reports = [await runner.run("check_outgoing", params, call=one) for _ in range(5)]
    sent = [p.get("password") for p in _probed(inner, "check_outgoing")]
    assert sent == ["pw-123"] * 3 + [None, None], "the 4th and 5th login were still tried"
    assert any("too many login attempts" in n for n in reports[-1].notes)
    assert not reports[0].notes


async def test_login_attempts_are_limited_per_target_across_sessions(
    runner: SafeRunner, inner: RecordingRunner
) -> None:
    params = {"email": "x@example.test", "password": "pw", "outgoing_server": "smtp.example.test"}
    for n in range(7):
        await runner.run("check_outgoing", params, call=ProbeCall(session=f"session-{n}"))
    sent = [p.get("password") for p in _probed(inner, "check_outgoing")]
    assert sent.count("pw") == 5


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.1", "172.16.0.9", "169.254.169.254", "fe80::1",
     "224.0.0.251", "ff02::1", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1", "fd00::5"],
)
def test_the_serve_policy_refuses_non_public_addresses(address: str) -> None:
    # Pure check of the policy `deskbot serve` hands the probes (no packet is sent anywhere).
    policy = serve_policy(Config.load(None, serve_mode=True), SafetySettings())
    assert not policy.allows("mail.example.com", 993, address)
    assert policy.allows("mail.example.com", 993, "93.184.216.34")
    assert not policy.allows("mail.example.com", 6379, "93.184.216.34")


async def test_login_budget_counts_every_login_command_sent(store: SqliteStore) -> None:
    """One check that tried three username forms spends three logins of the budget.
    (The inner runner is scripted: it reports three login checks as a sweep over the three
    username forms does; test_injection.py drives the real sweep against Dovecot.)"""

    class ThreeForms(RecordingRunner):
        async def run(
            self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
            *, call: ProbeCall,
        ) -> ProbeReport:
            report = await super().run(name, params, observer, call=call)
            tries = tuple(Check("imap", "t", "fail", f"login as {u} rejected",
                                outcome="login_rejected") for u in ("a@x", "a", "A"))
            return report if name == "lookup_provider" else ProbeReport(
                name, "t", "auth_wrong_password", checks=tries if params.get("password") else ())

    inner = ThreeForms()
    runner = SafeRunner(inner, store, SafetySettings(logins_per_session=4, logins_per_target=99))
    params = {"email": "ann@example.test", "password": "pw", "incoming_server":
              "imap.example.test"}
    for _ in range(3):
        await runner.run("check_incoming", params, call=ProbeCall(session="session-three"))
    sent = [p.get("password") for p in _probed(inner, "check_incoming")]
    assert sent == ["pw", "pw", None], "a budget of 4 logins allowed more than 6 LOGINs"
