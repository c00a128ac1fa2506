"""`deskbot serve` as real processes: a restart keeps conversations (SQLite), and two workers
sharing a real redis-server hand one conversation back and forth without losing a turn."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_http_support import free_port, redis_server, serve_process, stop


def _user_lines(transcript: dict[str, Any]) -> list[str]:
    return [t.get("text", "") for t in transcript["turns"] if t["role"] == "user"]


async def _send(base: str, sid: str, text: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        res = await c.post(f"/v1/sessions/{sid}/messages", json={"text": text})
        assert res.status_code == 200, res.text
        return dict(res.json())


async def _start(base: str, context: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        res = await c.post("/v1/sessions", json={"context": context})
        assert res.status_code == 201, res.text
        return str(res.json()["id"])


async def _transcript(base: str, sid: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        res = await c.get(f"/v1/sessions/{sid}/transcript")
        assert res.status_code == 200, res.text
        return dict(res.json())


async def test_a_conversation_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text('[serve]\nsqlite_path = "sessions.db"\n')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = serve_process(config, port, tmp_path / "serve.log")
    try:
        sid = await _start(base, {"email": "ann@example.test", "password": "Restart-Secret-1"})
        before = await _send(base, sid, "my e-mail does not work")
    finally:
        stop(first)
    second = serve_process(config, port, tmp_path / "serve.log")
    try:
        after = await _send(base, sid, "I don't know")
        transcript = await _transcript(base, sid)
    finally:
        stop(second)
    assert before["outcome"] is None  # the first process left the conversation open...
    assert _user_lines(transcript) == ["my e-mail does not work", "I don't know"]
    assert "Hi, I'm deskbot" not in after["messages"][0]["text"]  # ...and it went on, not anew
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("sessions.db*"))
    assert b"Restart-Secret-1" not in stored


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp_path = tmp_path_factory.mktemp("workers")
    with redis_server(tmp_path) as url:
        config = tmp_path / "serve.toml"
        config.write_text(f'[serve]\nstore = "redis"\nredis_url = "{url}"\n')
        ports = free_port(), free_port()
        procs = [serve_process(config, p, tmp_path / f"w{p}.log") for p in ports]
        try:
            yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
        finally:
            for proc in procs:
                stop(proc)


async def test_a_conversation_moves_between_two_workers_sharing_redis(
    two_workers: tuple[str, str],
) -> None:
    one, two = two_workers
    sid = await _start(one, {"email": "bo@example.test"})
    await _send(two, sid, "my e-mail does not work")
    await _send(one, sid, "I don't know")
    await _send(two, sid, "I don't know")
    assert _user_lines(await _transcript(one, sid)) == [
        "my e-mail does not work", "I don't know", "I don't know"
    ]


async def test_simultaneous_messages_on_two_workers_are_never_lost(
    two_workers: tuple[str, str],
) -> None:
    # Without the cross-worker lock both workers would load the same state and the later save
    # would silently drop the other worker's turn.
    one, two = two_workers
    sid = await _start(one, {"email": "cy@example.test"})
    lines = [f"line {n}" for n in range(10)]
    await asyncio.gather(*(_send((one, two)[n % 2], sid, t) for n, t in enumerate(lines)))
    assert sorted(_user_lines(await _transcript(two, sid))) == sorted(lines)


def test_an_unreachable_redis_stops_the_service_at_start_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(f'[serve]\nstore = "redis"\nredis_url = "redis://127.0.0.1:{free_port()}/0"\n')
    out = subprocess.run(["deskbot", "serve", "--port", str(free_port()), "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("deskbot: [serve] redis_url")
    assert len(out.stderr.strip().splitlines()) == 1
