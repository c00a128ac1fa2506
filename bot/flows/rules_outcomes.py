"""Lint rules about outcomes: the probes a flow runs and the diagnoses it resolves."""

from __future__ import annotations

from collections.abc import Iterator

from bot.errors import FlowProblem
from bot.flows.model import SETTINGS_TABLES, Flow
from bot.flows.ruleset import Context
from bot.flows.ruleset import problem as _p
from bot.registry import PROBES


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
