"""Every bad input gets a clear one-line error, never a traceback or a hang (issue 15, Low).

Files a user names (answers, transcripts, flows, config) may be alias bombs, huge numbers,
non-UTF-8, FIFOs or symlinks to /dev/zero; HTTP bodies may hold huge numbers or never finish;
`deskbot match` may get one enormous word. Subprocess timeouts are the deadlines."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import Config
from bot.interfaces.http import create_app
from tests.test_http_support import FakeEngine, ThreadedServer

REPO = Path(__file__).resolve().parents[1]
BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n'
        'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n'
        'message: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n')


def _deskbot(*args: str, stdin: str = "", timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def _special(tmp_path: Path, name: str, kind: str) -> Path:
    path = tmp_path / name
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def _assert_one_line_error(done: subprocess.CompletedProcess[str], code: int) -> None:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert len(done.stderr) < 400


HOSTILE_ANSWERS = {  # name → (file content, words of the error)
    "alias-bomb": (BOMB.encode(), "alias bomb"),
    "integer-key": (b"1: x\n", "mapping of slot name"),
    "huge-port": (b"incoming_port: " + b"9" * 5000 + b"\n", "not usable answers"),
    "latin-1": (b"message: caf\xe9\n", "not UTF-8"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_ANSWERS))
def test_hostile_answers_files_are_one_line_errors(tmp_path: Path, name: str) -> None:
    content, words = HOSTILE_ANSWERS[name]
    path = tmp_path / "answers.yaml"
    path.write_bytes(content)
    for command in (["chat"], ["probe", "a@example.test"]):
        done = _deskbot(*command, "--answers", str(path), "--config", str(_offline(tmp_path)))
        _assert_one_line_error(done, 2)
        assert words in done.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_special_files_are_refused_not_read(tmp_path: Path, kind: str) -> None:
    answers = _special(tmp_path, "answers.yaml", kind)
    done = _deskbot("chat", "--answers", str(answers), "--config", str(_offline(tmp_path)))
    _assert_one_line_error(done, 2)
    assert "not a regular file" in done.stderr
    config = _special(tmp_path, "config.toml", kind)
    _assert_one_line_error(_deskbot("chat", "--config", str(config)), 2)
    flows = tmp_path / "flows"
    flows.mkdir()
    _special(flows, "broken.yaml", kind)
    checked = _deskbot("flows", "check", str(flows))
    assert checked.returncode == 1 and "broken.yaml:1: cannot read file" in checked.stdout
    transcript = _special(tmp_path, "t.json", kind)
    replayed = _deskbot("replay", str(transcript))
    assert replayed.returncode == 1 and "not a regular file" in replayed.stdout
    assert "Traceback" not in replayed.stdout + replayed.stderr


def _offline(tmp_path: Path) -> Path:
    config = tmp_path / "offline.toml"
    if not config.exists():
        config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n')
    return config


def _recorded() -> dict[str, object]:
    source = REPO / "transcripts" / "coverage" / "outbox_stuck-untested.json"
    data: dict[str, object] = json.loads(source.read_text(encoding="utf-8"))
    return data


def _with_string_params() -> str:
    doc = _recorded()
    probe = next(t for t in doc["turns"] if t["role"] == "probe")  # type: ignore[attr-defined]
    probe["params"] = "email=a@b"
    return json.dumps(doc)


HOSTILE_TRANSCRIPTS = {  # name → (text maker, words of the error)
    "deep": (lambda: "[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "bigint": (lambda: json.dumps(_recorded()).replace('"format": 1', '"format": ' + "9" * 5000,
                                                       1), "digits"),
    "string-params": (_with_string_params, "'params' must map names to strings"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_TRANSCRIPTS))
def test_hostile_transcripts_are_errors_not_tracebacks(tmp_path: Path, name: str) -> None:
    make, words = HOSTILE_TRANSCRIPTS[name]
    path = tmp_path / "hostile.json"
    path.write_text(make(), encoding="utf-8")
    done = _deskbot("replay", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert words in done.stdout and "0 passed, 1 failed" in done.stdout


def test_a_lone_surrogate_in_a_transcript_is_shown_escaped(tmp_path: Path) -> None:
    text = json.dumps(_recorded()).replace("my emails", "my \\ud800 emails", 1)
    path = tmp_path / "surrogate.json"
    path.write_text(text, encoding="utf-8")
    done = _deskbot("replay", str(path))
    assert "Traceback" not in done.stdout + done.stderr
    assert "\\ud800" in done.stdout


def test_match_on_one_enormous_word_finishes(tmp_path: Path) -> None:
    for word in ("a" * 1_000_000, "mailserver" * 20_000):
        done = _deskbot("match", stdin=word + "\n", timeout=20)  # was 120 s and more
        assert done.returncode == 0
        assert json.loads(done.stdout)["decision"] in ("none", "clarify")


def _app(tmp_path: Path, extra: str = "") -> object:
    path = tmp_path / "serve.toml"
    path.write_text(f'[serve]\nsqlite_path = "s.db"\n{extra}')
    return create_app(Config.load(path, serve_mode=True), engine=FakeEngine())


async def test_huge_numbers_are_422_and_lone_surrogates_are_cleaned(tmp_path: Path) -> None:
    app = _app(tmp_path)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://deskbot") as client:
        huge = await client.post("/v1/sessions", content=b'{"context": {"incoming_port": '
                                 + b"9" * 5000 + b"}}",
                                 headers={"Content-Type": "application/json"})
        assert huge.status_code == 422 and "too large" in huge.json()["error"]
        lone = b'{"context": {"client": "Out\\ud800look"}}'
        made = await client.post("/v1/sessions", content=lone,
                                 headers={"Content-Type": "application/json"})
        assert made.status_code == 201
        sid = made.json()["id"]
        for _ in range(2):  # the session stays readable, not "500 forever"
            got = await client.get(f"/v1/sessions/{sid}/transcript")
            assert got.status_code == 200
            assert got.json()["context"]["client"] == "Out look"


def test_unfinished_and_aborted_bodies_end_without_tracebacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with ThreadedServer(_app(tmp_path, "body_seconds = 1\n")) as server:
        head = (f"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{").encode()
        with socket.create_connection(("127.0.0.1", server.port), 5) as slow:
            slow.sendall(head)
            slow.settimeout(10)
            reply = slow.recv(4096)
        assert reply.startswith(b"HTTP/1.1 408"), reply
        with socket.create_connection(("127.0.0.1", server.port), 5) as aborted:
            aborted.sendall(head)
        deadline = time.monotonic() + 5  # the server sees the abort; then it must be quiet
        while time.monotonic() < deadline and not any(
                "disconnect" in r.getMessage().lower() for r in caplog.records):
            ok = httpx.get(f"{server.url}/healthz", timeout=5)
            assert ok.status_code == 200
            break
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
