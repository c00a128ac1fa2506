"""The interactive terminal chat (prompt_toolkit); imported lazily by `deskbot chat` on a TTY."""

from __future__ import annotations

from bot.interfaces.terminal.app import TerminalChat, run_terminal_chat

__all__ = ["TerminalChat", "run_terminal_chat"]
