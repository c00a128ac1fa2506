"""Reading transcripts: strict, with a message that says which file and what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from bot.errors import TranscriptError
from bot.files import UnreadableFile, read_bounded
from bot.transcripts.document import Transcript

# A transcript is a few kB; anything this large is not one and is refused before parsing.
MAX_BYTES = 16 * 1024 * 1024


def read_transcript(path: str | Path) -> Transcript:
    """Read and validate one transcript file; TranscriptError if it cannot be used."""
    path = Path(path)
    try:
        raw = read_bounded(path, MAX_BYTES)  # a FIFO or /dev/zero is refused, not read
    except UnreadableFile as exc:
        raise TranscriptError(f"{path}: cannot read transcript: {exc}") from exc
    return parse_transcript(raw, source=str(path))


def parse_transcript(raw: bytes | str, *, source: str = "transcript") -> Transcript:
    """Parse transcript text (bytes must be UTF-8)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TranscriptError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    if not raw.strip():
        raise TranscriptError(f"{source}: empty file, not a transcript")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TranscriptError(_json_message(source, raw, exc)) from exc
    except RecursionError as exc:
        raise TranscriptError(f"{source}: JSON nested too deeply to be a transcript") from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise TranscriptError(f"{source}: not a transcript: {str(exc)[:80]}") from exc
    return Transcript.from_dict(data, source=source)


def _json_message(source: str, raw: str, exc: json.JSONDecodeError) -> str:
    # A document cut short fails at (or just before) its very end: say "truncated", which
    # points at an interrupted copy, rather than a generic syntax error.
    if exc.pos >= len(raw.rstrip()) - 1:
        return f"{source}: truncated transcript (JSON ends early at line {exc.lineno})"
    return f"{source}:{exc.lineno}: corrupt transcript: {exc.msg} (column {exc.colno})"


def find_transcripts(paths: Iterable[str | Path]) -> list[Path]:
    """Transcript files named directly, or `*.json` files found under folders (sorted)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.json") if not p.name.startswith("."))
        elif path.exists():
            found.append(path)
        else:
            raise TranscriptError(f"{path}: no such transcript file or folder")
    return found
