"""Running one send while its probes report: the live view, and Ctrl-C that cancels them.

During a send the terminal shows a small prompt_toolkit Application (raw mode, so Ctrl-C
arrives as a key); before the first check starts, SIGINT is caught instead. Either way the
send's task is cancelled and the engine restores the session to its state before the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from prompt_toolkit.application import Application
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import Output

from bot.interfaces.terminal.progress import ProgressView
from bot.interfaces.terminal.render import STYLE

T = TypeVar("T")
CANCEL_ROUNDS, CANCEL_GRACE = 3, 0.3  # Ctrl-C: cancel this often, this many seconds apart
REFRESH = 0.1  # seconds between redraws of the spinners


class LiveSend:
    """Runs sends with a progress view; remembers cancelled ones still cleaning up."""

    def __init__(self, input: Input, output: Output) -> None:
        self.input, self.output = input, output
        self.unfinished: set[asyncio.Task[Any]] = set()

    async def run(self, work: Coroutine[Any, Any, T], view: ProgressView) -> T | None:
        """The send's result, or None when Ctrl-C stopped it first."""
        await self.settle()
        task = asyncio.create_task(work)
        stopped = asyncio.Event()

        def cancel() -> None:
            view.cancel_running()
            task.cancel()
            stopped.set()

        with _sigint_calls(cancel):
            started = asyncio.create_task(view.started.wait())
            await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
            started.cancel()
            if not task.done():
                await self._show(view, task, cancel)
            if not stopped.is_set():
                await asyncio.wait({task})
        if stopped.is_set():
            await self._stop(task)
            if not task.done() or task.cancelled() or task.exception() is not None:
                return None
            # The send finished in spite of the cancel (a probe swallowed it): show its reply.
        return task.result()

    async def settle(self) -> None:
        """Before the next send or the transcript: cancelled sends must have ended."""
        for task in list(self.unfinished):
            while not task.done():  # a clean-up may swallow one cancel: repeat until it ends
                task.cancel()
                await asyncio.wait({task}, timeout=CANCEL_GRACE)

    async def _stop(self, task: asyncio.Task[Any]) -> None:
        """Make a cancelled send end promptly.

        A probe's clean-up (a polite QUIT to a server that never answers) may itself wait up
        to the probe timeout; each further cancel cuts one such wait short. A send that still
        has not ended is left to finish: the session's lock keeps the next send behind it.
        """
        for _ in range(CANCEL_ROUNDS):
            if task.done():
                return
            task.cancel()
            await asyncio.wait({task}, timeout=CANCEL_GRACE)
        if not task.done():
            self.unfinished.add(task)
            task.add_done_callback(self.unfinished.discard)

    async def _show(self, view: ProgressView, task: asyncio.Task[Any],
                    cancel: Callable[[], None]) -> None:
        """Redraw the checks until the send ends or Ctrl-C cancels it; erased when done."""
        keys = KeyBindings()
        rows = max(3, self.output.get_size().rows - 2)
        app: Application[None] = Application(
            layout=Layout(Window(FormattedTextControl(lambda: view.render(limit=rows)))),
            key_bindings=keys, style=STYLE, refresh_interval=REFRESH,
            erase_when_done=True, input=self.input, output=self.output,
        )

        def stop(_: object = None) -> None:
            if app.is_running and app.future is not None and not app.future.done():
                app.exit()

        @keys.add("c-c")
        def _cancel(event: KeyPressEvent) -> None:
            cancel()
            stop()

        task.add_done_callback(stop)
        await app.run_async(pre_run=lambda: stop() if task.done() else None,
                            handle_sigint=False)


@contextlib.contextmanager
def _sigint_calls(handler: Callable[[], None]) -> Iterator[None]:
    """While a send runs outside raw mode, Ctrl-C (SIGINT) calls `handler` instead of
    interrupting the whole chat."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous)
