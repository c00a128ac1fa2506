"""Record docs/terminal-session.txt: a real `deskbot chat` on a pseudo-terminal, as a screen shows it.

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
from tests.peers import MailWorld, WorldOptions  # noqa: E402

COLUMNS, ROWS = 80, 500


def record(argv: list[str], steps: list[tuple[str, str]], env: dict[str, str]) -> str:
    """Type each answer once its cue is on screen; the screen's text when the program ends."""
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(ROWS, COLUMNS))

    def pump(cue: str | None, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                stream.feed(child.read_nonblocking(65536, timeout=0.05))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return
            shown = " ".join(line.strip() for line in screen.display)
            if cue is not None and shown.rstrip().endswith(cue):
                return
        if cue is not None:
            raise SystemExit(f"timed out waiting for {cue!r}")

    for cue, keys in steps:
        pump(cue)
        time.sleep(0.4)  # a person reads before typing
        for key in keys:
            child.send(key)
            time.sleep(0.02)
    pump(None)
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_suffix(".txt")
    with MailWorld(WorldOptions(dovecot=False)) as world, tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", XDG_DATA_HOME=data,
                   TERM="xterm-256color")
        steps = [
            (">", "my emails are stuck in the outbox since this morning\r"),
            (">", f"{world.email}\r"),
            (">", "Thunderbird\r"),
            (">", "yes\r"),
            (">", "smtp.example.test\r"),
            (">", f"{world.ports['filtered']}\r"),
            (">", "starttls\r"),
            (">", "yes\r"),
            (">", "yes\r"),
            (">", f"{world.email}\r"),
            ("password (hidden) >", f"{world.password}\r"),
        ]
        text = record(["deskbot", "chat", "--config", str(world.config_path)], steps, env)
    text = text.replace(data, "~/.local/share")
    assert world.password not in text
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
