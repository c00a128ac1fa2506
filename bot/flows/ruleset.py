"""What every lint rule shares: the context it may consult and how it names a problem.

A rule is a function `(flow, ctx) -> FlowProblem`s (docs/flow-language.md, "Checks");
bot.flows.validate runs them all. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.errors import FlowProblem
from bot.flows.model import ClientSteps, Flow
from bot.ids import diagnosis_codes, symptom_ids


@dataclass(frozen=True)
class Context:
    """What rules may consult besides the flow itself."""

    flows: Mapping[str, Flow]
    subflows: Mapping[str, Flow]
    clients: ClientSteps
    # The shared ids plus those a help desk's folder declared (bot.flows.overlay).
    symptoms: frozenset[str] = field(default_factory=symptom_ids)
    diagnoses: frozenset[str] = field(default_factory=diagnosis_codes)
    declared_diagnoses: frozenset[str] = frozenset()


Rule = Callable[[Flow, Context], Iterable[FlowProblem]]


def problem(flow: Flow, line: int, message: str) -> FlowProblem:
    """A problem at `line` of the flow's file."""
    return FlowProblem(flow.file, line, message)
