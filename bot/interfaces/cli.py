"""`deskbot` command line: one subcommand per module, dispatched here (CONTRACT.md)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from bot.errors import DeskbotError
from bot.interfaces.printable import printable

# subcommand → module in bot.interfaces that has add_arguments(parser) and run(args) -> int
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("cmd_chat", "talk to deskbot (interactive on a terminal, plain from a pipe)"),
    "match": ("cmd_match", "classify what a user first types into a symptom"),
    "probe": ("cmd_probe", "run discovery and every network check for an address"),
    "flows": ("cmd_flows", "check or draw the flow files"),
    "replay": ("cmd_replay", "re-run saved transcripts through the current flows"),
    "serve": ("cmd_serve", "the help-desk HTTP service"),
}


class _Parser(argparse.ArgumentParser):
    """argparse quoting the bad argument back: terminal controls in it are shown escaped."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, printable(f"{self.prog}: error: {message}") + "\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand's module is imported (fast start-up)."""
    parser = _Parser(
        prog="deskbot", description="An e-mail troubleshooter that proves its diagnosis."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if only is not None and name != only:
            continue
        module = importlib.import_module(f"bot.interfaces.{module_name}")
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `deskbot` console script."""
    words = list(sys.argv[1:] if argv is None else argv)
    # `deskbot match` must start fast: import only the chosen subcommand's module.
    chosen = next((w for w in words if not w.startswith("-")), None)
    try:  # a subcommand's import may load package data (the diagnosis table) and refuse it
        args = build_parser(chosen if chosen in COMMANDS else None).parse_args(argv)
    except DeskbotError as exc:
        print(f"deskbot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.run(args)
    except DeskbotError as exc:
        # the message may quote a file or a server: no terminal controls on stderr either
        print(printable(f"deskbot: {exc}"), file=sys.stderr)
        return 2
    except BrokenPipeError:  # before OSError, its base class
        # The reader left (`deskbot match --eval F | head`): stop quietly, as `cat` does.
        # stdout points at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a writer cut off by its reader
    except OSError as exc:  # a path given on the command line that the OS refuses outright
        where = f"{str(exc.filename)[:80]}: " if exc.filename else ""
        print(printable(f"deskbot: {where}{exc.strerror or exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
