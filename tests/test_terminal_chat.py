"""The terminal chat driven like a user would: keys in through prompt_toolkit's pipe input,
the screen captured from a real VT100 output, against the real engine, flows and loopback mail
peers (tests/peers). Ctrl-C, Ctrl-D and pasted text arrive as the bytes a terminal sends."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output.color_depth import ColorDepth
from prompt_toolkit.output.vt100 import Vt100_Output

from bot.config import Config
from bot.engine import Engine
from bot.errors import FlowError, FlowProblem
from bot.interfaces.terminal import TerminalChat
from tests.peers import MailWorld

FLOWS = Path(__file__).resolve().parents[1] / "flows"
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>]")
CTRL_C, CTRL_D = "\x03", "\x04"
PROMPT = "\n>"  # the answer prompt at the start of a line


def _find(text: str | re.Pattern[str], plain: str, start: int) -> int:
    """Where `text` (a string or a pattern) ends in `plain` after `start`, or -1."""
    if isinstance(text, re.Pattern):
        match = text.search(plain, start)
        return match.end() if match else -1
    found = plain.find(text, start)
    return found + len(text) if found >= 0 else -1


def running_check(probes: str, target: str) -> re.Pattern[str]:
    """A spinning row of one of `probes` (a|b) for `target` in the live view (redraws may turn
    runs of spaces into cursor moves)."""
    return re.compile(rf"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\s*(?:{probes})\s*{re.escape(target)}")


class Screen(io.StringIO):
    """What the chat wrote, as a UTF-8 terminal receives it."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def plain(self) -> str:
        return ANSI.sub("", self.getvalue()).replace("\r", "")


class Terminal:
    """A running chat: `type()` keys, `expect()` text on screen (polled with a deadline)."""

    def __init__(self, chat: TerminalChat, pipe: PipeInput, screen: Screen) -> None:
        self.chat, self.pipe, self.screen = chat, pipe, screen
        self.task = asyncio.create_task(chat.run())
        self.seen = 0

    def type(self, keys: str) -> None:
        self.pipe.send_text(keys)

    async def expect(self, text: str | re.Pattern[str], timeout: float = 10.0) -> str:
        """Wait for `text` after the previous match; returns the screen text up to it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            plain = self.screen.plain()
            if isinstance(text, re.Pattern) or not text.startswith("\n"):
                plain = plain.replace("\n", " ")  # wrapped lines: a line break reads as a space
            end = _find(text, plain, self.seen)
            if end >= 0:
                shown, self.seen = plain[self.seen:end], end
                return shown
            if self.task.done() or loop.time() > deadline:
                raise AssertionError(f"{text!r} not on screen; after the last match:\n"
                                     f"{plain[self.seen:]}")
            await asyncio.sleep(0.01)

    async def answer(self, question: str, keys: str) -> str:
        """Wait for a question and its prompt, then type the answer and Enter."""
        shown = await self.expect(question)
        shown += await self.expect(PROMPT)
        self.type(keys + "\r")
        return shown

    async def exit_code(self) -> int:
        return await asyncio.wait_for(self.task, 10.0)


TerminalFactory = Callable[..., Terminal]


@pytest.fixture
async def terminal(tmp_path: Path) -> AsyncIterator[TerminalFactory]:
    """Factory: `term = terminal(engine, context)` starts a chat on an 80x24 screen."""
    opened: list[tuple[Terminal, Any]] = []

    def start(engine: Engine | Callable[[], Engine], context: Mapping[str, str] | None = None,
              transcript: Path | None = None) -> Terminal:
        screen = Screen()
        output = Vt100_Output(screen, lambda: Size(rows=24, columns=80), term="xterm-256color",
                              default_color_depth=ColorDepth.from_env(), enable_cpr=False)
        pipe_cm = create_pipe_input()
        pipe = pipe_cm.__enter__()
        chat = TerminalChat(engine, context or {}, transcript=transcript,
                            transcript_dir=tmp_path / "autosave", input=pipe, output=output)
        term = Terminal(chat, pipe, screen)
        opened.append((term, pipe_cm))
        return term

    yield start
    for term, pipe_cm in reversed(opened):
        if not term.task.done():
            term.task.cancel()
            await asyncio.wait({term.task})
        pipe_cm.__exit__(None, None, None)


def engine_for(world: MailWorld) -> Engine:
    return Engine.load(FLOWS, config=Config.load(world.config_path))


def saved_transcripts(tmp_path: Path) -> list[dict[str, Any]]:
    files = sorted((tmp_path / "autosave").glob("*.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


async def walk_to_outgoing_check(term: Terminal, world: MailWorld, port: int) -> None:
    """outbox_stuck up to the probes: the app's settings, then consent and a hidden password."""
    await term.expect(PROMPT)
    term.type("my emails are stuck in the outbox\r")
    await term.answer("What is your e-mail address?", world.email)
    await term.answer("Which mail app", "Thunderbird")
    await term.answer("outgoing (SMTP) server?", "yes")
    await term.answer("outgoing (SMTP) server name", "smtp.example.test")
    await term.answer("Which port", str(port))
    await term.answer("SSL/TLS / STARTTLS / None", "STARTTLS")
    await term.answer("requires authentication", "yes")
    await term.answer("Shall I test the login?", "yes")
    await term.answer("What username", world.email)
    await term.expect("password (hidden) >")
    term.type(world.password + "\r")


async def test_a_whole_conversation_with_a_hidden_password_ends_in_an_actionable_answer(
    terminal: TerminalFactory, mail_world: Callable[..., MailWorld], tmp_path: Path,
) -> None:
    world = mail_world(dovecot=False)
    term = terminal(engine_for(world))
    greeting = await term.expect("Describe it in your own words.")
    assert "network checks" in greeting and "from this computer" in greeting
    assert "/help" in greeting
    await walk_to_outgoing_check(term, world, world.ports["refused"])

    shown = await term.expect("Transcript saved to")
    refused = f"smtp.example.test:{world.ports['refused']}"
    submission = f"smtp.example.test:{world.ports['submission']}"
    # The live checks end as marks with targets and times.
    assert re.search(rf"✗ tcp +{re.escape(refused)} +\d+ ms", shown), shown
    assert re.search(rf"✓ \w+ +{re.escape(submission)} +\d+ ms", shown), shown
    # The final answer: what's wrong, the evidence, the exact settings as a table.
    assert "What's wrong: The server does not accept connections" in shown
    assert "Evidence" in shown and f"✗ tcp {refused}" in shown
    table = shown[shown.index("Settings to use"):]
    assert "│ Server   │ smtp.example.test" in table
    assert f"│ Port     │ {world.ports['submission']}" in table
    assert await term.exit_code() == 0

    # The password was hidden as typed and is nowhere: screen, transcript.
    assert "*" * len(world.password) in term.screen.plain()
    assert world.password not in term.screen.getvalue()
    (transcript,) = saved_transcripts(tmp_path)
    assert transcript["outcome"]["diagnosis"] == "port_closed"
    assert world.password not in json.dumps(transcript)
    assert str(tmp_path / "autosave") in term.screen.plain().replace("\n", "")


async def test_ctrl_c_during_probes_cancels_them_and_the_conversation_goes_on(
    terminal: TerminalFactory, mail_world: Callable[..., MailWorld], tmp_path: Path,
) -> None:
    world = mail_world(dovecot=False, timeout=30.0)  # the silent server would hold us 30 s
    term = terminal(engine_for(world))
    await walk_to_outgoing_check(term, world, world.ports["silent"])
    await term.expect("Ctrl-C to stop")
    # The SMTP greeting on the silent port never comes: that check spins until cancelled.
    await term.expect(running_check("smtp|tls", f"smtp.example.test:{world.ports['silent']}"))
    term.type(CTRL_C)
    shown = await term.expect("Stopped the checks", timeout=5.0)
    assert "cancelled" in shown
    # Back at the question whose answer started the checks, with a working session.
    await term.expect("Please type your password")
    await term.expect("password (hidden) >")
    term.type("/settings\r")
    settings = await term.expect("outgoing port")
    assert "What deskbot knows so far" in settings
    await term.expect("password (hidden) >")
    term.type(CTRL_D)
    assert await term.exit_code() == 0
    (transcript,) = saved_transcripts(tmp_path)
    assert transcript["outcome"]["status"] in {"incomplete", "abandoned"}
    assert world.password not in json.dumps(transcript)


@pytest.fixture(scope="module")
def offline_engine() -> Engine:
    """The real flows with no mail world: for conversations that stop before any probe."""
    return Engine.load(FLOWS)


async def test_choice_questions_are_numbered_and_numbers_answer_them(
    terminal: TerminalFactory, offline_engine: Engine,
) -> None:
    term = terminal(offline_engine)
    await term.expect(PROMPT)
    term.type("my email doesn't work\r")
    choices = await term.expect("Something else")
    outbox = offline_engine.title("outbox_stuck")
    assert f"1) {outbox}" in choices, choices
    await term.expect(PROMPT)
    term.type("1\r")
    await term.expect(f"Let's look at this: {outbox}")
    await term.answer("What is your e-mail address?", "alice@example.test")
    # A yes/no question offers its answers, and the usual variants are understood.
    await term.answer("Which mail app", "Outlook 2016")
    await term.expect("Yes / No")
    await term.expect(PROMPT)
    term.type("yep\r")
    await term.expect("outgoing (SMTP) server name")


async def test_ctrl_c_at_the_prompt_asks_before_quitting_and_ctrl_d_quits(
    terminal: TerminalFactory, offline_engine: Engine, tmp_path: Path,
) -> None:
    term = terminal(offline_engine)
    await term.expect(PROMPT)
    term.type(CTRL_C)
    await term.expect("Quit deskbot? [y/N]")
    term.type("n\r")
    await term.expect(PROMPT)  # still in the conversation
    term.type("my mail is stuck in the outbox\r")
    await term.expect("What is your e-mail address?")
    await term.expect(PROMPT)
    term.type(CTRL_C)
    await term.expect("Quit deskbot? [y/N]")
    term.type("y\r")
    assert await term.exit_code() == 0
    await term.expect("Transcript saved to")
    (transcript,) = saved_transcripts(tmp_path)
    assert transcript["turns"][-1]["kind"] == "question"

    term = terminal(offline_engine)
    await term.expect(PROMPT)
    term.type(CTRL_D)
    assert await term.exit_code() == 0


async def test_slash_commands_help_settings_save_back_restart_and_human(
    terminal: TerminalFactory, offline_engine: Engine, tmp_path: Path,
) -> None:
    requested = tmp_path / "requested.json"  # what `deskbot chat --transcript F` asks for
    term = terminal(offline_engine, {"client": "thunderbird"}, requested)
    await term.expect(PROMPT)
    term.type("/help\r")
    listing = await term.expect("/quit")
    for command in ("/back", "/restart", "/human", "/settings", "/save [FILE]"):
        assert command in listing
    await term.answer("", "my mail is stuck in the outbox")
    await term.answer("What is your e-mail address?", "alice@example.test")
    await term.answer("outgoing (SMTP) server?", "/back")
    await term.expect("Going back to the previous question.")
    await term.answer("What is your e-mail address?", "/settings")
    settings = await term.expect("What deskbot knows so far")
    settings = await term.expect(PROMPT)
    assert "client" in settings and "thunderbird" in settings
    saved = tmp_path / "mine" / "case.json"
    term.type(f"/save {saved}\r")
    await term.expect(f"Transcript saved to {saved}")
    assert json.loads(saved.read_text(encoding="utf-8"))["format"] == 1
    await term.answer("", "/frobnicate")
    await term.expect("Unknown command /frobnicate")
    await term.answer("", "/restart")
    await term.expect("Let's start over.")
    await term.answer("", "/human")
    handoff = await term.expect("Transcript saved to")
    assert "Handing over to a person" in handoff
    assert await term.exit_code() == 0
    transcripts = saved_transcripts(tmp_path)
    assert [t["outcome"]["status"] for t in transcripts] == ["handoff"]
    assert json.loads(requested.read_text(encoding="utf-8"))["outcome"]["status"] == "handoff"


async def test_pasted_multi_line_text_is_one_answer_and_unicode_is_fine(
    terminal: TerminalFactory, offline_engine: Engine, tmp_path: Path,
) -> None:
    term = terminal(offline_engine)
    await term.expect(PROMPT)
    # Bracketed paste, as a terminal sends a pasted block: one answer, not three.
    term.type("\x1b[200~Grüße! my mails\nare stuck in the outbox 📤\nsince Monday\x1b[201~\r")
    shown = await term.expect("What is your e-mail address?")
    assert f"Let's look at this: {offline_engine.title('outbox_stuck')}" in shown
    assert shown.count("Let's look at this") == 1
    await term.expect(PROMPT)
    term.type("/quit\r")
    assert await term.exit_code() == 0
    (transcript,) = saved_transcripts(tmp_path)
    user = [t["text"] for t in transcript["turns"] if t["role"] == "user"]
    assert user == ["Grüße! my mails are stuck in the outbox 📤 since Monday"]


async def test_colour_on_a_colour_terminal_and_none_with_no_color(
    terminal: TerminalFactory, offline_engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    colour = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;5;\d+)m")

    async def unknown_command_screen() -> str:
        term = terminal(offline_engine)
        await term.expect(PROMPT)
        term.type("/nope\r")
        await term.expect("Unknown command /nope")
        term.type(CTRL_D)
        await term.exit_code()
        return term.screen.getvalue()

    assert colour.search(await unknown_command_screen())
    monkeypatch.setenv("NO_COLOR", "1")
    plain = await unknown_command_screen()
    assert not colour.search(plain)
    assert "Unknown command /nope" in ANSI.sub("", plain)


class Pty:
    """`deskbot chat` as a user runs it: the console script on a pseudo-terminal (pexpect)."""

    def __init__(self, args: list[str], env: Mapping[str, str]) -> None:
        import pexpect

        self.pexpect = pexpect
        # The console script beside this interpreter: the one this checkout installed.
        script = Path(sys.executable).with_name("deskbot")
        self.child = pexpect.spawn(str(script) if script.exists() else "deskbot", args,
                                   env=dict(env), encoding="utf-8", dimensions=(24, 80),
                                   timeout=10)
        self.raw, self.seen = "", 0

    def plain(self) -> str:
        return ANSI.sub("", self.raw).replace("\r", "")

    def expect(self, text: str | re.Pattern[str], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            plain = self.plain()
            if isinstance(text, re.Pattern) or not text.startswith("\n"):
                plain = plain.replace("\n", " ")
            end = _find(text, plain, self.seen)
            if end >= 0:
                shown: str = plain[self.seen:end]
                self.seen = end
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen; after the last match:\n"
                                     f"{plain[self.seen:]}")
            try:
                self.raw += self.child.read_nonblocking(65536, timeout=0.05)
            except self.pexpect.TIMEOUT:
                continue
            except self.pexpect.EOF:
                if _find(text, plain, self.seen) < 0:
                    raise AssertionError(f"{text!r} never shown; screen:\n{plain}") from None

    def answer(self, question: str, keys: str) -> None:
        self.expect(question)
        self.expect(PROMPT)
        self.child.send(keys + "\r")

    def exit_status(self) -> int | None:
        self.child.expect(self.pexpect.EOF, timeout=15)
        self.child.close()
        status: int | None = self.child.exitstatus
        return status


def test_deskbot_chat_on_a_real_pty_with_password_and_ctrl_c_during_probes(
    mail_world: Callable[..., MailWorld], tmp_path: Path,
) -> None:
    world = mail_world(dovecot=False, timeout=30.0)
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", XDG_DATA_HOME=str(tmp_path),
               TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    pty = Pty(["chat", "--config", str(world.config_path)], env)
    greeting = pty.expect("Describe it in your own words.")
    assert "from this computer" in greeting
    pty.expect(PROMPT)
    pty.child.send("my mail is stuck in the outbox\r")
    pty.answer("What is your e-mail address?", world.email)
    pty.answer("Which mail app", "Apple Mail")
    pty.answer("outgoing (SMTP) server?", "yes")
    pty.answer("outgoing (SMTP) server name", "smtp.example.test")
    pty.answer("Which port", str(world.ports["silent"]))
    pty.answer("SSL/TLS / STARTTLS / None", "ssl")
    pty.answer("requires authentication", "yes")
    pty.answer("Shall I test the login?", "yes")
    pty.answer("What username", world.email)
    pty.expect("password (hidden) >")
    pty.child.send(world.password + "\r")
    pty.expect("Ctrl-C to stop")
    pty.expect(running_check("smtp|tls", f"smtp.example.test:{world.ports['silent']}"))
    pty.child.sendcontrol("c")
    shown = pty.expect("Stopped the checks")
    assert "cancelled" in shown
    pty.expect("password (hidden) >")
    pty.child.sendcontrol("d")
    pty.expect("Transcript saved to")
    assert pty.exit_status() == 0
    assert world.password not in pty.raw
    transcripts = list((tmp_path / "deskbot" / "transcripts").glob("chat-*.json"))
    assert len(transcripts) == 1 and "deskbot/transcripts" in pty.plain().replace("\n", "")
    assert world.password not in transcripts[0].read_text(encoding="utf-8")


async def test_up_arrow_recalls_earlier_answers_for_editing(
    terminal: TerminalFactory, offline_engine: Engine,
) -> None:
    term = terminal(offline_engine)
    await term.expect(PROMPT)
    term.type("the weather is bad\r")
    await term.expect("does not sound like an e-mail problem")
    await term.expect(PROMPT)
    # Up recalls the line; Ctrl-W deletes the last word, and the edited line is sent.
    term.type("\x1b[A\x17\x17\x17mail is stuck in the outbox\r")
    shown = await term.expect("What is your e-mail address?")
    assert "> the mail is stuck in the outbox" in shown


async def test_a_password_that_looks_like_a_command_is_still_a_secret(
    terminal: TerminalFactory, offline_engine: Engine, tmp_path: Path,
) -> None:
    term = terminal(offline_engine, {"email": "alice@example.test", "client": "thunderbird",
                                     "outgoing_server": "smtp.example.test",
                                     "outgoing_port": "587", "outgoing_security": "starttls",
                                     "outgoing_auth": "true", "username": "alice"})
    await term.answer("", "my mail is stuck in the outbox")
    await term.answer("Shall I test the login?", "yes")
    await term.expect("password (hidden) >")
    term.type("/etc/Tr0ub4dor&3-format\r")
    # Taken as the password, not as a command: the checks run (and, offline, end in a handoff).
    shown = await term.expect("Transcript saved to", timeout=20.0)
    assert "Let me test sending" in shown and "Unknown command" not in shown
    assert await term.exit_code() == 0
    assert "Tr0ub4dor" not in term.screen.getvalue()
    (transcript,) = saved_transcripts(tmp_path)
    assert "Tr0ub4dor" not in json.dumps(transcript)


async def test_the_first_prompt_does_not_wait_for_the_flows_to_load(
    terminal: TerminalFactory, offline_engine: Engine, tmp_path: Path,
) -> None:
    loaded = threading.Event()

    def slow_loader() -> Engine:
        loaded.wait(10.0)  # the flows are still loading while the user reads and types
        return offline_engine

    term = terminal(slow_loader)
    shown = await term.expect(PROMPT)
    assert "from this computer" in shown and "Describe it in your own words" in shown
    term.type("my mail is stuck in the outbox\r")
    loaded.set()
    after = await term.expect("What is your e-mail address?")
    assert "Hi, I'm deskbot" not in after  # the greeting is not shown twice
    await term.expect(PROMPT)
    term.type(CTRL_D)
    assert await term.exit_code() == 0
    (transcript,) = saved_transcripts(tmp_path)
    assert transcript["turns"][0]["role"] == "bot"  # the greeting is in the record


async def test_flows_that_fail_to_load_end_the_chat_at_once_with_the_error(
    terminal: TerminalFactory,
) -> None:
    def broken() -> Engine:
        raise FlowError([FlowProblem("flows/outbox_stuck.yaml", 3, "no 'start' node")])

    term = terminal(broken)
    with pytest.raises(FlowError, match=r"outbox_stuck\.yaml:3"):
        await term.exit_code()
