"""The stated-facts table: what a customer's statement changes in the tests and the fix text.

Data in `bot/data/stated_facts.yaml` (its format is documented at its top), validated at load:
an unknown fact id, diagnosis code, symptom id, provider value or key, a missing `reason`,
`source` or `said`, or a `never` that is no regex is a `FlowError` naming the file and entry.
Pure: `StatedTable.load()` reads the bundled file once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from bot.errors import FlowError, FlowProblem
from bot.ids import diagnosis_codes, symptom_ids
from bot.reading.slots import FACTS

FILE = "stated_facts.yaml"
_REQUIRED = ("reason", "source", "said")
_LISTS = ("symptoms", "providers", "first", "rules_out", "never")
_TEXTS = ("lead", "instead")
_APP_PASSWORD = frozenset({"always", "with_2sv", "never"})


@dataclass(frozen=True)
class StatedRule:
    """One statement's effect (see the data file's header for each field)."""

    fact: str
    reason: str
    source: str
    said: str
    symptoms: tuple[str, ...] = ()  # empty: every flow
    providers: tuple[str, ...] = ()  # empty: every provider
    first: tuple[str, ...] = ()
    rules_out: tuple[str, ...] = ()
    never: tuple[re.Pattern[str], ...] = ()
    lead: Mapping[str, str] | None = None
    instead: Mapping[str, str] | None = None

    def shapes(self, diagnosis: str | None) -> bool:
        """True when this statement bears on an answer with this diagnosis."""
        if diagnosis is None:
            return False
        keyed = set(self.lead or {}) | set(self.instead or {})
        return diagnosis in set(self.first) | set(self.rules_out) | keyed


@dataclass(frozen=True)
class StatedTable:
    """Every rule, in the file's order (the order hypotheses are tested in)."""

    rules: tuple[StatedRule, ...]

    @staticmethod
    @cache
    def load() -> StatedTable:
        """The bundled table; FlowError when it is malformed."""
        text = resources.files("bot.data").joinpath(FILE).read_text(encoding="utf-8")
        return parse(yaml.safe_load(text), FILE)


def parse(data: Any, where: str) -> StatedTable:
    """Validate and build the table from parsed YAML; FlowError lists every problem."""
    problems: list[str] = []
    facts = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(facts, dict):
        raise FlowError([FlowProblem(where, 1, "expected a mapping 'facts' of fact id → rule")])
    rules = []
    for fact, item in facts.items():
        found = _problems(str(fact), item)
        problems += [f"facts.{fact}: {p}" for p in found]
        if not found:
            rules.append(_rule(str(fact), item))
    if problems:
        raise FlowError([FlowProblem(where, 1, p) for p in problems])
    return StatedTable(tuple(rules))


def _problems(fact: str, item: Any) -> list[str]:
    if fact not in FACTS:
        return [f"unknown fact id (known: {', '.join(sorted(FACTS))})"]
    if not isinstance(item, dict):
        return ["expected a mapping"]
    out = [f"'{k}' is required" for k in _REQUIRED if not str(item.get(k) or "").strip()]
    out += [f"unknown key '{k}'" for k in item if k not in (*_REQUIRED, *_LISTS, *_TEXTS)]
    out += [f"'{k}' must be a list" for k in _LISTS if k in item
            and not isinstance(item[k], list)]
    out += [f"'{k}' must map diagnosis codes to texts" for k in _TEXTS if k in item
            and not isinstance(item[k], dict)]
    if out:
        return out
    codes, symptoms = diagnosis_codes(), symptom_ids()
    named = [*item.get("first", []), *item.get("rules_out", []),
             *(item.get("lead") or {}), *(item.get("instead") or {})]
    out += [f"unknown diagnosis code '{c}'" for c in named if c not in codes]
    out += [f"unknown symptom id '{s}'" for s in item.get("symptoms", []) if s not in symptoms]
    out += [f"unknown login.app_password value '{p}'" for p in item.get("providers", [])
            if p not in _APP_PASSWORD]
    for pattern in item.get("never", []):
        try:
            re.compile(str(pattern))
        except re.error as exc:
            out.append(f"'never' pattern {pattern!r} is no regex: {exc}")
    return out


def _rule(fact: str, item: Mapping[str, Any]) -> StatedRule:
    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(v) for v in item.get(key, []))

    def texts(key: str) -> Mapping[str, str] | None:
        value = item.get(key)
        return {str(k): str(v).strip() for k, v in value.items()} if value else None

    return StatedRule(
        fact, str(item["reason"]).strip(), str(item["source"]).strip(), str(item["said"]).strip(),
        strings("symptoms"), strings("providers"), strings("first"), strings("rules_out"),
        tuple(re.compile(p, re.IGNORECASE) for p in strings("never")), texts("lead"),
        texts("instead"))
