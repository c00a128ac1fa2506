"""The shared ids: symptom ids (one per flow) and diagnosis codes (typed in bot.diagnoses)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from bot.diagnoses import codes, parse

# Provider facts a flow may branch on with `when: {provider: [...]}`; computed from the
# catalogue and bot/data/provider_rules.yaml by bot.catalog.rules.provider_traits.
PROVIDER_TRAITS: tuple[str, ...] = ("oauth_only", "app_password", "imap_only", "pop3_only",
                                    "storage_rule")


@cache
def _load(name: str) -> dict[str, dict[str, str]]:
    text = resources.files("bot.data").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    key = name.removesuffix(".yaml")
    return dict(data[key])


def symptom_ids() -> frozenset[str]:
    """Every symptom id a flow may answer."""
    return frozenset(_load("symptoms.yaml"))


def symptom_summary(symptom_id: str) -> str:
    """The one-line summary of a symptom."""
    return _load("symptoms.yaml")[symptom_id]["summary"]


def diagnosis_codes() -> frozenset[str]:
    """Every diagnosis code a conversation may record as its outcome (bot.diagnoses)."""
    return codes()


def diagnosis_evidence(code: str) -> str:
    """What evidence confirms a diagnosis code; KeyError for an unknown code."""
    diagnosis = parse(code)
    if diagnosis is None:
        raise KeyError(code)
    return diagnosis.evidence
