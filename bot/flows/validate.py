"""The meaning pass: one small `validate_*` function per lint rule (docs/flow-language.md).

Each rule takes a flow and the shared context and yields `FlowProblem`s; `validate_flowset`
runs them all. Pure: no I/O, no engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import FlowProblem
from bot.flows.facts import analyse, undefaulted_steps, unguaranteed
from bot.flows.model import (
    ASK_TYPES,
    CONDITION_KEYS,
    PLACEHOLDER,
    SETTINGS_TABLES,
    STEP_TOPICS,
    ClientSteps,
    Flow,
    FlowSet,
    Node,
)
from bot.flows.overlay import Declared
from bot.flows.params import expand
from bot.flows.paths import cycles, graph_of, reachable
from bot.ids import PROVIDER_TRAITS, diagnosis_codes, symptom_ids
from bot.registry import PROBES
from bot.slots import SECRET_SLOTS, SLOT_NAMES

SERVER_FIELDS = frozenset({"host", "port", "security", "security_label", "username", "protocol"})
PROVIDER_FIELDS = frozenset({"name", "short_name", "id"})
EXTRA_NAMES = frozenset({"title", "symptom", "client_name", "login_servers"})
# The answers a typed question can get (None: open-ended).
ANSWER_VALUES: dict[str, frozenset[str]] = {
    "yesno": frozenset({"yes", "no"}),
    "protocol": frozenset({"pop3", "imap"}),
    "security": frozenset({"ssl", "starttls", "none"}),
}


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


def _p(flow: Flow, line: int, message: str) -> FlowProblem:
    return FlowProblem(flow.file, line, message)


def validate_flow_id(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """A flow answers a symptom id of symptoms.yaml; a sub-flow id is not one."""
    line = flow.lines.get("subflow" if flow.is_subflow else "id", flow.line)
    if not flow.is_subflow and flow.id and flow.id not in ctx.symptoms:
        known = ", ".join(sorted(ctx.symptoms))
        yield _p(flow, line, f"unknown symptom id '{flow.id}' (known: {known}; "
                 "a help desk's folder declares its own in _symptoms.yaml)")
    if flow.is_subflow and flow.id in ctx.symptoms:
        yield _p(flow, line, f"sub-flow id '{flow.id}' is a symptom id; pick another name")


def validate_node_refs(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Every `next`/`on`/`goto`/`start` names a node of the flow; `call` names a sub-flow."""
    if flow.start and flow.start not in flow.nodes:
        yield _p(flow, flow.lines.get("start", flow.line),
                 f"start node '{flow.start}' does not exist")
    for node in flow.nodes.values():
        for label, dest in node.edges():
            if dest not in flow.nodes:
                key = "next" if label == "next" else ("branch" if node.kind == "branch" else "on")
                yield _p(flow, _edge_line(node, label, key),
                         f"node '{node.name}' goes to '{dest}', which does not exist")
        if node.kind == "call" and node.subflow and node.subflow not in ctx.subflows:
            yield _p(flow, node.line_of("call"), f"node '{node.name}' calls unknown sub-flow "
                     f"'{node.subflow}' (known: {', '.join(sorted(ctx.subflows)) or 'none'})")


def _edge_line(node: Node, label: str, key: str) -> int:
    if node.kind == "branch" and label.startswith(("rule", "else")):
        index = len(node.rules) - 1 if label == "else" else int(label[4:])
        return node.rules[index].line
    return node.line_of(key)


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
        values = _answer_values(node)
        for key in node.on:
            if values is not None and key not in values and key != "unknown":
                yield _p(flow, node.line_of("on"), f"{where}: `on: {key}` is not a possible "
                         f"answer ({', '.join(sorted(values))}, unknown)")


def _answer_values(node: Node) -> frozenset[str] | None:
    if node.type == "choice":
        return frozenset(v for v, _ in node.choices)
    return ANSWER_VALUES.get(node.type)


def validate_branch_else(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """A branch ends with exactly one `else`, so some path is always taken."""
    for node in flow.nodes.values():
        if node.kind != "branch" or not node.rules:
            continue
        elses = [r for r in node.rules if r.is_else]
        if not elses:
            yield _p(flow, node.line, f"branch '{node.name}' has no `else:` (add one, last)")
        elif not node.rules[-1].is_else or len(elses) > 1:
            yield _p(flow, elses[0].line, f"branch '{node.name}': `else:` must come once, last")


def validate_dead_ends(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Every node either ends (resolve, handoff, return) or goes on for every answer/outcome."""
    for node in flow.nodes.values():
        where = f"node '{node.name}'"
        if node.kind == "return" and not flow.is_subflow:
            yield _p(flow, node.line, f"{where}: `return` is only allowed in a sub-flow")
        elif node.kind in ("say", "call") and node.next is None:
            yield _p(flow, node.line, f"{where} is a dead end: it needs `next:` "
                     "(or end with resolve/handoff)")
        elif node.kind == "ask":
            yield from _ask_dead_end(flow, node)
        elif node.kind == "probe" and not node.on:
            yield _p(flow, node.line, f"{where} is a dead end: a probe needs `on:` outcomes")


def _ask_dead_end(flow: Flow, node: Node) -> Iterator[FlowProblem]:
    if node.next is not None:
        return
    values = _answer_values(node)
    where = f"node '{node.name}'"
    if values is None:
        yield _p(flow, node.line, f"{where} is a dead end: it needs `next:`")
        return
    missing = sorted(values - set(node.on))
    if node.type == "yesno":
        unknown_ok = "unknown" in node.on or "no" in node.on
    else:
        unknown_ok = "unknown" in node.on
    if not unknown_ok:
        missing.append("unknown")
    if missing:
        yield _p(flow, node.line, f"{where} is a dead end for answer(s) {', '.join(missing)}: "
                 "add them to `on:` or give `next:`")


def validate_probes(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Probe names exist; every outcome a probe can produce is handled (or `other:`)."""
    for node in flow.nodes.values():
        if node.kind != "probe":
            continue
        where = f"node '{node.name}'"
        info = PROBES.get(node.probe)
        if info is None:
            yield _p(flow, node.line_of("probe"), f"{where}: unknown probe '{node.probe}' "
                     f"(known: {', '.join(sorted(PROBES))})")
            continue
        for key in node.on:
            if key != "other" and key not in info.outcomes:
                yield _p(flow, node.line_of("on"),
                         f"{where}: probe '{node.probe}' never has outcome '{key}'")
        missing = sorted(info.outcomes - set(node.on))
        if missing and "other" not in node.on and node.on:
            yield _p(flow, node.line_of("on"), f"{where}: probe '{node.probe}' outcome(s) "
                     f"{', '.join(missing)} not handled (add them or `other:`)")


def validate_diagnoses(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Resolve codes exist, and (except `ok`) some probe of the flow can produce them."""
    producible = _producible(flow, ctx)
    for node in flow.nodes.values():
        if node.kind != "resolve" or not node.diagnosis:
            continue
        where = f"node '{node.name}'"
        if node.diagnosis not in ctx.diagnoses:
            yield _p(flow, node.line_of("resolve"),
                     f"{where}: unknown diagnosis code '{node.diagnosis}'")
        # A help desk's own code is established by the conversation, not by a bundled probe.
        elif (node.diagnosis != "ok" and node.diagnosis not in producible
              and node.diagnosis not in ctx.declared_diagnoses):
            yield _p(flow, node.line_of("resolve"), f"{where} resolves '{node.diagnosis}', "
                     "which no probe of this flow can report")
        if node.settings is not None and node.settings not in SETTINGS_TABLES:
            yield _p(flow, node.line_of("settings"),
                     f"{where}: settings is one of {', '.join(sorted(SETTINGS_TABLES))}")


def _producible(flow: Flow, ctx: Context) -> set[str]:
    if flow.is_subflow:  # a sub-flow sees the evidence of whichever flow called it
        everything = [*ctx.flows.values(), *ctx.subflows.values()]
        return {o for f in everything for o in _own_outcomes(f)}
    seen, todo, out = set(), [flow], set()
    while todo:
        current = todo.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        out |= _own_outcomes(current)
        todo += [ctx.subflows[n.subflow] for n in current.nodes.values()
                 if n.kind == "call" and n.subflow in ctx.subflows]
    return out


def _own_outcomes(flow: Flow) -> set[str]:
    return {o for n in flow.nodes.values() if n.kind == "probe" and n.probe in PROBES
            for o in PROBES[n.probe].outcomes}


def validate_reachable(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Every node can be reached from `start`."""
    if flow.start not in flow.nodes:
        return
    reached = reachable(graph_of(flow), flow.start)
    for name, node in flow.nodes.items():
        if name not in reached:
            yield _p(flow, node.line, f"node '{name}' is unreachable from start '{flow.start}'")


def validate_cycles(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """No loop without a way out, and no loop that never asks the user or probes."""
    graph = graph_of(flow)
    for component in cycles(graph):
        names = sorted(component, key=lambda n: flow.nodes[n].line)
        path = " → ".join([*names, names[0]])
        line = flow.nodes[names[0]].line
        exits = any(d not in component for n in component for d in graph[n])
        if not exits and not any(flow.nodes[n].terminal for n in component):
            yield _p(flow, line, f"cycle with no way out: {path}")
        elif not any(flow.nodes[n].kind in ("ask", "probe", "call") for n in component):
            yield _p(flow, line, f"cycle that never asks the user or probes: {path}")


def validate_secret_consent(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """A `secret` question is reachable only through the `yes` of a yes/no question."""
    if flow.start not in flow.nodes:
        return
    reached = reachable(graph_of(flow, skip=_is_consent_edge), flow.start)
    for node in flow.nodes.values():
        if node.kind == "ask" and node.type == "secret" and node.name in reached:
            yield _p(flow, node.line, f"secret question '{node.name}' can be reached without a "
                     "`yes` to a yes/no consent question before it")


def _is_consent_edge(node: Node, label: str) -> bool:
    if node.kind != "ask" or node.type != "yesno":
        return False
    # `next` is the yes-path when only `no` (and maybe `unknown`) branch elsewhere.
    return label == "yes" or (label == "next" and "yes" not in node.on and "no" in node.on)


def validate_templates(flow: Flow, ctx: Context) -> Iterator[FlowProblem]:
    """Placeholders name slots, provider fields, facts or step topics; never the password."""
    for node in flow.nodes.values():
        texts = [("prompt", node.prompt), (_text_key(node), node.text)]
        texts += [("with", v) for v in node.params.values()]
        for key, text in texts:
            for name in placeholder_names(text):
                message = placeholder_problem(name, flow.slots)
                if message:
                    yield _p(flow, node.line_of(key), f"node '{node.name}': {message}")


def placeholder_names(text: str) -> list[str]:
    """The names of a text's `{name}` / `{name|default}` placeholders, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def _text_key(node: Node) -> str:
    return {"say": "say", "probe": "say", "resolve": "say", "handoff": "handoff"}.get(
        node.kind, "say")


def placeholder_problem(name: str, local_slots: frozenset[str] = frozenset()) -> str | None:
    """Why `{name}` cannot be filled, or None when it can."""
    root, _, rest = name.partition(".")
    if name in SECRET_SLOTS or (root == "client" and rest in SECRET_SLOTS):
        return f"placeholder {{{name}}} would show a secret"
    ok = (
        (not rest and (root in SLOT_NAMES or root in local_slots or root in EXTRA_NAMES))
        or (root == "client" and rest in SLOT_NAMES)
        or (root == "facts" and bool(rest))
        or (root == "steps" and rest in STEP_TOPICS)
        or (root == "provider" and _provider_field(rest))
    )
    return None if ok else f"unknown placeholder {{{name}}}"


def _provider_field(rest: str) -> bool:
    side, _, field = rest.partition(".")
    return (not field and side in PROVIDER_FIELDS) or (
        side in ("incoming", "outgoing") and field in SERVER_FIELDS)


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


def validate_clients(clients: ClientSteps) -> Iterator[FlowProblem]:
    """Step texts use known topics and placeholders."""
    for key, topics in clients.steps.items():
        for topic, text in topics.items():
            line = clients.lines.get(f"{key}.{topic}", 1)
            file = clients.files.get(f"{key}.{topic}", clients.file)
            if topic not in STEP_TOPICS:
                yield FlowProblem(file, line, f"client '{key}': unknown topic '{topic}' "
                                  f"({', '.join(sorted(STEP_TOPICS))})")
            for name in placeholder_names(text):
                message = placeholder_problem(name)
                if message and not name.startswith("steps."):
                    yield FlowProblem(file, line, f"client '{key}' {topic}: {message}")


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
