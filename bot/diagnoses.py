"""The diagnosis table: every root cause deskbot can prove, as one typed, validated record.

`Diagnosis` is the code (a `StrEnum`, so mypy catches `Diagnosis.TLS_MODE_MISSMATCH` and the
value still compares equal to and serialises as its string); `Diagnosis.X.info` is its row of
bot/data/diagnoses.yaml (the package copy of ../shared/diagnoses.yaml, extended): evidence,
headline, direction, producing stages, guaranteed facts and source. The table is validated on
first use (`table()`); a table that does not match the enum raises `DiagnosisTableError`.

A new diagnosis is: a member here and an entry in the YAML, the probe code that produces it,
its fix text in flows/_check_server.yaml, and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal, cast, get_args

import yaml

from bot.errors import DeskbotError

# The codes as a type for values that stay strings (probe results, reply tables): mypy
# refuses a misspelt literal. Always the values of `Diagnosis` (a test checks).
Code = Literal[
    "ok", "dns_not_found", "dns_unavailable", "port_blocked", "port_closed", "server_unreachable",
    "tls_mode_mismatch", "certificate_untrusted", "certificate_name_mismatch",
    "certificate_expired", "auth_wrong_password", "auth_username_format", "auth_oauth_required",
    "auth_app_password_required", "auth_mechanism_unsupported", "smtp_auth_required",
    "mailbox_locked", "encryption_required", "too_many_connections", "mailbox_over_quota",
    "sender_blocklisted", "ipv6_path_broken",
]
Direction = Literal["incoming", "outgoing", "both"]
Stage = Literal[
    "dns", "tcp", "tls", "greeting", "starttls", "login", "relay", "quota", "catalogue"
]
STAGES: frozenset[str] = frozenset(get_args(Stage))
DIRECTIONS: frozenset[str] = frozenset(get_args(Direction))
_FIELDS = frozenset({"evidence", "headline", "direction", "stages", "facts", "source"})


class DiagnosisTableError(DeskbotError):
    """bot/data/diagnoses.yaml does not match `Diagnosis` or has a malformed entry."""


class Diagnosis(StrEnum):
    """A root cause deskbot can prove (CONTRACT.md `outcome.diagnosis`)."""

    OK = "ok"
    DNS_NOT_FOUND = "dns_not_found"
    DNS_UNAVAILABLE = "dns_unavailable"
    PORT_BLOCKED = "port_blocked"
    PORT_CLOSED = "port_closed"
    SERVER_UNREACHABLE = "server_unreachable"
    TLS_MODE_MISMATCH = "tls_mode_mismatch"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    CERTIFICATE_NAME_MISMATCH = "certificate_name_mismatch"
    CERTIFICATE_EXPIRED = "certificate_expired"
    AUTH_WRONG_PASSWORD = "auth_wrong_password"
    AUTH_USERNAME_FORMAT = "auth_username_format"
    AUTH_OAUTH_REQUIRED = "auth_oauth_required"
    AUTH_APP_PASSWORD_REQUIRED = "auth_app_password_required"
    AUTH_MECHANISM_UNSUPPORTED = "auth_mechanism_unsupported"
    SMTP_AUTH_REQUIRED = "smtp_auth_required"
    MAILBOX_LOCKED = "mailbox_locked"
    ENCRYPTION_REQUIRED = "encryption_required"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    MAILBOX_OVER_QUOTA = "mailbox_over_quota"
    SENDER_BLOCKLISTED = "sender_blocklisted"
    IPV6_PATH_BROKEN = "ipv6_path_broken"

    @property
    def info(self) -> DiagnosisInfo:
        """This code's row of the table."""
        return table()[self]

    @property
    def headline(self) -> str:
        """The customer's one-line "what's wrong" (or "it works" for `ok`)."""
        return self.info.headline

    @property
    def evidence(self) -> str:
        """What evidence confirms this code."""
        return self.info.evidence

    @property
    def facts(self) -> frozenset[str]:
        """Every `{facts.X}` a report with this outcome is guaranteed to carry."""
        return self.info.facts

    def reported_by(self, direction: str) -> bool:
        """True when a check probe of `direction` (incoming/outgoing) can report this code."""
        return self.info.direction in ("both", direction)


@dataclass(frozen=True)
class DiagnosisInfo:
    """One row of the diagnosis table."""

    code: Diagnosis
    evidence: str
    headline: str
    direction: Direction
    stages: frozenset[Stage]
    facts: frozenset[str]  # sweep facts included
    source: str


def parse(code: str) -> Diagnosis | None:
    """The `Diagnosis` for a string code, or None when it is not one (e.g. `inconclusive`)."""
    try:
        return Diagnosis(code)
    except ValueError:
        return None


def as_code(value: str) -> Code:
    """A string known to be a diagnosis code, typed; ValueError for one that is not."""
    return Diagnosis(value).value


def codes() -> frozenset[str]:
    """Every diagnosis code, as strings."""
    return frozenset(d.value for d in Diagnosis)


@cache
def table() -> Mapping[Diagnosis, DiagnosisInfo]:
    """The validated table; raises DiagnosisTableError naming every problem."""
    text = resources.files("bot.data").joinpath("diagnoses.yaml").read_text(encoding="utf-8")
    return build_table(yaml.safe_load(text))


def build_table(data: Any) -> dict[Diagnosis, DiagnosisInfo]:
    """Validate the table's YAML data and build the rows (one problem per line in the error)."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("diagnoses"), dict):
        raise DiagnosisTableError("diagnoses.yaml: needs a `diagnoses:` mapping")
    base = _names(data.get("sweep_facts", []), "sweep_facts", problems)
    rows: dict[Diagnosis, DiagnosisInfo] = {}
    for key, entry in data["diagnoses"].items():
        code = parse(str(key))
        if code is None:
            problems.append(f"'{key}' is not a member of bot.diagnoses.Diagnosis")
            continue
        row = _row(code, entry, base, problems)
        if row is not None:
            rows[code] = row
    missing = sorted(d.value for d in Diagnosis if d not in rows)
    if missing:
        problems.append(f"no entry for {', '.join(missing)}")
    if problems:
        raise DiagnosisTableError("diagnoses.yaml: " + "; ".join(problems))
    return rows


def _row(code: Diagnosis, entry: Any, base: frozenset[str],
         problems: list[str]) -> DiagnosisInfo | None:
    if not isinstance(entry, dict):
        problems.append(f"{code}: must be a mapping of {', '.join(sorted(_FIELDS))}")
        return None
    before = len(problems)
    for name in sorted(_FIELDS ^ set(entry)):
        what = "unknown field" if name in entry else "missing field"
        problems.append(f"{code}: {what} `{name}`")
    texts = {k: entry.get(k) for k in ("evidence", "headline", "source")}
    for name, value in texts.items():
        if name in entry and not (isinstance(value, str) and value.strip()):
            problems.append(f"{code}: `{name}` must be a sentence")
    direction = entry.get("direction")
    if direction not in DIRECTIONS:
        problems.append(f"{code}: direction is one of {', '.join(sorted(DIRECTIONS))}")
    stages = _names(entry.get("stages", []), f"{code}.stages", problems)
    if stages - STAGES:
        problems.append(f"{code}: unknown stage(s) {', '.join(sorted(stages - STAGES))} "
                        f"(known: {', '.join(sorted(STAGES))})")
    facts = _names(entry.get("facts", []), f"{code}.facts", problems)
    if len(problems) > before:
        return None
    return DiagnosisInfo(code, str(texts["evidence"]), str(texts["headline"]),
                         cast(Direction, direction), cast(frozenset[Stage], stages),
                         facts | base, str(texts["source"]))


def _names(value: Any, where: str, problems: list[str]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of names")
        return frozenset()
    return frozenset(value)
