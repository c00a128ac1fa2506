"""Lint rules about a flow's graph: where each node goes, and that every path ends well."""

from __future__ import annotations

from collections.abc import Iterator

from bot.errors import FlowProblem
from bot.flows.model import Flow, Node
from bot.flows.paths import cycles, graph_of, reachable
from bot.flows.rules_questions import answer_values
from bot.flows.ruleset import Context
from bot.flows.ruleset import problem as _p


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
    values = answer_values(node)
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
