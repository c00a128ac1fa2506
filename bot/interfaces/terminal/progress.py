"""The live view of network checks: a spinner per running check, then ✓/✗, target and time.

`ProgressView` is the engine's `ProbeObserver`; `render()` draws its current state and is
called by the refresh loop of a small prompt_toolkit Application (see `app.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prompt_toolkit.formatted_text import StyleAndTextTuples

from bot.interfaces.terminal.render import Symbols, clip, short_evidence, width_of
from bot.probes.model import Check

_PROBE_WIDTH = 7
_TARGET_WIDTH = 28
_MS_WIDTH = 8


@dataclass
class Row:
    """One check in the view: running until `check` arrives."""

    probe: str
    target: str
    started: float
    check: Check | None = None
    cancelled: bool = False


@dataclass
class ProgressView:
    """Collects checks as the probes report them and renders them as lines."""

    symbols: Symbols
    columns: int = 80
    clock: Callable[[], float] = time.monotonic
    rows: list[Row] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def check_started(self, probe: str, target: str) -> None:
        """A check began (ProbeObserver)."""
        self.rows.append(Row(probe, target, self.clock()))
        self.started.set()

    def check_finished(self, check: Check) -> None:
        """A check ended (ProbeObserver): the oldest running row of that probe and target."""
        for row in self.rows:
            if row.check is None and (row.probe, row.target) == (check.probe, check.target):
                row.check = check
                return
        # A check reported without a start (e.g. recorded or cached): show it finished.
        self.rows.append(Row(check.probe, check.target, self.clock(), check))
        self.started.set()

    def cancel_running(self) -> None:
        """Mark every unfinished check as cancelled (Ctrl-C)."""
        for row in self.rows:
            if row.check is None:
                row.cancelled = True

    @property
    def done_count(self) -> int:
        return sum(1 for r in self.rows if r.check is not None)

    def render(self, *, live: bool = True, limit: int | None = None) -> StyleAndTextTuples:
        """All rows (the last `limit` when given), with a header while checks still run."""
        out: StyleAndTextTuples = []
        if live:
            out.append(("class:hint", f"Checking from this computer... {self.done_count} of "
                        f"{len(self.rows)} done (Ctrl-C to stop)\n"))
        rows = self.rows if limit is None or limit >= len(self.rows) else self.rows[-limit:]
        for row in rows:
            out += self._line(row)
        return out

    def _line(self, row: Row) -> StyleAndTextTuples:
        s = self.symbols
        if row.check is not None:
            mark, style = {
                "ok": (s.ok, "class:ok"), "fail": (s.fail, "class:fail"),
            }.get(row.check.status, (s.skipped, "class:skipped"))
            ms, note = row.check.ms, short_evidence(row.check)
        elif row.cancelled:
            mark, style, ms, note = s.skipped, "class:skipped", None, "cancelled"
        else:
            elapsed = self.clock() - row.started
            mark = s.spinner[int(elapsed * 10) % len(s.spinner)]
            style, ms, note = "class:spinner", elapsed * 1000, ""
        # Narrow terminals give up target width first, keeping room for some evidence.
        room = max(12, self.columns - (4 + _PROBE_WIDTH + 1 + 1 + _MS_WIDTH + 2 + 16))
        target_width = min(_TARGET_WIDTH, room, max(width_of(r.target) for r in self.rows))
        target = clip(row.target, target_width)
        pad = " " * (target_width - width_of(target))
        ms_text = f"{ms:>{_MS_WIDTH - 3}.0f} ms" if ms is not None else " " * _MS_WIDTH
        used = 4 + _PROBE_WIDTH + 1 + target_width + 1 + _MS_WIDTH + 2
        return [
            (style, f"  {mark} "),
            ("", f"{clip(row.probe, _PROBE_WIDTH):<{_PROBE_WIDTH}} "),
            ("class:target", target + pad + " "),
            ("class:ms", ms_text + "  "),
            ("class:hint" if row.check is None else "", clip(note, max(8, self.columns - used))
             + "\n"),
        ]
