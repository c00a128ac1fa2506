"""Writing transcripts: from a live session to an atomic, secret-free JSON file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import __version__
from bot.errors import TranscriptError
from bot.scrub import scrub, session_secrets
from bot.slots import SECRET_SLOTS
from bot.transcripts.document import Transcript, outcome_of, plain_turns

log = logging.getLogger(__name__)



def transcript_from_session(
    session: Any,
    *,
    context: Mapping[str, str] | None = None,
    flows_hash: str | None = None,
    input_ended: bool | None = None,
) -> Transcript:
    """Build the transcript of an engine session (turns, outcome, context without secrets).

    The session's secret values are scrubbed from the turns here too, so a transcript served
    without being written (the HTTP service's endpoint) is as clean as one on disk.
    """
    ctx = dict(context if context is not None else _session_context(session))
    secrets = session_secrets(session) + [v for k, v in ctx.items() if k in SECRET_SLOTS]
    redacted = tuple(sorted(set(_context_secrets(session)) | {k for k in ctx if k in SECRET_SLOTS}))
    outcome = outcome_of(getattr(session, "outcome", None))
    if outcome.symptom is None:
        outcome = replace(outcome, symptom=_session_symptom(session))
    if input_ended is None:
        input_ended = bool(getattr(session, "input_ended", outcome.status != "incomplete"))
    return Transcript(
        turns=tuple(scrub(list(plain_turns(getattr(session, "turns", ()))), secrets)),
        outcome=outcome,
        flows_hash=flows_hash if flows_hash is not None else _session_flows_hash(session),
        deskbot=__version__,
        symptom=outcome.symptom,
        context={k: v for k, v in ctx.items() if k not in SECRET_SLOTS},
        redacted=redacted,
        input_ended=input_ended,
        vantage=str(getattr(getattr(session, "engine", None), "vantage", "local")),
        providers=_session_providers(session, ctx),
    )


def write_transcript(
    path: str | Path, transcript: Any, *, secrets: Iterable[str] = ()
) -> Path:
    """Write a Transcript (or a session) to `path` atomically; returns the path.

    Every value of a secret slot known to the session, plus `secrets`, is scrubbed from the
    whole document before it is serialised: no password reaches the disk even if a turn
    carried one by mistake.
    """
    values = set(secrets)
    if not isinstance(transcript, Transcript):
        values |= set(session_secrets(transcript))
        transcript = transcript_from_session(transcript)
    document = scrub(transcript.to_dict(), values)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return _atomic_write(Path(path), text)


def _session_providers(session: Any, context: Mapping[str, str]) -> dict[str, Any]:
    """The provider the engine's catalogue gives for each address of the conversation."""
    engine = getattr(session, "engine", None)
    lookup = getattr(engine, "provider_for", None)
    slots = getattr(session, "slots", None)
    addresses = {context.get("email", "")}
    addresses |= {str(slots.get("email", ""))} if isinstance(slots, Mapping) else set()
    for turn in plain_turns(getattr(session, "turns", ())):
        text = turn.get("text") if turn.get("role") == "user" else None
        if isinstance(text, str) and "@" in text and " " not in text.strip():
            addresses.add(text.strip())
    found: dict[str, Any] = {}
    for address in sorted(a for a in addresses if "@" in a):
        provider = lookup(address) if callable(lookup) else None
        if provider is not None:
            found[address.rpartition("@")[2].lower()] = provider.to_dict()
    return found


def _context_secrets(session: Any) -> list[str]:
    # The engine keeps secrets apart from its context. One known without any hidden answer in
    # the turns came with the context (a help desk's ticket, --answers): replay must pass it in
    # again (as a placeholder) rather than expect the question.
    held = getattr(session, "_secrets", None)
    if not isinstance(held, Mapping):
        return []
    turns = plain_turns(getattr(session, "turns", ()))
    # A password typed where none was asked ("misplaced") is no answer to the question.
    if any(t.get("redacted") and not t.get("misplaced") for t in turns):
        return []
    return sorted(k for k in held if k in SECRET_SLOTS and held[k])


def _session_context(session: Any) -> Mapping[str, str]:
    for attr in ("context", "_context", "initial_context"):
        value = getattr(session, attr, None)
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items() if v is not None}
    return {}


def _session_symptom(session: Any) -> str | None:
    for attr in ("symptom", "flow_id"):
        value = getattr(session, attr, None)
        if isinstance(value, str):
            return value
    return None


def _session_flows_hash(session: Any) -> str:
    for owner in (session, getattr(session, "engine", None), getattr(session, "_engine", None)):
        value = getattr(owner, "flows_hash", None)
        if isinstance(value, str):
            return value
    return ""


def _atomic_write(path: Path, text: str) -> Path:
    # Temp file in the same folder, fsync, then rename: a crash leaves the old file or the new
    # one, never half of either, and os.replace is atomic on one file system.
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

