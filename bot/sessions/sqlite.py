"""The default store: one SQLite file, so a restarted service continues every conversation."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from bot.errors import ConfigError, StoreUnavailable
from bot.sessions.base import LocalLocks, StoredSession, WindowCounters

log = logging.getLogger(__name__)

PURGE_EVERY = 600.0  # seconds between deletions of expired conversations

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated REAL NOT NULL
)
"""


class SqliteStore:
    """Sessions in a SQLite file; the lock is per process (run one worker with this store).

    Statements run on the event loop's own thread: a WAL write of one session takes ~0.1 ms,
    far less than handing each one to a worker thread (measured: ~3 ms per call of GIL
    hand-over under load, which made the thread pool the bottleneck).
    """

    def __init__(self, path: Path, *, ttl: float = 7 * 86400.0) -> None:
        self.path = path
        self.ttl = ttl
        self._locks = LocalLocks()
        self._counters = WindowCounters()
        self._db: sqlite3.Connection | None = None
        self._purged = time.monotonic()
        self._connect()  # now, so a bad path is reported at startup, not at the first request

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # conversations hold personal data: owner-only, like the transcripts (SQLite gives
            # its -wal and -shm files the database file's mode). Only a new file: closing a
            # descriptor of a file this process has open in SQLite drops SQLite's POSIX locks,
            # and another process could then delete the live WAL.
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # WAL + NORMAL: a crash may lose the last turn's write, never corrupt the file;
            # busy_timeout lets a restarted service wait briefly for the old one's last write.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=2000")
            # an overwritten row (a password typed where a username was asked, scrubbed once
            # the password is known) is zeroed on disk, not left in a free page
            db.execute("PRAGMA secure_delete=ON")
            db.execute(_SCHEMA)
            db.execute("DELETE FROM sessions WHERE updated < ?", (time.time() - self.ttl,))
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"[serve] sqlite_path {self.path}: cannot open: {exc}") from exc
        self._db = db
        return db

    @property
    def db(self) -> sqlite3.Connection:
        """The connection (reopened after close(), e.g. by a second app lifespan)."""
        return self._db or self._connect()

    async def load(self, session_id: str) -> StoredSession | None:
        """The saved session, or None when unknown or older than the ttl."""
        row = self.db.execute(
            "SELECT rev, state, updated FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None or float(row[2]) < time.time() - self.ttl:
            return None
        return StoredSession(rev=int(row[0]), state=json.loads(row[1]))

    async def save(self, session_id: str, stored: StoredSession) -> None:
        """Write a session (insert or replace)."""
        text = json.dumps(stored.state, separators=(",", ":"))
        self._purge_expired()
        try:
            self.db.execute(
                "INSERT INTO sessions (id, rev, state, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET rev=excluded.rev, state=excluded.state, "
                "updated=excluded.updated",
                (session_id, stored.rev, text, time.time()),
            )
        except sqlite3.Error as exc:  # locked past busy_timeout, read-only, disk full
            raise StoreUnavailable(f"the conversation could not be saved ({exc}); "
                                   "nothing was changed, please send it again") from exc

    def _purge_expired(self) -> None:
        """Delete conversations past the ttl now and then (not only at start-up): a service
        that runs for months must not keep every conversation it ever had."""
        if time.monotonic() - self._purged < PURGE_EVERY:
            return
        self._purged = time.monotonic()
        with contextlib.suppress(sqlite3.Error):  # busy: the next save purges
            self.db.execute("DELETE FROM sessions WHERE updated < ?", (time.time() - self.ttl,))

    async def shred(self) -> None:
        """Copy the WAL into the (secure_delete) database file and truncate it: the old
        version of a scrubbed session survives in neither file."""
        try:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # busy readers: the next scrubbed save tries again
            log.warning("could not truncate the session store's WAL: %s", exc)

    async def page(self, status: str | None, after: str, limit: int
                   ) -> list[tuple[str, StoredSession]]:
        """A page of conversations by id (see SessionStore.page); filtered in SQL."""
        where = "id > ? AND instr(id, '.') = 0 AND updated >= ?"
        args: list[object] = [after, time.time() - self.ttl]
        if status == "open":
            where += " AND json_extract(state, '$.outcome') IS NULL"
        elif status is not None:
            where += " AND json_extract(state, '$.outcome.status') = ?"
            args.append(status)
        rows = self.db.execute(
            f"SELECT id, rev, state FROM sessions WHERE {where} ORDER BY id LIMIT ?",
            (*args, limit),
        ).fetchall()
        return [(str(r[0]), StoredSession(int(r[1]), json.loads(r[2]))) for r in rows]

    def lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """The in-process FIFO lock of this session."""
        return self._locks.hold(session_id)

    async def hit(self, key: str, window: float) -> int:
        """Count an event in this process (the SQLite store serves one worker)."""
        return self._counters.hit(key, window)

    async def close(self) -> None:
        """Close the connection (a later call opens it again)."""
        if self._db is not None:
            self._db.close()
            self._db = None
