"""A password typed where no password was asked never stays anywhere deskbot writes.

The dialogue goes out of step the way it does for real customers: asked for their mail app,
the customer types their password; later, asked for the password, they type it again
(hidden). And a password the session already knows (a help desk passed it) is typed at an
ordinary question. Driven through the three ways in (plain chat
on stdin, the HTTP service with its SQLite session store, the terminal on a pseudo-terminal),
then every file deskbot wrote is searched for the password, in any byte form.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.config import Config
from bot.interfaces.http import create_app

PASSWORD = "Tr0ub4dor&3-format"  # one of tests/test_no_secrets.TEST_PASSWORDS
EMAIL = "alice@example.test"
# An out-of-step dialogue: the password as the mail app, then where it is asked, then again.
LINES = [
    "my mail is stuck in the outbox",
    EMAIL,
    PASSWORD,  # "Which mail app ...?": out of step
    "no",  # can you read the outgoing server? no
    "yes",  # test the login? yes
    EMAIL,  # username
    PASSWORD,  # the hidden password question
]


def _config(tmp: Path) -> Path:
    path = tmp / "deskbot.toml"
    path.write_text(
        '[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n'
        f'[serve]\nsqlite_path = "{tmp / "sessions.db"}"\n', encoding="utf-8")
    return path


def _files(root: Path) -> Iterator[Path]:
    yield from (p for p in root.rglob("*") if p.is_file())


def assert_nowhere(root: Path, skip: frozenset[str] = frozenset({"deskbot.toml"})) -> None:
    needle = PASSWORD.encode()
    written = [p for p in _files(root) if p.name not in skip]
    assert written, "deskbot wrote nothing to search"
    for path in written:
        assert needle not in path.read_bytes(), f"{path} holds the password"


def test_plain_chat_on_stdin(tmp_path: Path) -> None:
    """Issue 11, failing input 5: a dialogue out of step (the password typed at "Which mail
    app?", then at the hidden question) never stores the password as a user turn."""
    transcript = tmp_path / "t.json"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--config", str(_config(tmp_path)),
         "--transcript", str(transcript)],
        input="\n".join(LINES) + "\n", capture_output=True, text=True,
        timeout=120, check=False, env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert run.returncode == 0, run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    turns = json.loads(transcript.read_text(encoding="utf-8"))["turns"]
    assert sum(1 for t in turns if t.get("redacted")) == 2  # the misplaced line and the hidden one
    assert_nowhere(tmp_path)


async def test_http_service_and_its_session_store(tmp_path: Path) -> None:
    """Issue 11, failing input 5, through the HTTP service and its SQLite store."""
    config = Config.load(_config(tmp_path), serve_mode=True)
    app = create_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://deskbot", timeout=60) as http:
        shown = []
        for context, lines in (({}, LINES), ({"password": PASSWORD}, LINES[:4])):
            res = await http.post("/v1/sessions", json={"context": context})
            assert res.status_code == 201, res.text
            sid = res.json()["id"]
            for line in lines:
                res = await http.post(f"/v1/sessions/{sid}/messages", json={"text": line})
                assert res.status_code == 200, res.text
                shown.append(res.text)
                if res.json()["outcome"] is not None:
                    break
            transcript = await http.get(f"/v1/sessions/{sid}/transcript")
            shown.append(transcript.text)
    # the known password typed at "Which mail app?" is refused on arrival, and said so
    assert "looks like your password" in "".join(shown)
    assert PASSWORD not in "".join(shown)
    assert_nowhere(tmp_path)


def test_terminal_chat(tmp_path: Path) -> None:
    """Issue 11, failing input 5, in the terminal chat on a pseudo-terminal."""
    from tests.test_terminal_chat import PROMPT, Pty

    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", XDG_DATA_HOME=str(tmp_path / "xdg"),
               TERM="xterm-256color", NO_COLOR="1")
    pty = Pty(["chat", "--config", str(_config(tmp_path))], env)
    pty.expect("Describe it in your own words.")
    pty.expect(PROMPT)
    pty.child.send(LINES[0] + "\r")
    pty.answer("What is your e-mail address?", LINES[1])
    pty.answer("Which mail app", LINES[2])
    pty.answer("outgoing (SMTP) server?", LINES[3])
    pty.answer("Shall I test the login?", LINES[4])
    pty.answer("What username", LINES[5])
    pty.expect("password (hidden) >")
    pty.child.send(LINES[6] + "\r")
    pty.expect("technician", timeout=60)
    pty.child.sendcontrol("d")
    pty.expect("Transcript saved to")
    assert pty.exit_status() == 0
    assert list((tmp_path / "xdg").rglob("*.json")), "the terminal saved no transcript"
    assert_nowhere(tmp_path)
