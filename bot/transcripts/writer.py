"""Writing transcripts: a session's `Transcript` to an atomic, secret-free JSON file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from bot.errors import TranscriptError
from bot.scrub import scrub
from bot.transcripts.document import Transcript, Turn

log = logging.getLogger(__name__)


class TranscriptSource(Protocol):
    """What a transcript is taken from: an engine `Session` (docs/api.md)."""

    def transcript(self) -> Transcript: ...

    def held_secrets(self) -> tuple[str, ...]: ...


def transcript_from_session(session: TranscriptSource) -> Transcript:
    """The session's transcript with every secret it holds scrubbed.

    Scrubbed here too, so a transcript served without being written (the HTTP service's
    endpoint) is as clean as one on disk.
    """
    return _scrubbed(session.transcript(), session.held_secrets())


def _scrubbed(transcript: Transcript, secrets: Iterable[str]) -> Transcript:
    # The turns may echo a secret, and so may the context: a help desk can put the password
    # in another field (username, client) by mistake. `redacted` names only slots.
    values = tuple(secrets)
    turns = [t.to_dict() for t in transcript.turns]
    clean = scrub(turns, values)
    context = scrub(dict(transcript.context), values)
    if clean is turns and context == transcript.context:
        return transcript
    return replace(transcript, turns=tuple(Turn.from_dict(t) for t in clean), context=context)


def write_transcript(
    path: str | Path, transcript: Transcript | TranscriptSource, *, secrets: Iterable[str] = ()
) -> Path:
    """Write a Transcript (or a session's) to `path` atomically; returns the path.

    Every secret value the session holds, plus `secrets`, is scrubbed (in every encoding,
    `bot.scrub`) from the whole document before it is serialised: no password reaches the disk
    even if a turn carried one by mistake.
    """
    values = set(secrets)
    if not isinstance(transcript, Transcript):
        values |= set(transcript.held_secrets())
        transcript = transcript.transcript()
    document = scrub(transcript.to_dict(), values)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return _atomic_write(Path(path), text)


def _atomic_write(path: Path, text: str) -> Path:
    # Temp file in the same folder, fsync, then rename: a crash leaves the old file or the new
    # one, never half of either, and os.replace is atomic on one file system. A device such as
    # /dev/null or /dev/stdout is written in place: renaming over it (as root) would replace
    # the device node for the whole machine.
    if path.exists() and not path.is_file():
        return _write_in_place(path, text)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot write transcript: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TranscriptError(f"{path}: cannot write transcript: {exc.strerror or exc}") from exc
    return path



def _write_in_place(path: Path, text: str) -> Path:
    if not path.is_char_device():
        raise TranscriptError(f"{path}: cannot write transcript: not a regular file")
    try:
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot write transcript: {exc.strerror or exc}") from exc
    return path
