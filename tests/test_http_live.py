"""The service with live probes against the loopback mail world (tests/peers): a whole
conversation, the handoff package, and the SSRF refusals seen from the outside."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from bot.config import Config
from bot.errors import ProbeRefused
from bot.interfaces.http import create_app
from bot.probes.policy import TargetPolicy
from bot.probes.runners import ProbeCall, SafeRunner, SafetySettings
from bot.probes.runners.live import LiveProbeRunner
from bot.sessions.sqlite import SqliteStore
from tests.peers import MailWorld
from tests.test_http_support import converse

Client = Callable[..., Any]


def _config(world: MailWorld, tmp: Path, *, allow_private: bool = True, **serve: Any) -> Config:
    base = Config.load(world.config_path, serve_mode=True)
    ports = sorted(set(world.ports.values()))
    table = {"sqlite_path": str(tmp / "live.db"), "mail_ports": ports, **serve}
    return base.with_overrides(allow_private=allow_private, serve=table)


@pytest.fixture
async def client_for(tmp_path: Path) -> AsyncIterator[Client]:
    clients: list[httpx.AsyncClient] = []

    def make(config: Config) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(config)),
                                   base_url="http://deskbot", timeout=60)
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.aclose()


async def _session(http: httpx.AsyncClient, **context: str) -> str:
    res = await http.post("/v1/sessions", json={"context": context})
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


def _texts(bodies: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for b in bodies for m in b["messages"])


def _checks(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for b in bodies for m in b["messages"] if m["kind"] == "probe"
            for r in m["evidence"] for c in r["checks"]]


async def test_account_setup_is_proven_by_live_probes_and_shows_the_settings(
    world: MailWorld, client_for: Client, tmp_path: Path
) -> None:
    client = client_for(_config(world, tmp_path))
    sid = await _session(client, email=world.email, client="Thunderbird")
    bodies = await converse(client, sid, {
        "message": "I need the settings to set up my e-mail account", "symptom": "account_setup",
        "test_offer": "yes", "login_consent": "yes", "username": world.email,
        "password": world.password,
    })
    outcome = bodies[-1]["outcome"]
    assert outcome == {"status": "resolved", "symptom": "account_setup", "diagnosis": "ok",
                       "basis": "probe"}
    (result,) = [m for m in bodies[-1]["messages"] if m["kind"] == "result"]
    hosts = {row["host"] for row in result["settings"]}
    assert {"imap.example.test", "smtp.example.test"} <= hosts
    assert world.email in world.smtp.auth_attempts  # the login really was tested
    transcript = (await client.get(f"/v1/sessions/{sid}/transcript")).text
    assert world.password not in transcript
    state = (await client.get(f"/v1/sessions/{sid}")).json()  # what a reloaded page resumes
    assert state["outcome"] == outcome and state["question"] is None
    assert state["turns"][0]["role"] == "bot" and world.password not in str(state)
    probes = [t for t in json.loads(transcript)["turns"] if t["role"] == "probe"]
    assert probes and {t["vantage"] for t in probes} == {"server"}  # run by the service


async def test_from_the_server_a_healthy_sweep_hands_off_with_the_local_check(
    world: MailWorld, client_for: Client, tmp_path: Path
) -> None:
    client = client_for(_config(world, tmp_path))
    sid = await _session(client, email=world.email, client="Thunderbird",
                         password=world.password)
    bodies = await converse(client, sid, {
        "message": "my mail is stuck in the outbox", "symptom": "outbox_stuck",
    })
    assert bodies[-1]["outcome"]["status"] == "handoff"
    assert "deskbot probe" in _texts(bodies)  # says what the server cannot see, offers the fix
    (handoff,) = [m["handoff"] for b in bodies for m in b["messages"] if m["kind"] == "handoff"]
    assert handoff["symptom"] == "outbox_stuck"
    assert handoff["slots"]["email"] == world.email and "password" not in handoff["slots"]
    assert handoff["probes"], "the package must carry every probe with its evidence"
    assert world.password not in str(handoff)


async def test_loopback_provider_servers_are_not_probed_without_allow_private(
    world: MailWorld, client_for: Client, tmp_path: Path
) -> None:
    client = client_for(_config(world, tmp_path, allow_private=False))
    sid = await _session(client, email=world.email, password=world.password)
    bodies = await converse(client, sid, {"message": "my mail is stuck in the outbox",
                                          "symptom": "outbox_stuck", "client": "Thunderbird"})
    assert bodies[-1]["outcome"] is not None  # an answer, not a crash
    assert world.smtp.auth_attempts == []
    (refused,) = [c for c in _checks(bodies) if c["probe"] == "policy"]
    assert "private or reserved address" in refused["evidence"]
    assert "deskbot probe" in refused["evidence"]  # the local check is offered instead


@pytest.mark.parametrize(
    ("server", "port_key"),
    [("127.0.0.1", "submission"), ("localhost", "submission"), ("smtp.example.test", None)],
)
async def test_a_server_the_user_names_is_probed_only_if_it_is_the_providers(
    world: MailWorld, client_for: Client, tmp_path: Path, server: str, port_key: str | None
) -> None:
    client = client_for(_config(world, tmp_path))
    port = str(world.ports[port_key or "submission"]) if port_key else "6379"
    sid = await _session(client, email=world.email, password=world.password,
                         outgoing_server=server, outgoing_port=port,
                         outgoing_security="starttls", client="Thunderbird")
    bodies = await converse(client, sid, {"message": "my mail is stuck in the outbox",
                                          "symptom": "outbox_stuck"})
    assert bodies[-1]["outcome"] is not None
    refused = [c for c in _checks(bodies) if c["probe"] == "policy"]
    assert refused and refused[0]["status"] == "skipped"
    assert "deskbot probe" in refused[0]["evidence"]
    assert world.smtp.auth_attempts == []


async def test_login_attempts_are_capped_per_target_across_sessions(
    world: MailWorld, client_for: Client, tmp_path: Path
) -> None:
    client = client_for(_config(world, tmp_path, logins_per_target=1))
    answers = {"message": "my mail is stuck in the outbox", "symptom": "outbox_stuck"}
    first = await _session(client, email=world.email, password=world.password, client="Outlook")
    await converse(client, first, dict(answers))
    tried = list(world.smtp.auth_attempts)
    assert tried, "the first conversation's login should have been tested"
    second = await _session(client, email=world.email, password=world.password, client="Outlook")
    bodies = await converse(client, second, dict(answers))
    assert world.smtp.auth_attempts == tried, "a login past the limit reached the server"
    notes = [n for b in bodies for m in b["messages"] for r in m["evidence"] for n in r["notes"]]
    assert any("too many login attempts" in n for n in notes)


class _OnlyAlternateLoopback(TargetPolicy):
    """Stands in for "public vs private" on a machine that may only use loopback: 127.0.0.2
    plays a public address, 127.0.0.1 a private one. Records every address it was asked about."""

    checked: ClassVar[list[str]] = []

    def check_address(self, host: str, address: str) -> None:
        self.checked.append(address)
        if address == "127.0.0.1":
            raise ProbeRefused(f"{host} resolves to {address}, a private address")


async def test_dns_rebinding_cannot_swap_in_a_forbidden_address(
    world: MailWorld, tmp_path: Path
) -> None:
    host = "smtp.example.test"
    world.zone.set(host, "A", "127.0.0.2")  # the first answer: an allowed address
    answer = world.zone.answer

    def rebinding(data: bytes) -> bytes | None:
        reply = answer(data)
        world.zone.set(host, "A", "127.0.0.1")  # every later answer: the forbidden one
        return reply

    world.zone.answer = rebinding  # type: ignore[method-assign]
    config = _config(world, tmp_path)
    policy = _OnlyAlternateLoopback(allow_private=False, ports=None)
    store = SqliteStore(tmp_path / "s.db")
    safety = SafetySettings(mail_ports=frozenset(world.ports.values()))
    runner = SafeRunner(LiveProbeRunner(config, policy=policy), store, safety)
    try:
        report = await runner.run("check_outgoing", {
            "email": world.email, "password": world.password, "outgoing_server": host,
            "outgoing_port": str(world.ports["submission"]), "outgoing_security": "starttls"},
            call=ProbeCall(session="s", client="192.0.2.1", vantage="server"))
    finally:
        await store.close()
    assert "127.0.0.2" in policy.checked
    assert world.smtp.auth_attempts == [], "a connection reached the rebound address"
    tcp = [c.evidence for c in report.checks if c.probe == "tcp"]
    assert tcp and all("127.0.0.2" in e for e in tcp), tcp  # only the checked address was tried


async def test_the_stream_reports_each_check_as_it_runs_then_the_reply(
    world: MailWorld, client_for: Client, tmp_path: Path
) -> None:
    client = client_for(_config(world, tmp_path))
    # every setting known from the ticket: the first line goes straight to the probes
    sid = await _session(client, email=world.email, client="Thunderbird", password=world.password,
                         outgoing_server="smtp.example.test", outgoing_security="starttls",
                         outgoing_port=str(world.ports["submission"]), outgoing_auth="true")
    res = await client.post(f"/v1/sessions/{sid}/messages/stream",
                            json={"text": "my mail is stuck in the outbox"})
    assert res.headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in res.text.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "reply" and kinds.count("reply") == 1
    assert kinds.index("check_started") < kinds.index("check_finished") < kinds.index("reply")
    finished = [e["check"] for e in events if e["event"] == "check_finished"]
    assert any(c["probe"] == "smtp" and c["status"] == "ok" for c in finished)
    assert world.password not in res.text
