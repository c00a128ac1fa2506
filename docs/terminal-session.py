"""Record docs/terminal-session.txt: a real `deskbot chat` on a pty, as the screen shows it.

Starts the loopback mail world of tests/peers (its SMTP port list includes a filtered port),
types a conversation into `deskbot chat` on an 80-column pty, and renders what the terminal
displays with the `pyte` terminal emulator (pip install pyte; not a deskbot dependency).

    python docs/terminal-session.py [OUTPUT]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import pyte

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.peers import MailWorld, WorldOptions

COLUMNS, ROWS = 80, 500


class Pty:
    """A program on a pseudo-terminal whose screen is emulated (pyte)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(ROWS, COLUMNS))

    def pump(self, cue: str | None, timeout: float = 30.0) -> None:
        """Read output until the screen ends with `cue` (None: until the program ends)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.05))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return
            if cue is not None and cue in self.text().rstrip()[-200:]:
                return
        if cue is not None:
            raise SystemExit(f"timed out waiting for {cue!r}")

    def type(self, cue: str, keys: str) -> None:
        """Once `cue` is on screen, type `keys` at a person's pace."""
        self.pump(cue)
        time.sleep(0.4)
        for key in keys:
            self.child.send(key)
            time.sleep(0.02)

    def text(self) -> str:
        lines = [line.rstrip() for line in self.screen.display]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines) + "\n"


def outbox_answers(world: MailWorld, port: int) -> list[tuple[str, str]]:
    return [
        (">", "my emails are stuck in the outbox since this morning\r"),
        (">", f"{world.email}\r"),
        (">", "Thunderbird\r"),
        (">", "yes\r"),
        (">", "smtp.example.test\r"),
        (">", f"{port}\r"),
        (">", "starttls\r"),
        (">", "yes\r"),
        (">", "yes\r"),
        (">", f"{world.email}\r"),
        ("password (hidden) >", f"{world.password}\r"),
    ]


def whole_session(world: MailWorld, env: dict[str, str]) -> str:
    """outbox_stuck against a filtered port: the diagnosis port_blocked and the fix."""
    pty = Pty(["deskbot", "chat", "--config", str(world.config_path)], env)
    for cue, keys in outbox_answers(world, world.ports["filtered"]):
        pty.type(cue, keys)
    pty.pump(None)
    return pty.text()


def cancelled_checks(world: MailWorld, env: dict[str, str]) -> tuple[str, str]:
    """The live view while a silent server holds a check, then Ctrl-C: (frame, after)."""
    pty = Pty(["deskbot", "chat", "--config", str(world.config_path)], env)
    for cue, keys in outbox_answers(world, world.ports["silent"]):
        pty.type(cue, keys)
    pty.pump("(Ctrl-C to stop)")
    pty.pump(None, timeout=1.0)  # let the fast checks finish and the spinners turn
    frame = _after_password(pty.text())
    pty.type("", "\x03")
    pty.type("password (hidden) >", "\x04")
    pty.pump(None)
    return frame, _after_password(pty.text())


def _after_password(screen: str) -> str:
    """The screen below the line where the password was typed (hidden as stars)."""
    return screen[screen.index("password (hidden) > *"):].split("\n", 1)[1]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_suffix(".txt")
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", XDG_DATA_HOME=data,
                   TERM="xterm-256color")
        with MailWorld(WorldOptions(dovecot=False)) as world:
            session = whole_session(world, env)
        with MailWorld(WorldOptions(dovecot=False, timeout=30.0)) as world:
            frame, after = cancelled_checks(world, env)
    text = (
        "$ deskbot chat   # against the loopback mail world of tests/peers (hence the odd ports)\n"
        + session
        + "\n# While checks run, each spins until it ends in ✓ or ✗ (a frame of the live view):\n"
        + frame
        + "\n# Ctrl-C there stops the checks and returns to the question:\n"
        + after
    ).replace(data, "~/.local/share")
    assert world.password not in text
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
