"""What the engine hands to interfaces: replies, messages, questions, outcomes (docs/api.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.diagnoses import Basis
from bot.engine.plain import plain_text
from bot.probes.model import Check, ProbeReport

MessageKind = Literal["text", "question", "result", "handoff", "probe"]
Status = Literal["resolved", "handoff", "abandoned", "incomplete"]
# `Basis` (bot.diagnoses): what established a diagnosis (CONTRACT.md): a probe, a server reply
# the customer pasted, or the provider catalogue; None when there is no diagnosis.


@dataclass(frozen=True)
class Choice:
    """One option of a choice question; typing its number or label picks it."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """What the bot is waiting for."""

    slot: str
    type: str
    prompt: str
    choices: tuple[Choice, ...] = ()
    secret: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a conversation ended: the transcript's, the reply's and the HTTP API's `outcome`."""

    status: Status
    symptom: str | None = None
    diagnosis: str | None = None
    basis: Basis | None = None  # None exactly when `diagnosis` is None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "symptom": self.symptom, "diagnosis": self.diagnosis,
                "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(data["status"], data.get("symptom"), data.get("diagnosis"),
                   data.get("basis"))


@dataclass(frozen=True)
class SettingsRow:
    """One server of the settings table shown with a fix."""

    side: str  # Incoming | Outgoing
    protocol: str  # IMAP | POP3 | SMTP
    host: str
    port: int
    security: str  # SSL/TLS | STARTTLS | None
    username: str

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "protocol": self.protocol, "host": self.host,
                "port": self.port, "security": self.security, "username": self.username}


@dataclass(frozen=True)
class HandoffPackage:
    """What a human agent receives: everything learnt, nothing secret."""

    symptom: str | None
    reason: str
    slots: dict[str, str]
    probes: tuple[dict[str, Any], ...]
    ruled_out: tuple[str, ...]
    recommended_fix: str | None = None
    headline: str | None = None  # the diagnosis table's headline for what the evidence shows

    def to_dict(self) -> dict[str, Any]:
        return {"symptom": self.symptom, "reason": self.reason, "slots": dict(self.slots),
                "probes": [dict(p) for p in self.probes], "ruled_out": list(self.ruled_out),
                "recommended_fix": self.recommended_fix, "headline": self.headline}


@dataclass(frozen=True)
class Headline:
    """The one line that opens a final answer: what is wrong (or that all is well)."""

    diagnosis: str  # the diagnosis code it names
    text: str

    @property
    def label(self) -> str:
        """`Result` for `ok`, else `What's wrong`."""
        return "Result" if self.diagnosis == "ok" else "What's wrong"

    def to_dict(self) -> dict[str, Any]:
        return {"diagnosis": self.diagnosis, "label": self.label, "text": self.text}


@dataclass(frozen=True)
class BotMessage:
    """One thing the bot says, in typed parts an interface lays out (docs/api.md "Values").

    `body` is the message's own words: a question's prompt without its choices, a fix without
    its settings table. `text` is the plain-text form built from the parts.
    """

    kind: MessageKind
    body: str
    question: Question | None = None  # question: what is asked, with its choices
    settings: tuple[SettingsRow, ...] | None = None  # result, handoff: the servers to set
    headline: Headline | None = None  # result: what is wrong, in one line
    proof: tuple[Check, ...] = ()  # result: the checks that prove the diagnosis
    evidence: tuple[ProbeReport, ...] = ()  # probe: the finished report
    handoff: HandoffPackage | None = None  # handoff: what the human agent receives
    outcome: Outcome | None = None  # result, handoff: how the conversation ended

    @property
    def text(self) -> str:
        """The plain-text form: what plain chat prints and the transcript keeps."""
        return plain_text(self)

    def to_dict(self) -> dict[str, Any]:
        """`kind`, the plain `text`, then every part by name (nested values left as they are);
        the headline as its text (the table's words) and `headline_label`."""
        line = self.headline
        return {"kind": self.kind, "text": self.text, "body": self.body,
                "question": self.question, "settings": self.settings,
                "headline": line.text if line else None,
                "headline_label": line.label if line else None,
                "proof": self.proof, "evidence": self.evidence, "handoff": self.handoff,
                "outcome": self.outcome}


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one call: its messages, and the outcome or the next question."""

    messages: list[BotMessage] = field(default_factory=list)
    outcome: Outcome | None = None
    question: Question | None = None

    @property
    def text(self) -> str:
        """Every message's plain text, one per paragraph (probe reports left out)."""
        return "\n\n".join(m.text for m in self.messages if m.kind != "probe")
