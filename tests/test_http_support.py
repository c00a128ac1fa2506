"""Shared peers for the HTTP/session/web tests: a real redis-server and a served app."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Transcript, Turn


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    port: int, deadline: float = 10.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll until something accepts on 127.0.0.1:port (no fixed sleeps)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.01)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {deadline}s")


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A private redis-server on a loopback port; yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (scripts/install-test-deps installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc=proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def serve_process(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`deskbot serve` in its own process, waited for until it listens."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["deskbot", "serve", "--port", str(port), "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        wait_port(port, deadline=30.0, proc=proc)
    except Exception:
        proc.kill()
        raise RuntimeError(log.read_text()) from None
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait, as a service manager would."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()



# A stand-in for the engine with docs/api.md's surface, for the HTTP layer's own tests: it
# echoes numbered lines, can block on "slow", and reports how many turns ran at once.
class FakeReply:
    def __init__(self, texts: list[str], outcome: dict[str, str] | None = None) -> None:
        self.messages = [{"kind": "text", "text": t} for t in texts]
        self.outcome = outcome
        self.question = None if outcome else {"slot": "message", "prompt": "?", "choices": []}


class FakeEngine:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.active = 0
        self.max_active = 0

    def start(self, context: Any = None) -> FakeSession:
        return FakeSession(self, {"context": dict(context or {}), "lines": []})

    def restore(self, state: dict[str, Any]) -> FakeSession:
        return FakeSession(self, state)


class FakeSession:
    def __init__(self, engine: FakeEngine, state: dict[str, Any]) -> None:
        self.engine = engine
        context = dict(state["context"])
        self.password = context.pop("password", None)  # held in memory only, like the engine
        self.context: dict[str, Any] = context
        self.lines: list[str] = list(state["lines"])

    async def open(self, *, call: Any = None) -> FakeReply:
        return FakeReply([f"hello {self.context.get('email', 'there')}"])

    async def send(self, text: str, observer: Any = None, *, call: Any = None) -> FakeReply:
        engine = self.engine
        engine.active += 1
        engine.max_active = max(engine.max_active, engine.active)
        try:
            if text == "slow":
                await engine.release.wait()
            await asyncio.sleep(0)
            self.lines.append(text)
            done = {"status": "resolved", "symptom": "x", "diagnosis": "ok"}
            return FakeReply([f"{len(self.lines)}: {text}"], done if text == "bye" else None)
        finally:
            engine.active -= 1

    def to_dict(self) -> dict[str, Any]:
        return {"context": dict(self.context), "lines": list(self.lines)}

    def transcript(self) -> Transcript:
        return Transcript(turns=tuple(Turn.user(line) for line in self.lines),
                          context=dict(self.context))

    def held_secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()


class ThreadedServer:
    """A real uvicorn serving an app in a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        end = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


async def converse(
    client: Any, sid: str, answers: dict[str, str], *, limit: int = 15
) -> list[dict[str, Any]]:
    """Answer each question by its slot until an outcome; returns every turn's body.

    `answers["symptom"]` is a symptom id: the matching choice's label is sent, the way a
    user picks from the clarify list. A slot without an answer gets "I don't know".
    """
    bodies: list[dict[str, Any]] = []
    question = answers.pop("_first_question", None)
    text = answers.get("message", "")
    for _ in range(limit):
        res = await client.post(f"/v1/sessions/{sid}/messages", json={"text": text})
        assert res.status_code == 200, res.text
        body = dict(res.json())
        bodies.append(body)
        question = body["question"]
        if body["outcome"] is not None or question is None:
            return bodies
        text = _answer_for(question, answers)
    raise AssertionError(f"no outcome after {limit} turns: {bodies[-1]}")


def _answer_for(question: dict[str, Any], answers: dict[str, str]) -> str:
    slot = question["slot"]
    if slot == "symptom":
        wanted = answers.get("symptom", "")
        for choice in question["choices"]:
            if choice["value"] == wanted:
                return str(choice["label"])
    return answers.get(slot, "I don't know")
