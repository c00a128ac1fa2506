"""The probe seam: each call carries its context (ProbeCall) from the request to the runner.

The service's real app, engine and bundled flows, with a scripted inner runner behind the real
SafeRunner (a scripted peer: the point is which calls reach the network and with what
context, not what a server answers; test_http_live.py drives the real probes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import httpx

from bot.config import Config
from bot.engine import Engine
from bot.flows.bundled import default_flows_dir
from bot.interfaces.http import create_app
from bot.probes.model import ProbeObserver, ProbeReport
from bot.probes.runners import LOCAL, ProbeCall, RecordedProbeRunner
from tests.test_http_safety import PROVIDER, RecordingRunner

JSON = {"Content-Type": "application/json"}
# A customer who gives the password with the ticket: the flow tests that login at once.
TICKET = {"message": "I can't send email", "email": "ann@example.test", "password": "pw-1",
          "client": "outlook", "outgoing_server": "smtp.example.test", "outgoing_port": "587",
          "outgoing_security": "starttls", "outgoing_auth": "true"}


class ContextRunner(RecordingRunner):
    """Records the context of every call; each probe takes a little (event-loop) time."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[tuple[str, ProbeCall]] = []

    async def run(self, name: str, params: Mapping[str, str],
                  observer: ProbeObserver | None = None, *, call: ProbeCall) -> ProbeReport:
        self.contexts.append((name, call))
        await asyncio.sleep(0.01)
        return await super().run(name, params, observer, call=call)


def _app(tmp_path: Path, inner: ContextRunner, extra: str = ""):  # type: ignore[no-untyped-def]
    path = tmp_path / "serve.toml"
    path.write_text(f'[serve]\nsqlite_path = "sessions.db"\n{extra}')
    return create_app(Config.load(path, serve_mode=True), runner=inner)


def _client(app, address: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://deskbot", headers=JSON)


def _logins(inner: ContextRunner) -> list[tuple[str, str | None]]:
    """(client address, password sent) of every login probe the inner runner ran."""
    calls = [c for n, c in inner.contexts if n.startswith("check_")]
    sent = [p.get("password") for n, p in inner.calls if n.startswith("check_")]
    return [(c.client, s) for c, s in zip(calls, sent, strict=True)]


async def test_each_probe_call_names_its_conversation_and_client(tmp_path: Path) -> None:
    inner = ContextRunner()
    async with _client(_app(tmp_path, inner), "192.0.2.7") as client:
        res = await client.post("/v1/sessions", json={"context": TICKET})
    assert res.status_code == 201, res.text
    session = res.json()["id"]
    assert inner.contexts, "the ticket's login was not tested"
    assert {(c.session, c.client, c.vantage) for _, c in inner.contexts} == {
        (session, "192.0.2.7", "server")}
    probes = float(res.headers["server-timing"].split("probes;dur=")[1])
    assert probes >= 10, "the probe time of the turn did not reach Server-Timing"


async def test_the_login_budget_follows_the_client_across_new_conversations(
    tmp_path: Path,
) -> None:
    """New conversations from one address do not reset its login budget; another address
    has its own (the address comes from the request, with each call)."""
    inner = ContextRunner()
    app = _app(tmp_path, inner, "logins_per_client = 2\n")
    async with _client(app, "192.0.2.7") as first, _client(app, "198.51.100.9") as other:
        for _ in range(3):
            assert (await first.post("/v1/sessions", json={"context": TICKET})).status_code == 201
        assert (await other.post("/v1/sessions", json={"context": TICKET})).status_code == 201
    logins = _logins(inner)
    mine = [sent for address, sent in logins if address == "192.0.2.7"]
    assert mine[:2] == ["pw-1", "pw-1"] and set(mine[2:]) == {None}, logins
    assert ("198.51.100.9", "pw-1") in logins


async def test_replay_answers_provider_lookups_through_the_seam() -> None:
    """Provider look-ups go through the runner: the recorded provider of a domain is used
    where the catalogue has none, with no Engine subclass involved."""
    from bot.probes.runners import RecordedFeed, ReplayRunner

    engine = Engine.load(default_flows_dir(), runner=RecordedProbeRunner())
    assert engine.provider_for("ann@example.test") is None
    feed = RecordedFeed([])
    replaying = engine.with_runner(ReplayRunner(feed, {"example.test": PROVIDER},
                                                engine.runner))
    assert type(replaying) is Engine
    assert replaying.provider_for("ann@example.test") == PROVIDER
    assert replaying.provider_for("bob@gmail.com") == engine.provider_for("bob@gmail.com")
    report = await replaying.runner.run("check_outgoing", {}, call=LOCAL)
    assert report.outcome == "inconclusive" and feed.problems


