"""The transcript document (CONTRACT.md, format 1), defined beside the engine that produces it.

Re-exported here for the readers and writers of transcript files; see `bot.engine.transcript`.
"""

from __future__ import annotations

from bot.engine.transcript import FORMAT, STATUSES, Role, Transcript, Turn, utc_now
from bot.engine.values import Outcome

__all__ = ["FORMAT", "STATUSES", "Outcome", "Role", "Transcript", "Turn", "utc_now"]
