"""The record of a conversation (CONTRACT.md "Transcripts", format 1): typed turns and document.

The engine appends a `Turn` for everything said or run; `Session.transcript()` assembles the
`Transcript`; `bot.transcripts` only writes, reads and replays it. Layout on disk (keys in
this order, pretty-printed, UTF-8):

    {"format": 1, "deskbot": "0.1.0", "created": "2026-11-27T08:30:00Z",
     "flows_hash": "...", "symptom": "outbox_stuck",
     "context": {slot: value, ...},          # slots a help desk / --answers passed in
     "redacted": ["password"],                # context slots withheld from the file
     "input_ended": true,                     # the conversation ran `finish()` at the end
     "vantage": "local",                      # where the probes ran (local | server)
     "providers": {domain: provider, ...},    # the catalogue's answers the fix texts used
     "outcome": {"status": ..., "symptom": ..., "diagnosis": ..., "basis": ...},
     "turns": [{"role": "user"|"bot"|"probe", ...}, ...]}

Turns on disk:
- user: `{"role": "user", "text": "..."}`; a hidden answer `{"role": "user", "text": null,
  "redacted": true}`.
- bot: `{"role": "bot", "text": "...", "kind": "text|question|result|handoff", "flow", "node"}`.
- probe: `{"role": "probe", "name", "target", "params": {no secret}, "report":
  ProbeReport.to_dict(), "flow", "node", "vantage": "local|server|customer", "stack":
  [[flow, call node], ...], "login": bool}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.engine.values import Outcome
from bot.errors import TranscriptError
from bot.probes.model import ProbeReport

FORMAT = 1
STATUSES = frozenset({"resolved", "handoff", "abandoned", "incomplete"})
BASES = frozenset({"probe", "reply", "catalogue"})
VANTAGES = frozenset({"local", "server", "customer"})


class Role(StrEnum):
    """Who a turn is from: the customer, the bot, or a probe the bot ran."""

    USER = "user"
    BOT = "bot"
    PROBE = "probe"


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp with second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn. Which fields are used depends on `role` (see the module docstring)."""

    role: Role
    text: str | None = None  # user, bot: the words (None for a hidden answer)
    redacted: bool = False  # user: the answer to a secret question, not kept
    misplaced: bool = False  # user, redacted: a password typed where none was asked
    kind: str | None = None  # bot: text | question | result | handoff
    flow: str | None = None  # bot, probe: the flow or sub-flow of the node
    node: str | None = None
    name: str = ""  # probe: the probe's name
    target: str = ""  # probe: host:port (or the address) it checked
    params: Mapping[str, str] = field(default_factory=dict)  # probe: its inputs, no secret
    report: ProbeReport | None = None  # probe: the result, fed back by replay
    vantage: str | None = None  # probe: where it ran (local | server | customer)
    stack: tuple[tuple[str, str], ...] = ()  # probe: (flow, call node)s it ran inside
    login: bool = False  # probe: it tested a login (the customer may repeat it with a password)

    @classmethod
    def user(cls, text: str) -> Turn:
        """What the customer typed."""
        return cls(Role.USER, text)

    @classmethod
    def hidden(cls) -> Turn:
        """The customer answered a secret question; the answer is not kept."""
        return cls(Role.USER, None, redacted=True)

    @classmethod
    def misplaced_secret(cls) -> Turn:
        """A line equal to a known password, typed where none was asked: not kept, and no
        answer to a secret question (replay feeds it back as the secret's placeholder)."""
        return cls(Role.USER, None, redacted=True, misplaced=True)

    @classmethod
    def bot(cls, text: str, kind: str, flow: str | None, node: str | None) -> Turn:
        """What the bot said (the plain text of one message)."""
        return cls(Role.BOT, text, kind=kind, flow=flow, node=node)

    @classmethod
    def probe(cls, report: ProbeReport, params: Mapping[str, str], *, flow: str | None,
              node: str | None, vantage: str, stack: tuple[tuple[str, str], ...] = (),
              login: bool = False) -> Turn:
        """A probe the flow ran, with the report replay feeds back."""
        return cls(Role.PROBE, name=report.name, target=report.target, params=dict(params),
                   report=report, flow=flow, node=node, vantage=vantage, stack=stack,
                   login=login)

    def to_dict(self) -> dict[str, Any]:
        """The turn as written in a transcript (keys depend on the role)."""
        if self.role is Role.USER:
            if self.misplaced:
                return {"role": "user", "text": None, "redacted": True, "misplaced": True}
            if self.redacted:
                return {"role": "user", "text": None, "redacted": True}
            return {"role": "user", "text": self.text}
        if self.role is Role.BOT:
            return {"role": "bot", "text": self.text, "kind": self.kind, "flow": self.flow,
                    "node": self.node}
        assert self.report is not None
        return {"role": "probe", "name": self.name, "target": self.target,
                "params": dict(self.params), "report": self.report.to_dict(),
                "flow": self.flow, "node": self.node, "vantage": self.vantage,
                "stack": [list(s) for s in self.stack], "login": self.login}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "turn") -> Turn:
        """A turn read from a document; TranscriptError says what is wrong at `where`."""
        role_name = data.get("role") if isinstance(data, dict) else None
        if not isinstance(role_name, str) or role_name not in Role.__members__.values():
            raise TranscriptError(f"{where} must be an object with role user, bot or probe")
        role = Role(data["role"])
        if role is Role.USER:
            if data.get("redacted"):
                return cls.misplaced_secret() if data.get("misplaced") else cls.hidden()
            return cls.user(_text(data.get("text"), where))
        if role is Role.BOT:
            return cls.bot(_text(data.get("text"), where), str(data.get("kind") or "text"),
                           _optional(data.get("flow")), _optional(data.get("node")))
        return _probe_turn(data, where)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TranscriptError(f"{where} 'text' must be a string")
    return value


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _probe_turn(data: Mapping[str, Any], where: str) -> Turn:
    if not isinstance(data.get("report"), dict):
        raise TranscriptError(f"{where} (probe) has no recorded 'report'")
    if not isinstance(data.get("name"), str):
        raise TranscriptError(f"{where} (probe) has no probe 'name'")
    try:
        report = ProbeReport.from_dict(data["report"])
    except KeyError as exc:
        raise TranscriptError(f"{where} (probe): its 'report' lacks the field "
                              f"{exc.args[0]!r}") from exc
    except (TypeError, AttributeError) as exc:
        raise TranscriptError(f"{where} (probe): a field of its 'report' has the wrong shape "
                              "(a list or object where a text is expected, or the reverse)"
                              ) from exc
    except ValueError as exc:
        raise TranscriptError(f"{where} (probe) has a malformed 'report': {exc}") from exc
    params = data.get("params", {})
    if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in params.items()):
        raise TranscriptError(f"{where} 'params' must map names to strings")
    vantage = data.get("vantage")
    stack = data.get("stack") or []
    if not isinstance(stack, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(x, str) for x in s)
            for s in stack):
        raise TranscriptError(f"{where} (probe) 'stack' must be a list of [flow, node]")
    return Turn(Role.PROBE, name=data["name"], target=str(data.get("target") or ""),
                params={k: v for k, v in params.items() if v is not None}, report=report,
                flow=_optional(data.get("flow")), node=_optional(data.get("node")),
                vantage=str(vantage) if vantage in VANTAGES else None,
                stack=tuple((f, n) for f, n in stack), login=bool(data.get("login")))


@dataclass(frozen=True)
class Transcript:
    """One conversation: every turn, the outcome, and what produced it."""

    turns: tuple[Turn, ...]
    outcome: Outcome = field(default_factory=lambda: Outcome("incomplete"))
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
        return [t.text for t in self.turns if t.role is Role.USER]

    @property
    def probe_turns(self) -> list[Turn]:
        """The probe turns, in the order the probes ran."""
        return [t for t in self.turns if t.role is Role.PROBE]

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
            "turns": [t.to_dict() for t in self.turns],
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
            redacted=_check_redacted(data.get("redacted"), source),
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
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1 or fmt > 10**6:
        shown = repr(fmt)[:40] if not isinstance(fmt, int) else "that number"
        raise TranscriptError(f"{source}: 'format' must be a positive integer, not {shown}")
    if fmt > FORMAT:
        raise TranscriptError(
            f"{source}: transcript format {fmt} is newer than this deskbot reads "
            f"(format {FORMAT}); upgrade deskbot to read it"
        )


def _check_turns(turns: Any, source: str) -> tuple[Turn, ...]:
    if not isinstance(turns, list):
        raise TranscriptError(f"{source}: 'turns' must be a list of turns")
    return tuple(Turn.from_dict(t, where=f"{source}: turn {i}") for i, t in enumerate(turns, 1))


def _check_redacted(redacted: Any, source: str) -> tuple[str, ...]:
    if redacted is None:
        return ()
    if not isinstance(redacted, list) or not all(isinstance(s, str) for s in redacted):
        raise TranscriptError(f"{source}: 'redacted' must be a list of slot names")
    return tuple(redacted)


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
        return Outcome("incomplete")
    if not isinstance(outcome, dict) or not isinstance(outcome.get("status"), str) or \
            outcome["status"] not in STATUSES:
        allowed = ", ".join(sorted(STATUSES))
        raise TranscriptError(f"{source}: 'outcome' must be an object with status {allowed}")
    basis = outcome.get("basis")
    if basis is not None and (not isinstance(basis, str) or basis not in BASES):
        allowed = ", ".join(sorted(BASES))
        raise TranscriptError(f"{source}: outcome 'basis' must be null or one of {allowed}")
    return Outcome.from_dict(outcome)
