"""A second store on the same file in one process (the start-up check's, then the service's)
must not drop SQLite's locks: another process reading the file would then delete the live WAL
and every later write would be lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.sessions import StoredSession
from bot.sessions.sqlite import SqliteStore


def _rows_seen_elsewhere(path: Path) -> int:
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute('SELECT count(*) FROM sessions').fetchone()[0]); c.close()")
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=30, check=True)
    return int(run.stdout)


async def test_a_read_from_another_process_loses_no_later_write(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    checked = SqliteStore(path)  # what `deskbot serve` opens to check the file at start-up
    store = SqliteStore(path)  # ... and the service's own
    await store.save("first", StoredSession(rev=1, state={"n": 1}))
    assert _rows_seen_elsewhere(path) == 1  # a backup or an admin's look at the file
    await store.save("second", StoredSession(rev=1, state={"n": 2}))
    assert _rows_seen_elsewhere(path) == 2
    del checked
    assert sqlite3.connect(path).execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
