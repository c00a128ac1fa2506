"""Transcripts: the record of every conversation, and replaying them as regression tests."""

from __future__ import annotations

from bot.scrub import REDACTED, scrub
from bot.transcripts.document import FORMAT, Outcome, Role, Transcript, Turn
from bot.transcripts.reader import find_transcripts, parse_transcript, read_transcript
from bot.transcripts.writer import transcript_from_session, write_transcript

__all__ = [
    "FORMAT",
    "REDACTED",
    "Outcome",
    "Role",
    "Transcript",
    "Turn",
    "find_transcripts",
    "parse_transcript",
    "read_transcript",
    "scrub",
    "transcript_from_session",
    "write_transcript",
]
