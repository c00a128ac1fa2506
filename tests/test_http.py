"""The HTTP API (CONTRACT.md) around a stand-in engine: status codes, order, restarts, limits."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.config import Config
from bot.errors import ConfigError
from bot.interfaces.http import create_app
from tests.test_http_support import FakeEngine

JSON = {"Content-Type": "application/json"}


def _config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "serve.toml"
    path.write_text(f'[serve]\nsqlite_path = "sessions.db"\n{extra}')
    return Config.load(path, serve_mode=True)


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deskbot")


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
async def client(tmp_path: Path, engine: FakeEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_config(tmp_path, "max_body_bytes = 2048\n"), engine=engine)
    async with _client(app) as c:
        yield c


async def _start(client: httpx.AsyncClient, context: dict[str, str] | None = None) -> str:
    res = await client.post("/v1/sessions", json={"context": context or {}})
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


async def test_session_starts_with_context_and_answers_messages(client: httpx.AsyncClient) -> None:
    res = await client.post("/v1/sessions", json={"context": {"email": "ann@example.test"}})
    assert res.status_code == 201
    body = res.json()
    assert body["messages"][0]["text"] == "hello ann@example.test"
    assert body["outcome"] is None
    res = await client.post(f"/v1/sessions/{body['id']}/messages", json={"text": "bye"})
    assert res.status_code == 200
    assert "app;dur=" in res.headers["server-timing"]  # our own time, apart from probe time
    assert res.json()["messages"][0]["text"] == "1: bye"
    assert res.json()["outcome"]["status"] == "resolved"


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    doc = (await client.get("/openapi.json")).json()
    assert {"/v1/sessions", "/v1/sessions/{id}/messages", "/v1/sessions/{id}/transcript"} <= set(
        doc["paths"]
    )


async def test_messages_to_one_session_are_answered_in_order_one_at_a_time(
    client: httpx.AsyncClient, engine: FakeEngine
) -> None:
    sid = await _start(client)

    async def say(n: int) -> str:
        res = await client.post(f"/v1/sessions/{sid}/messages", json={"text": f"m{n}"})
        return str(res.json()["messages"][0]["text"])

    tasks = []
    for n in range(12):
        tasks.append(asyncio.create_task(say(n)))
        await asyncio.sleep(0)  # arrival order m0..m11
    answers = await asyncio.gather(*tasks)
    assert answers == [f"{n + 1}: m{n}" for n in range(12)]
    assert engine.max_active == 1


async def test_one_slow_session_does_not_block_others(
    client: httpx.AsyncClient, engine: FakeEngine
) -> None:
    slow, fast = await _start(client), await _start(client)
    stuck = asyncio.create_task(client.post(f"/v1/sessions/{slow}/messages", json={"text": "slow"}))
    async with asyncio.timeout(5):
        while engine.active == 0:  # the slow turn is running (holding its session's lock)
            await asyncio.sleep(0.001)
        res = await client.post(f"/v1/sessions/{fast}/messages", json={"text": "hi"})
    assert res.json()["messages"][0]["text"] == "1: hi"
    assert not stuck.done()
    engine.release.set()
    assert (await stuck).json()["messages"][0]["text"] == "1: slow"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 422, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"text": 5}', 422, "must be a string"),
        (b'{"text": "hi", "admin": true}', 422, "unknown field"),
        (b'{"txt": "hi"}', 422, "unknown field"),
        (b"\xff\xfe", 422, "not valid JSON"),
        (b"[" * 5000, 413, "larger than"),
        (b'{"text": "' + b"a" * 5000 + b'"}', 413, "larger than"),
    ],
)
async def test_malformed_or_oversized_messages_are_refused(
    client: httpx.AsyncClient, body: bytes, status: int, words: str
) -> None:
    sid = await _start(client)
    res = await client.post(f"/v1/sessions/{sid}/messages", content=body, headers=JSON)
    assert res.status_code == status
    assert words in res.json()["error"]


async def test_deeply_nested_json_within_the_size_limit_is_422_not_500(
    tmp_path: Path, engine: FakeEngine
) -> None:
    app = create_app(_config(tmp_path, "max_body_bytes = 100000\n"), engine=engine)
    async with _client(app) as c:
        sid = await _start(c)
        res = await c.post(f"/v1/sessions/{sid}/messages", content=b"[" * 60000, headers=JSON)
    assert res.status_code == 422


async def test_bad_context_is_422_naming_the_slot(client: httpx.AsyncClient) -> None:
    res = await client.post("/v1/sessions", json={"context": {"emial": "a@b.test"}})
    assert res.status_code == 422
    assert "emial" in res.json()["error"]
    res = await client.post("/v1/sessions", json={"context": {"email": ["a", "b"]}})
    assert res.status_code == 422


async def test_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    for sid in ("A" * 24, "../../etc/passwd", "x"):
        res = await client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"})
        assert res.status_code == 404
        assert (await client.get(f"/v1/sessions/{sid}/transcript")).status_code == 404


async def test_stream_reports_the_reply_as_ndjson(client: httpx.AsyncClient) -> None:
    sid = await _start(client)
    res = await client.post(f"/v1/sessions/{sid}/messages/stream", json={"text": "hi"})
    assert res.status_code == 200
    events = [json.loads(line) for line in res.text.splitlines()]
    assert events[-1]["event"] == "reply"
    assert events[-1]["messages"][0]["text"] == "1: hi"


async def test_conversation_continues_after_a_restart(tmp_path: Path) -> None:
    config = _config(tmp_path)
    first = create_app(config, engine=FakeEngine())
    async with _client(first) as c:
        sid = await _start(c, {"email": "bo@example.test", "password": "hunter2-secret"})
        await c.post(f"/v1/sessions/{sid}/messages", json={"text": "one"})
    second = create_app(config, engine=FakeEngine())
    async with _client(second) as c:
        res = await c.post(f"/v1/sessions/{sid}/messages", json={"text": "two"})
    assert res.json()["messages"][0]["text"] == "2: two"
    raw = (tmp_path / "sessions.db").read_bytes() + _wal(tmp_path)
    assert b"hunter2-secret" not in raw


def _wal(tmp_path: Path) -> bytes:
    wal = tmp_path / "sessions.db-wal"
    return wal.read_bytes() if wal.exists() else b""


async def test_web_page_and_its_assets_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text
    assert page.headers["content-security-policy"] == "default-src 'self'"
    script = await client.get("/static/app.js")
    assert "messages/stream" in script.text
    assert (await client.get("/static/../../config.py")).status_code == 404


@pytest.mark.parametrize(
    ("table", "words"),
    [("stor = 'redis'\n", "unknown key(s) stor"), ("max_body_bytes = -1\n", "max_body_bytes"),
     ("mail_ports = [25, 'x']\n", "mail_ports")],
)
def test_a_bad_serve_table_is_refused_naming_the_key(
    tmp_path: Path, table: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        create_app(_config(tmp_path, table), engine=FakeEngine())
