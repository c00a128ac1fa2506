"""`deskbot chat` (CONTRACT.md): a conversation; plain text from a pipe, the TUI on a terminal."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from bot.engine import Engine, Reply, Session
from bot.flows.bundled import flow_folders
from bot.interfaces.config_file import load_config
from bot.interfaces.plain import render_reply
from bot.interfaces.printable import PrintableOut
from bot.scrub import scrub_text
from bot.slots import read_answers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--answers", type=Path, help="YAML mapping of slot name to value")
    parser.add_argument("--transcript", type=Path, help="write the transcript here at the end")
    parser.add_argument("--flows", type=Path, help="your own flows folder, over the bundled flows")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    context = read_answers(args.answers) if args.answers else {}
    flows = flow_folders(args.flows)
    if sys.stdin.isatty() and sys.stdout.isatty():
        terminal = _terminal_chat()
        if terminal is not None:
            # A loader: the terminal shows its first prompt while the flows load (start-up).
            code: int = terminal(lambda: Engine.load(flows, config=config), context, args)
            return code
    engine = Engine.load(flows, config=config)
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a pasted binary log must not crash the chat
    return asyncio.run(plain_chat(engine, context, sys.stdin, sys.stdout, args.transcript))


def _terminal_chat() -> Any:
    try:
        module = importlib.import_module("bot.interfaces.terminal")
    except ImportError:
        return None
    return getattr(module, "run_terminal_chat", None)


async def plain_chat(
    engine: Engine, context: Mapping[str, str], lines: TextIO, out: TextIO,
    transcript: Path | None = None,
) -> int:
    """Read user lines until the conversation ends or input does; print the bot's turns."""
    session = engine.start(context)
    try:
        _show(await session.open(), out, session)
        while session.outcome is None:
            line = await asyncio.to_thread(lines.readline)
            if not line:
                _show(await session.finish(), out, session)
                break
            _show(await session.send(line.rstrip("\r\n")), out, session)
    finally:
        if transcript is not None:
            _write_transcript(transcript, session)
    return 0


def _show(reply: Reply, stream: TextIO, session: Session) -> None:
    out = PrintableOut(stream)  # server replies and echoed text may hold terminal controls
    # a server may echo a password back, quoted or base64
    out.write(scrub_text(render_reply(reply), session.held_secrets()))
    out.flush()


def _write_transcript(path: Path, session: Session) -> None:
    from bot.transcripts import write_transcript

    write_transcript(path, session)
