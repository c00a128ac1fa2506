"""Where a conversation stands: one typed, JSON-serialisable `ConversationState` per session.

Everything `Engine.restore` needs to continue a conversation lives here, in one place: the
session's code reads and writes it through same-named attributes (`session.slots` is
`session.state.slots`). Secrets are never part of it.

Saved form (`Session.to_dict()`, docs/api.md "Saved state"): version 2 adds the typed
`candidates`, `switch_to` and `back_to` where version 1 kept a loose `pending` dict; version 1
states (older SQLite/Redis stores) are read too.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, overload

from bot.engine.transcript import Turn
from bot.engine.values import Choice, Outcome, Question
from bot.errors import EngineError, TranscriptError
from bot.probes.model import ProbeReport

STATE_VERSION = 2
READABLE_VERSIONS = (1, 2)


class Phase(StrEnum):
    """What the conversation waits for.

    `describe`: the problem in the customer's words; `clarify`: which of these symptoms;
    `flow`: the answer to a flow's question; `switch`: whether to change to another symptom;
    `offer_human`: whether to hand over after three misunderstandings; `done`: an outcome.
    """

    START = "start"
    DESCRIBE = "describe"
    CLARIFY = "clarify"
    FLOW = "flow"
    SWITCH = "switch"
    OFFER_HUMAN = "offer_human"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A flow question that was asked: "go back" returns to it with what was known then."""

    current: str  # the flow or sub-flow of the node
    node: str
    stack: tuple[tuple[str, str], ...]  # (flow, call node) to return to, innermost last
    slots: Mapping[str, str]
    evidence: int  # how many probe reports there were
    secret: bool = False  # the question asked for a secret

    def to_json(self) -> dict[str, Any]:
        return {"current": self.current, "node": self.node,
                "stack": [list(s) for s in self.stack], "slots": dict(self.slots),
                "evidence": self.evidence, "secret": self.secret}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Waypoint:
        return cls(str(data["current"]), str(data["node"]), _stack(data.get("stack", ())),
                   dict(data.get("slots", {})), int(data.get("evidence", 0)),
                   bool(data.get("secret", False)))


@dataclass(slots=True)
class ConversationState:
    """The whole mutable state of one conversation (no secrets)."""

    slots: dict[str, str] = field(default_factory=dict)
    phase: Phase = Phase.START
    flow_id: str | None = None  # the symptom's flow
    current: str | None = None  # the flow or sub-flow the node belongs to
    node: str | None = None
    stack: list[tuple[str, str]] = field(default_factory=list)  # (flow, call node) to return to
    evidence: list[ProbeReport] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    outcome: Outcome | None = None
    question: Question | None = None  # what the bot waits for
    misses: int = 0  # misunderstandings in a row
    history: list[Waypoint] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # clarify: the symptoms offered
    switch_to: str | None = None  # switch: the symptom offered instead
    back_to: Phase | None = None  # offer_human: the phase to return to on "no"
    input_ended: bool = False

    def copy(self) -> ConversationState:
        """A copy whose lists and dicts are copied one level deep (to undo a cancelled turn)."""
        twin = copy.copy(self)
        twin.slots, twin.stack, twin.evidence = dict(self.slots), list(self.stack), list(
            self.evidence)
        twin.turns, twin.history, twin.candidates = list(self.turns), list(self.history), list(
            self.candidates)
        return twin

    def clear_offers(self) -> None:
        """Forget what a clarify, switch or hand-over offer was waiting on."""
        self.candidates, self.switch_to, self.back_to = [], None, None

    def to_json(self) -> dict[str, Any]:
        """The state as plain JSON-able data (the body of `Session.to_dict()`)."""
        return {
            "slots": dict(self.slots), "phase": self.phase.value, "flow": self.flow_id,
            "current": self.current, "node": self.node, "stack": [list(s) for s in self.stack],
            "evidence": [r.to_dict() for r in self.evidence],
            "turns": [t.to_dict() for t in self.turns],
            "outcome": self.outcome.to_dict() if self.outcome else None,
            "question": question_json(self.question), "misses": self.misses,
            "history": [w.to_json() for w in self.history], "candidates": list(self.candidates),
            "switch_to": self.switch_to, "back_to": self.back_to.value if self.back_to else None,
            "input_ended": self.input_ended,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConversationState:
        """Read a saved state (version 1 or 2); EngineError when it cannot be used."""
        version = data.get("version")
        if version not in READABLE_VERSIONS:
            raise EngineError(f"saved session has version {version!r}, this deskbot reads "
                              f"{', '.join(map(str, READABLE_VERSIONS))}; start a new one")
        try:
            return cls._read(data)
        except (KeyError, TypeError, ValueError, AttributeError, TranscriptError) as exc:
            raise EngineError(f"saved session is malformed ({type(exc).__name__}: {exc}); "
                              "start a new one") from exc

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> ConversationState:
        pending = data.get("pending") or {}  # version 1 kept the offers in one loose dict
        back_to = data.get("back_to", pending.get("back_to"))
        return cls(
            slots=dict(data["slots"]), phase=Phase(data["phase"]), flow_id=data.get("flow"),
            current=data.get("current"), node=data.get("node"),
            stack=list(_stack(data.get("stack", ()))),
            evidence=[ProbeReport.from_dict(r) for r in data.get("evidence", ())],
            turns=[Turn.from_dict(t) for t in data.get("turns", ())],
            outcome=Outcome.from_dict(data["outcome"]) if data.get("outcome") else None,
            question=question_from(data.get("question")), misses=int(data.get("misses", 0)),
            history=[Waypoint.from_json(h) for h in data.get("history", ())],
            candidates=[str(c) for c in data.get("candidates", pending.get("candidates", ()))],
            switch_to=data.get("switch_to", pending.get("to")),
            back_to=Phase(back_to) if back_to else None,
            input_ended=bool(data.get("input_ended", False)),
        )


def _stack(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(f), str(n)) for f, n in items)


def question_json(question: Question | None) -> dict[str, Any] | None:
    """A question as saved state."""
    if question is None:
        return None
    return {"slot": question.slot, "type": question.type, "prompt": question.prompt,
            "choices": [[c.value, c.label] for c in question.choices], "secret": question.secret}


def question_from(data: Mapping[str, Any] | None) -> Question | None:
    """The question saved by `question_json`."""
    if not data:
        return None
    choices = tuple(Choice(str(v), str(label)) for v, label in data.get("choices", ()))
    return Question(data["slot"], data["type"], data["prompt"], choices, bool(data["secret"]))


T = TypeVar("T")


class HasState(Protocol):
    """An object whose conversation state lives in `state` (the `Session`)."""

    state: ConversationState


class InState(Generic[T]):
    """An attribute kept in the owner's `ConversationState` under the same name.

    Lets the session's code say `self.slots` while the state stays one object that is copied,
    saved and restored as a whole.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> InState[T]: ...

    @overload
    def __get__(self, obj: HasState, owner: type) -> T: ...

    def __get__(self, obj: HasState | None, owner: type) -> InState[T] | T:
        if obj is None:
            return self
        value: T = getattr(obj.state, self.name)
        return value

    def __set__(self, obj: HasState, value: T) -> None:
        setattr(obj.state, self.name, value)
