"""The store protocol and the in-process half of the per-session lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredSession:
    """A saved conversation: its engine state and a revision bumped on every save."""

    rev: int
    state: Mapping[str, Any]


class SessionStore(Protocol):
    """Persistence for conversations; every method is safe to call from many tasks."""

    async def load(self, session_id: str) -> StoredSession | None:
        """The saved session, or None when unknown or expired."""
        ...

    async def save(self, session_id: str, stored: StoredSession) -> None:
        """Write (or overwrite) a session."""
        ...

    async def shred(self) -> None:
        """Make earlier versions of rewritten sessions unrecoverable from the store's files
        (called after a save that scrubbed a secret learnt late)."""
        ...

    def lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Hold while handling one message: one at a time per session, in arrival order."""
        ...

    async def hit(self, key: str, window: float) -> int:
        """Count one event under `key`; returns the count in the current window of seconds."""
        ...

    async def page(self, status: str | None, after: str, limit: int
                   ) -> list[tuple[str, StoredSession]]:
        """Up to `limit` conversations with ids greater than `after`, in id order, whose
        status (`open` while there is no outcome, else the outcome's) is `status` (None:
        any). Only conversations: the service's other records have a dot in their id."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


class LocalLocks:
    """One FIFO asyncio.Lock per session id, dropped when nobody holds or waits for it.

    asyncio.Lock wakes waiters in arrival order, which is what keeps one session's messages in
    order inside a worker; the dict never grows beyond the sessions currently busy.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(session_id, (asyncio.Lock(), 0))
        self._locks[session_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[session_id]
            if users <= 1:
                del self._locks[session_id]
            else:
                self._locks[session_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class WindowCounters:
    """Fixed-window event counters in this process (rate limits of a single worker)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, window: float) -> int:
        now = time.monotonic()
        start, count = self._counts.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        self._counts[key] = (start, count + 1)
        if len(self._counts) > 10_000:  # bounded: forget windows that have ended
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < window}
        return count + 1


def status_of(state: Mapping[str, Any]) -> str:
    """`open` while a saved conversation has no outcome, else the outcome's status."""
    outcome = state.get("outcome")
    return str(outcome.get("status")) if isinstance(outcome, Mapping) else "open"
