"""Lint rules about what a flow asks and remembers: its id, slots, questions and conditions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bot.errors import FlowProblem
from bot.flows.model import ASK_TYPES, CONDITION_KEYS, Flow, Node
from bot.flows.ruleset import Context
from bot.flows.ruleset import problem as _p
from bot.ids import PROVIDER_TRAITS
from bot.slots import SECRET_SLOTS, SLOT_NAMES

# The answers a typed question can get (None: open-ended).
ANSWER_VALUES: dict[str, frozenset[str]] = {
    "yesno": frozenset({"yes", "no"}),
    "protocol": frozenset({"pop3", "imap"}),
    "security": frozenset({"ssl", "starttls", "none"}),
}


def validate_flow_id(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """A flow answers a symptom id of symptoms.yaml; a sub-flow id is not one."""
    line = flow.lines.get("subflow" if flow.is_subflow else "id", flow.line)
    if not flow.is_subflow and flow.id and flow.id not in ctx.symptoms:
        known = ", ".join(sorted(ctx.symptoms))
        yield _p(flow, line, f"unknown symptom id '{flow.id}' (known: {known}; "
                 "a help desk's folder declares its own in _symptoms.yaml)")
    if flow.is_subflow and flow.id in ctx.symptoms:
        yield _p(flow, line, f"sub-flow id '{flow.id}' is a symptom id; pick another name")


def _slot_known(flow: Flow, name: str) -> bool:
    return name in SLOT_NAMES or name in flow.slots


def validate_slot_refs(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Slots named in asks and branch conditions exist (CONTRACT slots or the flow's `slots:`)."""
    for bad in sorted(flow.slots & SLOT_NAMES):
        yield _p(flow, flow.lines.get("slots", flow.line),
                 f"`slots:` re-declares the standard slot '{bad}'")
    for node in flow.nodes.values():
        if node.kind == "ask" and node.slot and not _slot_known(flow, node.slot):
            yield _p(flow, node.line_of("ask"), f"node '{node.name}' asks for unknown slot "
                     f"'{node.slot}' (declare flow-local slots in `slots:`)")
        for rule in node.rules:
            yield from _condition_problems(flow, node, rule.when, rule.line, ctx)


def _condition_problems(
    flow: Flow, node: Node, when: Mapping[str, tuple[str, ...]], line: int, ctx: Context
) -> Iterator[FlowProblem]:
    where = f"node '{node.name}'"
    for key, values in when.items():
        if key in ("known", "unknown"):
            for slot in values:
                if not _slot_known(flow, slot):
                    yield _p(flow, line, f"{where}: condition on unknown slot '{slot}'")
        elif key == "evidence":
            for code in values:
                if code not in ctx.diagnoses and code != "inconclusive":
                    yield _p(flow, line, f"{where}: unknown diagnosis code '{code}' in evidence")
        elif key == "vantage":
            for value in values:
                if value not in ("local", "server"):
                    yield _p(flow, line, f"{where}: vantage is `local` or `server`, not '{value}'")
        elif key == "provider":
            for value in values:
                if value not in PROVIDER_TRAITS:
                    yield _p(flow, line, f"{where}: provider is one of "
                             f"{', '.join(PROVIDER_TRAITS)}, not '{value}'")
        elif not _slot_known(flow, key):
            known = ", ".join(sorted(CONDITION_KEYS))
            yield _p(flow, line, f"{where}: condition on unknown slot '{key}' (or use {known})")


def validate_ask(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Ask nodes: a known type, choices for `choice`, `on` keys the answer can take."""
    for node in flow.nodes.values():
        if node.kind != "ask":
            continue
        where = f"node '{node.name}'"
        if node.type not in ASK_TYPES:
            yield _p(flow, node.line_of("type"), f"{where}: unknown question type '{node.type}' "
                     f"({', '.join(sorted(ASK_TYPES))})")
            continue
        if node.type == "choice" and len(node.choices) < 2:
            yield _p(flow, node.line_of("choices"), f"{where}: a choice needs at least 2 choices")
        if node.choices and node.type != "choice":
            yield _p(flow, node.line_of("choices"), f"{where}: `choices` is only for type choice")
        if (node.type == "secret") != (node.slot in SECRET_SLOTS):
            yield _p(flow, node.line_of("type"),
                     f"{where}: the password slot is asked with type secret, and only it")
        values = answer_values(node)
        for key in node.on:
            if values is not None and key not in values and key != "unknown":
                yield _p(flow, node.line_of("on"), f"{where}: `on: {key}` is not a possible "
                         f"answer ({', '.join(sorted(values))}, unknown)")


def answer_values(node: Node) -> frozenset[str] | None:
    """The answers a question can get (None: open-ended)."""
    if node.type == "choice":
        return frozenset(v for v, _ in node.choices)
    return ANSWER_VALUES.get(node.type)
