"""Probe results as values: what a check saw, and the diagnosis code it supports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.catalog.model import Provider
from bot.diagnoses import Code, as_code

Status = Literal["ok", "fail", "skipped"]
# Probe parameter: "catalogue" when the conversation showed the catalogue's settings as the
# ones the customer will use (a flow with `adopts_catalogue: true`, account setup), so probing
# them tests the customer's own settings (bot.probes.settings.adopts_catalogue).
SETTINGS_FROM = "settings_from"


@dataclass(frozen=True)
class Check:
    """One network check (a line of `deskbot probe` output, CONTRACT.md `checks`)."""

    probe: str  # dns | tcp | tls | smtp | pop3 | imap | autoconfig | srv | mx ...
    target: str  # host:port (or the name looked up)
    status: Status
    evidence: str  # plain language, never a password
    diagnosis: Code | None = None  # the cause this check supports (bot/diagnoses.py)
    ms: float = 0.0
    outcome: str = "ok"  # outcome class: ok refused timeout unreachable nxdomain tls_error ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe, "target": self.target, "status": self.status,
            "evidence": self.evidence, "diagnosis": self.diagnosis, "ms": round(self.ms, 1),
            "outcome": self.outcome,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            probe=data["probe"], target=data["target"], status=data["status"],
            evidence=data.get("evidence", ""), diagnosis=_code(data.get("diagnosis")),
            ms=float(data.get("ms", 0.0)), outcome=data.get("outcome", "ok"),
        )


@dataclass(frozen=True)
class ProbeReport:
    """The answer to one named probe a flow (or `deskbot probe`) asked for.

    `outcome` is what a flow branches on: for the `check_*` probes it is a diagnosis code
    (or `inconclusive`); `facts` carries what fix texts need (e.g. `cert_names`,
    `suggested_host`, `working_port`, `offered_auth`), all strings.
    """

    name: str
    target: str
    outcome: str
    checks: tuple[Check, ...] = ()
    diagnoses: tuple[Code, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)
    provider: Provider | None = None
    notes: tuple[str, ...] = ()  # e.g. "login attempts capped at one per username form"
    vantage: str = ""  # where it ran: local | server | customer ("" until the engine knows)

    @property
    def ms(self) -> float:
        return max((c.ms for c in self.checks), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "target": self.target, "outcome": self.outcome,
            "checks": [c.to_dict() for c in self.checks], "diagnoses": list(self.diagnoses),
            "facts": dict(self.facts), "notes": list(self.notes),
            "provider": self.provider.to_dict() if self.provider else None,
            **({"vantage": self.vantage} if self.vantage else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeReport:
        provider = data.get("provider")
        return cls(
            name=data["name"], target=data.get("target", ""), outcome=data["outcome"],
            checks=tuple(Check.from_dict(c) for c in data.get("checks", ())),
            diagnoses=tuple(as_code(d) for d in data.get("diagnoses", ())),
            facts=dict(data.get("facts", {})),
            notes=tuple(data.get("notes", ())),
            provider=Provider.from_dict(provider) if provider else None,
            vantage=str(data.get("vantage") or ""),
        )


def _code(value: Any) -> Code | None:
    """A recorded diagnosis code (ValueError for one deskbot does not know)."""
    return None if value is None else as_code(str(value))


class ProbeObserver(Protocol):
    """Told about each check as it starts and ends (drives progress spinners)."""

    def check_started(self, probe: str, target: str) -> None: ...

    def check_finished(self, check: Check) -> None: ...
