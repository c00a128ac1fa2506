"""The diagnosis table: every root cause deskbot can prove, as one typed, validated record.

`Code` is the type of a code (a `Literal`, so mypy refuses `"tls_mode_missmatch"` while values
stay plain strings in probe results, transcripts and JSON); `Diagnosis` is its row of
bot/data/diagnoses.yaml (the package copy of ../shared/diagnoses.yaml, extended): evidence,
the customer's headline, direction, producing stages, guaranteed facts and source.
`diagnosis("port_blocked")` reads one row; the table is validated on first use (`table()`),
and a table that does not match `Code` raises `DiagnosisTableError` naming what is missing.

A new diagnosis is: its name in `Code` and its row in the YAML, the probe code that produces
it, its fix text in flows/_check_server.yaml, and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast, get_args

import yaml

from bot.errors import DeskbotError

# Every diagnosis code; bot/data/diagnoses.yaml has exactly one row per name.
Code = Literal[
    "ok", "dns_not_found", "dns_unavailable", "port_blocked", "port_closed", "server_unreachable",
    "tls_mode_mismatch", "certificate_untrusted", "certificate_name_mismatch",
    "certificate_expired", "auth_wrong_password", "auth_username_format", "auth_oauth_required",
    "auth_app_password_required", "auth_mechanism_unsupported", "smtp_auth_required",
    "mailbox_locked", "encryption_required", "too_many_connections", "mailbox_over_quota",
    "sender_blocklisted", "ipv6_path_broken",
]
CODES: tuple[Code, ...] = get_args(Code)
Direction = Literal["incoming", "outgoing", "both"]
# What established a conversation's diagnosis (CONTRACT.md transcript `basis`): the probes, a
# server reply the customer pasted, or the provider catalogue.
Basis = Literal["probe", "reply", "catalogue"]
BASES: tuple[Basis, ...] = get_args(Basis)
Stage = Literal[
    "dns", "tcp", "tls", "greeting", "starttls", "login", "relay", "quota", "catalogue"
]
STAGES: frozenset[str] = frozenset(get_args(Stage))
DIRECTIONS: frozenset[str] = frozenset(get_args(Direction))
_FIELDS = frozenset({"evidence", "headline", "direction", "stages", "facts", "source"})


class DiagnosisTableError(DeskbotError):
    """bot/data/diagnoses.yaml does not match `Code` or has a malformed entry."""


@dataclass(frozen=True)
class Diagnosis:
    """One row of the diagnosis table: a cause, how it is proven and how it is told."""

    code: Code
    evidence: str  # what confirms it
    headline: str  # the customer's one-line "what's wrong" (or "it works" for `ok`)
    direction: Direction  # which check probes can report it
    stages: frozenset[Stage]  # the probe stages that can produce it
    facts: frozenset[str]  # every `{facts.X}` a report with this outcome carries
    source: str  # RFC or vendor page

    def reported_by(self, direction: str) -> bool:
        """True when a check probe of `direction` (incoming/outgoing) can report this code."""
        return self.direction in ("both", direction)


def diagnosis(code: Code) -> Diagnosis:
    """The table's row for a code."""
    return table()[code]


def parse(value: str) -> Diagnosis | None:
    """The row for a string code, or None when it is not one (e.g. `inconclusive`)."""
    return table().get(as_code(value)) if value in CODES else None


def as_code(value: str) -> Code:
    """A string known to be a diagnosis code, typed; ValueError for one that is not."""
    if value not in CODES:
        raise ValueError(f"unknown diagnosis code {value!r}")
    return value


def codes() -> frozenset[str]:
    """Every diagnosis code, as strings."""
    return frozenset(CODES)


@cache
def table() -> Mapping[Code, Diagnosis]:
    """The validated table; raises DiagnosisTableError naming every problem."""
    text = resources.files("bot.data").joinpath("diagnoses.yaml").read_text(encoding="utf-8")
    return build_table(yaml.safe_load(text))


def build_table(data: Any) -> dict[Code, Diagnosis]:
    """Validate the table's YAML data and build the rows (one problem per line in the error)."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("diagnoses"), dict):
        raise DiagnosisTableError("diagnoses.yaml: needs a `diagnoses:` mapping")
    base = _names(data.get("sweep_facts", []), "sweep_facts", problems)
    rows: dict[Code, Diagnosis] = {}
    for key, entry in data["diagnoses"].items():
        if str(key) not in CODES:
            problems.append(f"'{key}' is not a name of bot.diagnoses.Code")
            continue
        code = as_code(str(key))
        row = _row(code, entry, base, problems)
        if row is not None:
            rows[code] = row
    missing = [c for c in CODES if c not in rows]
    if missing:
        problems.append(f"no entry for {', '.join(missing)}")
    if problems:
        raise DiagnosisTableError("diagnoses.yaml: " + "; ".join(problems))
    return {c: rows[c] for c in CODES}  # in `Code`'s order


def _row(code: Code, entry: Any, base: frozenset[str],
         problems: list[str]) -> Diagnosis | None:
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
    return Diagnosis(code, str(texts["evidence"]), str(texts["headline"]),
                         cast(Direction, direction), cast(frozenset[Stage], stages),
                         facts | base, str(texts["source"]))


def _names(value: Any, where: str, problems: list[str]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of names")
        return frozenset()
    return frozenset(value)
