"""The transcript document (CONTRACT.md, format 1): one conversation as plain JSON-able data.

Layout on disk (keys in this order, pretty-printed, UTF-8):

    {"format": 1, "deskbot": "0.1.0", "created": "2026-11-27T08:30:00Z",
     "flows_hash": "...", "symptom": "outbox_stuck",
     "context": {slot: value, ...},          # slots a help desk / --answers passed in
     "redacted": ["password"],                # context slots withheld from the file
     "input_ended": true,                     # the conversation ran `finish()` at the end
     "vantage": "local",                      # where the probes ran (local | server)
     "providers": {domain: provider, ...},    # the catalogue's answers the fix texts used
     "outcome": {"status": ..., "symptom": ..., "diagnosis": ...},
     "turns": [{"role": "user"|"bot"|"probe", ...}, ...]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.errors import TranscriptError

FORMAT = 1
ROLES = frozenset({"user", "bot", "probe"})
STATUSES = frozenset({"resolved", "handoff", "abandoned", "incomplete"})

Turn = Mapping[str, Any]


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp with second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Outcome:
    """How a conversation ended (the transcript's `outcome`)."""

    status: str = "incomplete"
    symptom: str | None = None
    diagnosis: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "symptom": self.symptom, "diagnosis": self.diagnosis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(data["status"], data.get("symptom"), data.get("diagnosis"))


@dataclass(frozen=True)
class Transcript:
    """One conversation: every turn, the outcome, and what produced it."""

    turns: tuple[Turn, ...]
    outcome: Outcome = field(default_factory=Outcome)
    flows_hash: str = ""
    deskbot: str = ""
    created: str = field(default_factory=utc_now)
    symptom: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    redacted: tuple[str, ...] = ()
    input_ended: bool = True
    vantage: str = "local"  # where the probes ran: local | server (flows may branch on it)
    # The catalogue's answer for each e-mail domain, as fix texts saw it: replay renders the
    # same provider names and servers without the catalogue files the recording used.
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    format: int = FORMAT

    @property
    def user_texts(self) -> list[str | None]:
        """What the user typed, in order (None for a redacted secret answer)."""
        return [t.get("text") for t in self.turns if t.get("role") == "user"]

    @property
    def probe_turns(self) -> list[Turn]:
        """The probe turns, in the order the probes ran."""
        return [t for t in self.turns if t.get("role") == "probe"]

    def to_dict(self) -> dict[str, Any]:
        """The document as written to disk (key order is part of readability)."""
        return {
            "format": self.format,
            "deskbot": self.deskbot,
            "created": self.created,
            "flows_hash": self.flows_hash,
            "symptom": self.symptom,
            "context": dict(self.context),
            "redacted": list(self.redacted),
            "input_ended": self.input_ended,
            "vantage": self.vantage,
            "providers": {k: dict(v) for k, v in self.providers.items()},
            "outcome": self.outcome.to_dict(),
            "turns": [dict(t) for t in self.turns],
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "transcript") -> Transcript:
        """Validate a parsed document; TranscriptError names `source` and what is wrong."""
        _check_header(data, source)
        turns = _check_turns(data.get("turns"), source)
        outcome = _check_outcome(data.get("outcome"), source)
        context = data.get("context") or {}
        if not isinstance(context, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in context.items()
        ):
            raise TranscriptError(f"{source}: 'context' must map slot names to strings")
        symptom = data.get("symptom", outcome.symptom)
        return cls(
            turns=turns,
            outcome=outcome,
            flows_hash=str(data.get("flows_hash") or ""),
            deskbot=str(data.get("deskbot") or ""),
            created=str(data.get("created") or ""),
            symptom=symptom if isinstance(symptom, str) else None,
            context=dict(context),
            redacted=tuple(str(s) for s in data.get("redacted") or ()),
            input_ended=bool(data.get("input_ended", True)),
            vantage=str(data.get("vantage") or "local"),
            providers=_check_providers(data.get("providers"), source),
            format=data["format"],
        )


def _check_header(data: Any, source: str) -> None:
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise TranscriptError(f"{source}: not a transcript: expected a JSON object, found {kind}")
    if "format" not in data:
        raise TranscriptError(f"{source}: not a transcript: no 'format' field")
    fmt = data["format"]
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise TranscriptError(f"{source}: 'format' must be a positive integer, not {fmt!r}")
    if fmt > FORMAT:
        raise TranscriptError(
            f"{source}: transcript format {fmt} is newer than this deskbot reads "
            f"(format {FORMAT}); upgrade deskbot to read it"
        )


def _check_turns(turns: Any, source: str) -> tuple[Turn, ...]:
    if not isinstance(turns, list):
        raise TranscriptError(f"{source}: 'turns' must be a list of turns")
    for index, turn in enumerate(turns, 1):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES:
            raise TranscriptError(
                f"{source}: turn {index} must be an object with role user, bot or probe"
            )
        if turn["role"] == "probe" and not isinstance(turn.get("report"), dict):
            raise TranscriptError(f"{source}: turn {index} (probe) has no recorded 'report'")
        if turn["role"] == "probe" and not isinstance(turn.get("name"), str):
            raise TranscriptError(f"{source}: turn {index} (probe) has no probe 'name'")
        params = turn.get("params", {})
        if not isinstance(params, dict) or not all(
                isinstance(k, str) and isinstance(v, str | None) for k, v in params.items()):
            raise TranscriptError(f"{source}: turn {index} 'params' must map names to strings")
        if not isinstance(turn.get("text"), str | None):
            raise TranscriptError(f"{source}: turn {index} 'text' must be a string")
    return tuple(turns)


def _check_providers(providers: Any, source: str) -> dict[str, Mapping[str, Any]]:
    if providers is None:
        return {}
    if not isinstance(providers, dict) or not all(
        isinstance(v, dict) and "id" in v and "name" in v for v in providers.values()
    ):
        raise TranscriptError(f"{source}: 'providers' must map e-mail domains to providers")
    return dict(providers)


def _check_outcome(outcome: Any, source: str) -> Outcome:
    if outcome is None:
        return Outcome()
    if not isinstance(outcome, dict) or outcome.get("status") not in STATUSES:
        allowed = ", ".join(sorted(STATUSES))
        raise TranscriptError(f"{source}: 'outcome' must be an object with status {allowed}")
    return Outcome.from_dict(outcome)


def outcome_of(value: Any) -> Outcome:
    """An engine Outcome (or its dict, or None) as a transcript Outcome."""
    if value is None:
        return Outcome()
    if isinstance(value, Mapping):
        return Outcome.from_dict(value)
    return Outcome(
        status=str(value.status),
        symptom=getattr(value, "symptom", None),
        diagnosis=getattr(value, "diagnosis", None),
    )


def plain_turns(turns: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """Turns as plain dicts (an engine may hand out dataclasses with `to_dict`)."""
    out: list[dict[str, Any]] = []
    for turn in turns:
        if isinstance(turn, Mapping):
            out.append(dict(turn))
        else:
            out.append(dict(turn.to_dict()))
    return tuple(out)
