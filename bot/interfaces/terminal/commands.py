"""Slash commands of the terminal chat: parsed here, acted on by the chat loop (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CommandName = Literal["help", "back", "restart", "human", "settings", "save", "quit"]


@dataclass(frozen=True)
class CommandInfo:
    """One slash command as /help lists it."""

    name: CommandName
    usage: str
    summary: str


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("help", "/help", "show this list"),
    CommandInfo("back", "/back", "go back to the previous question"),
    CommandInfo("restart", "/restart", "start over from the beginning"),
    CommandInfo("human", "/human", "hand the case to a person, with everything checked so far"),
    CommandInfo("settings", "/settings", "show what deskbot knows so far"),
    CommandInfo("save", "/save [FILE]", "write the conversation transcript (JSON) to FILE"),
    CommandInfo("quit", "/quit", "leave deskbot"),
)

_BY_NAME: dict[str, CommandName] = {c.name: c.name for c in COMMANDS}
# Spellings people type out of habit from other tools.
_ALIASES: dict[str, CommandName] = {"exit": "quit", "q": "quit", "?": "help", "h": "help"}

# The engine's own repair phrases (docs/flow-language.md "Repair"): the commands that change the
# dialogue are sent as these, so the terminal adds no dialogue logic of its own.
REPAIR_PHRASES: dict[CommandName, str] = {
    "back": "go back",
    "restart": "start over",
    "human": "talk to a person",
}


@dataclass(frozen=True)
class SlashCommand:
    """A parsed slash command; `name` is None for an unknown one (then `word` says what it was)."""

    name: CommandName | None
    word: str
    argument: str = ""


def parse_command(text: str) -> SlashCommand | None:
    """The slash command in a user line, or None when the line is an ordinary answer.

    Any other "/word" is a command attempt, so a typo gets "unknown command" instead of being
    sent to the bot as an answer; a path-like answer ("/var/mail") stays an answer.
    """
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//") or len(stripped) < 2:
        return None
    word, _, argument = stripped[1:].partition(" ")
    if "/" in word:
        return None
    key = word.lower()
    name = _BY_NAME.get(key) or _ALIASES.get(key)
    return SlashCommand(name=name, word=word, argument=argument.strip())


def command_words() -> list[str]:
    """Every command as typed (for completion), in /help order."""
    return [f"/{c.name}" for c in COMMANDS]
