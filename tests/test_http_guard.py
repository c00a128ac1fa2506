"""The service's front door (issue 15, docs/http.md "Threat model"): JSON only, allowed Host
names, the agent routes' API key, per-address session limits and a session quota; and the
login budget counted per client address and per resolved server address."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from bot.catalog.model import ServerSettings
from bot.config import Config
from bot.interfaces.http import create_app
from bot.probes.model import ProbeObserver, ProbeReport
from bot.probes.runners import ProbeCall, SafeRunner, SafetySettings
from bot.sessions.sqlite import SqliteStore
from tests.test_http_safety import PROVIDER, RecordingRunner
from tests.test_http_support import FakeEngine, free_port, serve_process, stop

KEY = "k" * 20 + "-agent-key"


def _app(tmp_path: Path, extra: str = "") -> httpx.AsyncClient:
    path = tmp_path / "serve.toml"
    path.write_text(f'[serve]\nsqlite_path = "sessions.db"\n{extra}')
    app = create_app(Config.load(path, serve_mode=True), engine=FakeEngine())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deskbot")


async def test_a_cross_site_text_plain_post_is_refused(tmp_path: Path) -> None:
    async with _app(tmp_path) as client:
        res = await client.post("/v1/sessions", content=b'{"context": {}}',
                                headers={"Content-Type": "text/plain"})
        assert res.status_code == 415 and "JSON" in res.json()["error"]
        form = await client.post("/v1/sessions", data={"context": "x"})
        assert form.status_code == 415
        ok = await client.post("/v1/sessions", json={"context": {}})
        assert ok.status_code == 201
        empty = await client.post("/v1/sessions")  # the body is optional
        assert empty.status_code == 201


async def test_only_allowed_host_names_are_answered(tmp_path: Path) -> None:
    async with _app(tmp_path, 'allowed_hosts = ["deskbot", "help.example.com"]\n') as client:
        assert (await client.post("/v1/sessions", json={})).status_code == 201
        rebound = await client.post("/v1/sessions", json={},
                                    headers={"Host": "attacker.example:8000"})
        assert rebound.status_code == 421
        assert (await client.get("/healthz", headers={"Host": "evil.test"})).status_code == 421


async def test_agent_routes_need_the_key_and_customer_routes_do_not(tmp_path: Path) -> None:
    async with _app(tmp_path, f'api_key = "{KEY}"\n') as client:
        created = await client.post("/v1/sessions", json={})
        assert created.status_code == 201  # CONTRACT: customer routes stay keyless
        sid = created.json()["id"]
        said = await client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"})
        assert said.status_code == 200
        assert (await client.get(f"/v1/sessions/{sid}/transcript")).status_code == 200
        listing = await client.get("/v1/sessions?status=open")
        assert listing.status_code == 401
        assert listing.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get("/v1/sessions", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get("/v1/sessions", headers={"Authorization": f"Bearer {KEY}"})
        assert right.status_code != 401


async def test_new_sessions_are_limited_per_client_address(tmp_path: Path) -> None:
    async with _app(tmp_path, "sessions_per_client = 3\n") as client:
        codes = [(await client.post("/v1/sessions", json={})).status_code for _ in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        res = await client.post("/v1/sessions", json={})
        assert int(res.headers["retry-after"]) > 0
    path = tmp_path / "serve.toml"
    app = create_app(Config.load(path, serve_mode=True), engine=FakeEngine())
    other = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
    async with httpx.AsyncClient(transport=other, base_url="http://deskbot") as client:
        assert (await client.post("/v1/sessions", json={})).status_code == 201


async def test_the_session_quota_bounds_storage(tmp_path: Path) -> None:
    async with _app(tmp_path, "max_sessions = 4\nsessions_per_client = 100\n") as client:
        codes = [(await client.post("/v1/sessions", json={})).status_code for _ in range(6)]
    assert codes == [201] * 4 + [503, 503]


class TwoNames(RecordingRunner):
    """The provider publishes two names of one IMAP server."""

    async def run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
        *, call: ProbeCall,
    ) -> ProbeReport:
        report = await super().run(name, params, observer, call=call)
        if name != "lookup_provider":
            return report
        provider = dataclasses.replace(PROVIDER, incoming=(
            *PROVIDER.incoming, ServerSettings("imap", "mail.example.test", 993, "ssl")))
        return dataclasses.replace(report, provider=provider)


@pytest.fixture
async def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "s.db")


async def test_login_budget_follows_the_client_and_the_resolved_server(
    store: SqliteStore,
) -> None:
    """New conversations, and naming the server differently (or not at all), do not reset the
    budget: it counts per client address and per resolved address. The resolver is a table
    (two names of one server), so no DNS is involved."""
    addresses = {"imap.example.test": "203.0.113.5", "mail.example.test": "203.0.113.5"}

    async def resolve(host: str) -> str | None:
        return addresses.get(host)

    inner = TwoNames()
    runner = SafeRunner(inner, store, SafetySettings(logins_per_session=50, logins_per_client=3,
                                                     logins_per_target=50), resolve=resolve)
    forms: list[Mapping[str, str]] = [
        {"incoming_server": "imap.example.test"}, {"incoming_server": "mail.example.test"}, {}]
    for n in range(5):
        call = ProbeCall(session=f"fresh-session-{n}", client="192.0.2.10")
        await runner.run("check_incoming", {"email": "ann@example.test", "password": "pw",
                                            **forms[n % 3]}, call=call)
    sent = [p.get("password") for n, p in inner.calls if n == "check_incoming"]
    assert sent == ["pw", "pw", "pw", None, None]

    per_server = SafeRunner(inner, store, SafetySettings(logins_per_session=50,
                                                         logins_per_client=50,
                                                         logins_per_target=2), resolve=resolve)
    inner.calls.clear()
    addresses.update({"imap.example.test": "203.0.113.9", "mail.example.test": "203.0.113.9"})
    for n in range(4):
        await per_server.run("check_incoming", {"email": "ann@example.test", "password": "pw",
                                                **forms[n % 2]},
                             call=ProbeCall(client=f"192.0.2.{20 + n}"))
    sent = [p.get("password") for n, p in inner.calls if n == "check_incoming"]
    assert sent == ["pw", "pw", None, None], "two names of one server got two budgets"


def test_deskbot_serve_on_loopback_answers_only_loopback_names(tmp_path: Path) -> None:
    """A real `deskbot serve` bound to 127.0.0.1 without allowed_hosts: a DNS-rebinding page
    (Host: its own name) gets 421; the local names work."""
    config = tmp_path / "serve.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[serve]\nsqlite_path = "s.db"\n')
    port = free_port()
    proc = serve_process(config, port, tmp_path / "serve.log")
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        assert httpx.get(url, timeout=10).status_code == 200
        assert httpx.get(url, headers={"Host": f"localhost:{port}"}, timeout=10).status_code == 200
        rebound = httpx.get(url, headers={"Host": f"rebind.attacker.example:{port}"}, timeout=10)
        assert rebound.status_code == 421
    finally:
        stop(proc)
