"""The meaning pass: one small `validate_*` function per lint rule (docs/flow-language.md).

Each rule takes a flow and the shared context (bot.flows.ruleset) and yields `FlowProblem`s;
the rules live by subject: questions and slots (rules_questions), the graph of nodes
(rules_paths), probes and diagnoses (rules_outcomes), customer texts (rules_texts), facts
(bot.flows.facts). `validate_flowset` runs them all. Pure: no I/O, no engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from bot.errors import FlowProblem
from bot.flows.facts import analyse, undefaulted_steps, unguaranteed
from bot.flows.model import ClientSteps, Flow, FlowSet
from bot.flows.overlay import Declared
from bot.flows.params import expand
from bot.flows.rules_outcomes import validate_diagnoses, validate_probes
from bot.flows.rules_paths import (
    validate_branch_else,
    validate_cycles,
    validate_dead_ends,
    validate_node_refs,
    validate_reachable,
    validate_secret_consent,
)
from bot.flows.rules_questions import validate_ask, validate_flow_id, validate_slot_refs
from bot.flows.rules_texts import validate_clients, validate_templates
from bot.flows.ruleset import Context, Rule
from bot.flows.ruleset import problem as _p
from bot.ids import diagnosis_codes, symptom_ids

RULES: tuple[Rule, ...] = (
    validate_flow_id, validate_node_refs, validate_slot_refs, validate_ask,
    validate_branch_else, validate_dead_ends, validate_probes, validate_diagnoses,
    validate_reachable, validate_cycles, validate_secret_consent, validate_templates,
)


def validate_facts(ctx: Context) -> Iterator[FlowProblem]:
    """A placeholder is certain wherever it is shown, or names its default (bot.flows.facts)."""
    known = analyse(ctx.flows, ctx.subflows)
    for flow_id, state in known.items():
        yield from unguaranteed(ctx.flows.get(flow_id) or ctx.subflows[flow_id], state,
                                ctx.clients)
    yield from undefaulted_steps(ctx.clients)


def validate_duplicates(flows: Iterable[Flow]) -> Iterator[FlowProblem]:
    """One file per symptom id, and sub-flow ids unique."""
    first: dict[tuple[bool, str], Flow] = {}
    for flow in flows:
        key = (flow.is_subflow, flow.id)
        if key in first:
            other = first[key]
            what = "sub-flow" if flow.is_subflow else "flow"
            yield _p(flow, flow.line, f"duplicate {what} id '{flow.id}' "
                     f"(also in {other.file}:{other.line})")
        else:
            first[key] = flow


def validate_flowset(
    flows: list[Flow], clients: ClientSteps, vocabulary: Mapping[str, Any], digest: str,
    declared: Declared | None = None,
) -> tuple[FlowSet, list[FlowProblem]]:
    """Run every rule over every flow; the FlowSet is usable only when no problem came back.

    `declared`: the symptom ids and diagnosis codes a help desk's folder adds.
    """
    problems = list(validate_duplicates(flows))
    flows, expanded = expand(flows)  # parameterised sub-flows → one instance per value
    problems += expanded
    by_id = {f.id: f for f in reversed(flows) if not f.is_subflow}
    subs = {f.id: f for f in reversed(flows) if f.is_subflow}
    declared = declared or Declared()
    ctx = Context(by_id, subs, clients, symptom_ids() | set(declared.symptoms),
                  diagnosis_codes() | set(declared.diagnoses), frozenset(declared.diagnoses))
    for flow in flows:
        for rule in RULES:
            problems.extend(rule(flow, ctx))
    problems.extend(validate_facts(ctx))
    problems.extend(validate_clients(clients))
    return FlowSet(by_id, subs, clients, vocabulary, digest), problems
