"""A turn is atomic over HTTP (issue 15): when the store refuses the write, nothing of the turn
is visible and the reply is a clear 503; a retry with the same client `message_id` is applied
once. The store really fails: another SQLite connection holds the write lock (as a second
worker or a backup job would), past the store's 2 s busy timeout; or the file is read-only."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from bot.config import Config
from bot.interfaces.http import create_app
from tests.test_http_support import redis_server


def _config(tmp_path: Path) -> Config:
    path = tmp_path / "serve.toml"
    path.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n'
                    '[serve]\nsqlite_path = "sessions.db"\ncache_sessions = 100\n')
    return Config.load(path, serve_mode=True)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_config(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://deskbot", timeout=30) as c:
        yield c


async def _say(client: httpx.AsyncClient, sid: str, text: str, mid: str) -> httpx.Response:
    return await client.post(f"/v1/sessions/{sid}/messages",
                             json={"text": text, "message_id": mid})


def _slot(body: dict[str, Any]) -> str:
    return str(body["question"]["slot"])


async def test_locked_store_shows_nothing_and_a_retry_is_applied_once(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    res = await client.post("/v1/sessions", json={})
    sid = res.json()["id"]
    first = await _say(client, sid, "my mail is stuck in the outbox", "m1")
    asked = _slot(first.json())
    blocker = sqlite3.connect(tmp_path / "sessions.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        failed = await _say(client, sid, "ann@example.test", "m2")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert failed.status_code == 503, failed.text
    assert "could not be saved" in failed.json()["error"]
    assert failed.headers["retry-after"] == "1"
    state = (await client.get(f"/v1/sessions/{sid}")).json()
    assert state["question"]["slot"] == asked  # the failed turn is not visible
    assert "ann@example.test" not in str(state["turns"])

    retried = await _say(client, sid, "ann@example.test", "m2")
    assert retried.status_code == 200
    again = await _say(client, sid, "ann@example.test", "m2")  # the reply was lost: same id
    assert again.json() == retried.json()
    turns = (await client.get(f"/v1/sessions/{sid}/transcript")).json()["turns"]
    typed = [t.get("text") for t in turns if t["role"] == "user"]
    assert typed == ["my mail is stuck in the outbox", "ann@example.test"]
    assert _slot(retried.json()) != asked


async def test_a_message_id_reused_for_another_text_is_refused_and_nothing_applied(
    client: httpx.AsyncClient,
) -> None:
    """A client bug that reuses a message_id for a new line must not get the old reply back
    as if the new line had been read: 409, and the conversation has not moved."""
    sid = (await client.post("/v1/sessions", json={})).json()["id"]
    first = await _say(client, sid, "my mail is stuck in the outbox", "m1")
    asked = _slot(first.json())
    reused = await _say(client, sid, "ann@example.test", "m1")
    assert reused.status_code == 409, reused.text
    assert "new message_id" in reused.json()["error"]
    state = (await client.get(f"/v1/sessions/{sid}")).json()
    assert state["question"]["slot"] == asked
    same = await _say(client, sid, "my mail is stuck in the outbox", "m1")
    assert same.status_code == 200 and same.json() == first.json()


async def test_redis_refusing_writes_gives_503_json(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        path = tmp_path / "redis.toml"
        path.write_text(f'[dns]\nnameservers = ["127.0.0.1:9"]\n'
                        f'[serve]\nstore = "redis"\nredis_url = "{url}"\n')
        app = create_app(Config.load(path, serve_mode=True))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://deskbot", timeout=30) as client:
            sid = (await client.post("/v1/sessions", json={})).json()["id"]
            redis_cli = redis.Redis.from_url(url)
            redis_cli.config_set("min-replicas-to-write", 1)  # writes refused: NOREPLICAS
            res = await _say(client, sid, "my mail is stuck in the outbox", "m1")
            assert res.status_code == 503, res.text
            assert "nothing was changed" in res.json()["error"]
            redis_cli.config_set("min-replicas-to-write", 0)
            res = await _say(client, sid, "my mail is stuck in the outbox", "m1")
            assert res.status_code == 200
