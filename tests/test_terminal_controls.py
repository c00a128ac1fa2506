"""Text from outside never reaches a terminal raw (issue 15): a mail server's greeting with
OSC/CSI sequences and BEL, and a hostile transcript, are shown escaped by `deskbot probe`,
`deskbot chat` (pipe and terminal) and `deskbot replay`. The hostile greeting comes from the
real aiosmtpd peer, whose 220 line carries the host name it is given."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.peers import MailWorld
from tests.test_terminal_chat import (  # noqa: F401  (the fixture is used by name)
    TerminalFactory,
    engine_for,
    terminal,
)

HOSTILE = "smtp.example.test \x1b]0;title\x07\x1b[2J\x1b[8mhidden"
RAW = ("\x1b]0;title", "\x07", "\x1b[2J", "\x1b[8m")
REPO = Path(__file__).resolve().parents[1]


def _deskbot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin,
                          capture_output=True, text=True, timeout=90)


def _hostile_world(mail_world: Callable[..., MailWorld]) -> MailWorld:
    world = mail_world(dovecot=False)
    world.smtp.greeting_host = HOSTILE
    return world


def _assert_escaped(out: str) -> None:
    for raw in RAW:
        assert raw not in out, f"{raw!r} reached the terminal"


def test_probe_report_and_json_show_a_hostile_greeting_escaped(
    mail_world: Callable[..., MailWorld],
) -> None:
    world = _hostile_world(mail_world)
    answers = world.write_answers()
    human = _deskbot("probe", world.email, "--answers", str(answers),
                     "--config", str(world.config_path))
    assert human.returncode == 0, human.stderr
    _assert_escaped(human.stdout)
    assert "\\x1b]0;title\\x07" in human.stdout  # shown, not hidden
    as_json = _deskbot("probe", world.email, "--json", "--answers", str(answers),
                       "--config", str(world.config_path))
    _assert_escaped(as_json.stdout)
    evidence = " ".join(c["evidence"] for c in json.loads(as_json.stdout)["checks"])
    assert "\x1b]0;title\x07" in evidence  # the JSON still carries the exact text


def test_plain_chat_shows_a_hostile_greeting_escaped(
    mail_world: Callable[..., MailWorld],
) -> None:
    world = _hostile_world(mail_world)
    answers = world.write_answers(message="my emails are stuck in the outbox")
    done = _deskbot("chat", "--answers", str(answers), "--config", str(world.config_path))
    assert done.returncode == 0, done.stderr
    assert "title" in done.stdout
    _assert_escaped(done.stdout)


async def test_terminal_chat_shows_a_hostile_greeting_escaped(
    terminal: TerminalFactory, mail_world: Callable[..., MailWorld],  # noqa: F811
) -> None:
    world = _hostile_world(mail_world)
    context = world.answers(message="my emails are stuck in the outbox", client="Thunderbird")
    term = terminal(engine_for(world), context)
    await term.expect("title", timeout=20)
    assert "title\x07" not in term.screen.getvalue()
    assert "\\x1b]0;title\\x07" in term.screen.plain()


def test_replay_diff_shows_a_hostile_transcript_escaped(tmp_path: Path) -> None:
    source = sorted((REPO / "transcripts" / "auth_failed").glob("*.json"))[0]
    doc = json.loads(source.read_text(encoding="utf-8"))
    bot_turns = [t for t in doc["turns"] if t["role"] == "bot"]
    bot_turns[1]["text"] = "\x1b]0;owned\x07\x1b[2J\x1b[8mhidden \x9b31m red"
    hostile = tmp_path / "hostile\x1b[2J.json"
    hostile.write_text(json.dumps(doc), encoding="utf-8")
    done = _deskbot("replay", str(hostile))
    assert done.returncode == 1
    assert "diverged" in done.stdout and "owned" in done.stdout
    _assert_escaped(done.stdout)
    assert "\x9b" not in done.stdout and "\\x9b31m" in done.stdout
