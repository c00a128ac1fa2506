"""What the customer said steers the tests and the fix text (bot/data/stated_facts.yaml).

Two uses, both pure:
- `hypotheses(...)`: the diagnoses to test first, for the probe sweep: the pasted error's
  hypotheses (bot/data/errors.yaml) first, then each stated fact's `first`. The sweep uses
  them to choose between readings the same evidence allows (a refused login is a wrong
  password, or an app password or OAuth being required); a statement's `rules_out` never
  removes a reading the evidence shows, it only adapts that reading's fix text.
- `shape(...)`: a fix text adapted to what the customer said: a fact's `instead` text in
  place of the flow's, its `lead` step before anything else, no sentence giving advice the
  customer must never get (a reset for a working password, an app password already tried),
  and the customer's statement said back where it shaped the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.engine import listen
from bot.reading.stated import StatedRule, StatedTable

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
_LIST_LINE = re.compile(r"^\s*(\d+[.)]|[-*•]) ")


@dataclass(frozen=True)
class Steering:
    """The statements that apply in one conversation, and their effect on one answer."""

    rules: tuple[StatedRule, ...]
    app_password: str | None = None  # the provider rule's login.app_password, if known

    @classmethod
    def of(cls, slots: Mapping[str, str], symptom: str | None,
           app_password: str | None) -> Steering:
        """The rules for the facts stated in `slots` (`said.<fact>`), this flow and the
        provider's `login.app_password` value (None when no rule is known)."""
        said = {k.removeprefix(listen.SAID) for k in slots if k.startswith(listen.SAID)}
        rules = tuple(r for r in StatedTable.load().rules if r.fact in said
                      and (not r.symptoms or symptom in r.symptoms))
        return cls(rules, app_password)

    def hypotheses(self, slots: Mapping[str, str]) -> tuple[str, ...]:
        """Diagnosis codes to test first, best first (pasted reply, then statements). A
        statement's `first` counts only at providers its `providers` names: "2-step
        verification is on" makes a refusal an app password only where the provider's rule
        ties app passwords to it; elsewhere the statement shapes the text, never the code."""
        entry = listen.pasted_entry(slots)
        order = list(entry.hypotheses) if entry is not None else []
        for rule in self.rules:
            if not rule.providers or self.app_password in rule.providers:
                order += rule.first
        return tuple(dict.fromkeys(order))

    def shape(self, text: str, diagnosis: str | None, render: Callable[[str], str]) -> str:
        """`text` (a rendered fix) adapted to the statements; unchanged when none bears on
        it. `render` fills the data file's placeholders."""
        said: list[str] = []
        leads: list[str] = []
        for rule in self.rules:
            instead = (rule.instead or {}).get(diagnosis or "")
            if instead:
                text = render(instead)
            lead = (rule.lead or {}).get(diagnosis or "")
            if lead:
                leads.append(render(lead))
            text, dropped = _without(text, rule.never)
            if rule.shapes(diagnosis) or dropped:
                said.append(render(rule.said))
        opening = " ".join(said + leads)
        return f"{opening}\n\n{text}" if opening else text


def _without(text: str, never: tuple[re.Pattern[str], ...]) -> tuple[str, bool]:
    """`text` without the sentences (or list lines) matching a pattern, and whether any was
    left out. Paragraphs with nothing left out keep their line breaks as they were."""
    if not never or not any(p.search(" ".join(text.split())) for p in never):
        return text, False
    kept: list[str] = []
    dropped = False
    for paragraph in text.split("\n\n"):
        listed = any(_LIST_LINE.match(line) for line in paragraph.splitlines())
        units = paragraph.splitlines() if listed else _SENTENCE_END.split(
            " ".join(paragraph.split()))
        left = [u for u in units if not any(p.search(" ".join(u.split())) for p in never)]
        if len(left) == len(units):
            kept.append(paragraph)
            continue
        dropped = True
        if left:
            kept.append(("\n" if listed else " ").join(left))
    return "\n\n".join(kept).strip(), dropped
