"""Where the HTTP service keeps conversations between requests, and the per-session lock.

`open_store(config)` picks the store named in the `[serve]` table: SQLite (default, one file
in the data directory, for one worker) or Redis (several workers sharing it).
"""

from __future__ import annotations

from bot.sessions.base import SessionStore, StoredSession
from bot.sessions.factory import check_store, open_store, store_settings

__all__ = ["SessionStore", "StoredSession", "check_store", "open_store", "store_settings"]
