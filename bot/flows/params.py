"""Call parameters: one sub-flow, instantiated per parameter value (docs/flow-language.md).

A sub-flow declares `params:` (parameter → allowed value → words); a `call:` passes one value
per parameter in `with:`. At load every combination of values becomes a concrete sub-flow,
`check_server(outgoing)`, in which:
- `{direction}` reads the value and `{direction.word}` the value's word, in every text, the
  probe name, `with:` values and `settings:`;
- a branch condition on a parameter (`when: {direction: incoming}`) is decided;
- a probe's `on:` keeps only the outcomes that probe can produce, and nodes no path reaches
  any more are dropped.
Each instance is then validated like any flow (problems point at the sub-flow file's lines),
and each call is pointed at its instance, so the engine only ever sees concrete sub-flows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, Protocol

from bot.errors import FlowProblem
from bot.flows.model import Flow, Node, Rule
from bot.flows.paths import graph_of, reachable
from bot.flows.yamlsafe import LineDict
from bot.registry import PROBES

Params = Mapping[str, Mapping[str, Mapping[str, str]]]


class _Problems(Protocol):
    def error(self, line: int, message: str) -> None: ...


def parse_params(shape: _Problems, data: LineDict) -> dict[str, dict[str, dict[str, str]]]:
    """`params:` of a sub-flow: name → value → {word: text} (a list gives values without words)."""
    raw = data.get("params")
    if raw is None:
        return {}
    line = data.key_lines.get("params", data.line)
    if not isinstance(raw, dict) or not raw:
        shape.error(line, "`params` must map each parameter to its values")
        return {}
    out: dict[str, dict[str, dict[str, str]]] = {}
    for name, values in raw.items():
        if isinstance(values, list):
            values = {str(v): {} for v in values}
        if not isinstance(values, dict) or not values or not all(
                isinstance(w, dict | None) for w in values.values()):
            shape.error(line, f"params: `{name}` must map each value to its words (or list "
                        "the values)")
            continue
        out[str(name)] = {str(v): {str(k): str(t) for k, t in (w or {}).items()}
                          for v, w in values.items()}
    return out


def instance_id(flow_id: str, values: Mapping[str, str]) -> str:
    """The concrete sub-flow's id: `check_server(outgoing)`."""
    return f"{flow_id}({','.join(values.values())})"


def expand(flows: list[Flow]) -> tuple[list[Flow], list[FlowProblem]]:
    """Every parameterised sub-flow replaced by its instances, every call pointed at one."""
    templates = {f.id: f for f in flows if f.is_subflow and f.params}
    problems: list[FlowProblem] = []
    out = [f for f in flows if f.id not in templates or not f.is_subflow]
    for template in templates.values():
        instances = [_instantiate(template, values, problems) for values in _bindings(template)]
        out += instances
        problems += _never_kept(template, instances)
    flat_subs = {f.id for f in flows if f.is_subflow and not f.params}
    return [_point_calls(f, templates, flat_subs, problems) for f in out], problems


def _bindings(flow: Flow) -> Iterator[dict[str, str]]:
    names = list(flow.params)
    for combo in itertools.product(*(flow.params[n] for n in names)):
        yield dict(zip(names, combo, strict=True))


def _instantiate(template: Flow, values: Mapping[str, str],
                 problems: list[FlowProblem]) -> Flow:
    pattern = re.compile(r"\{(" + "|".join(map(re.escape, values)) + r")(?:\.([\w-]+))?\}")

    def sub(text: str, node: Node, key: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name, word = match.group(1), match.group(2)
            if word is None:
                return values[name]
            words = template.params[name][values[name]]
            if word not in words:
                problems.append(FlowProblem(template.file, node.line_of(key), (
                    f"node '{node.name}': {{{name}.{word}}} is not a word of {name}="
                    f"{values[name]} (words: {', '.join(sorted(words)) or 'none'})")))
                return ""  # reported once here, not again as an unknown placeholder
            return words[word]
        return pattern.sub(fill, text)

    nodes = {name: _node(node, values, sub, _all_outcomes(template, node.probe))
             for name, node in template.nodes.items()}
    flow = replace(template, id=instance_id(template.id, values), nodes=nodes, params={})
    kept = reachable(graph_of(flow), flow.start)
    return replace(flow, nodes={n: v for n, v in nodes.items() if n in kept})


def _node(node: Node, values: Mapping[str, str], sub: Any, everywhere: frozenset[str]) -> Node:
    text_key = "handoff" if node.kind == "handoff" else "say"
    changes: dict[str, Any] = {
        "text": sub(node.text, node, text_key), "prompt": sub(node.prompt, node, "prompt"),
        "probe": sub(node.probe, node, "probe"),
        "params": {k: sub(v, node, "with") for k, v in node.params.items()},
        "settings": sub(node.settings, node, "settings") if node.settings else node.settings,
    }
    if node.kind == "branch":
        changes["rules"] = _fold_rules(node.rules, values)
    info = PROBES.get(changes["probe"]) if node.kind == "probe" else None
    if info is not None:
        changes["on"] = {k: v for k, v in node.on.items()
                         if k in info.outcomes or k == "other" or k not in everywhere}
    return replace(node, **changes)


def _all_outcomes(template: Flow, probe: str) -> frozenset[str]:
    """Outcomes of any probe the name becomes for some binding (only those may be dropped)."""
    names = {probe.format_map(_Blank(values)) for values in _bindings(template)}
    return frozenset(o for name in names if name in PROBES for o in PROBES[name].outcomes)


class _Blank(dict[str, str]):
    """`str.format_map` helper: `{direction}` → its value, any other `{x}` left as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fold_rules(rules: tuple[Rule, ...], values: Mapping[str, str]) -> tuple[Rule, ...]:
    """Decide the conditions on parameters; a rule left without conditions ends the branch."""
    out: list[Rule] = []
    for rule in rules:
        decided = {k: v for k, v in rule.when.items() if k in values}
        if any(values[k] not in allowed for k, allowed in decided.items()):
            continue
        when = {k: v for k, v in rule.when.items() if k not in values}
        if rule.is_else or (decided and not when):
            out.append(Rule({}, rule.goto, rule.line, is_else=True))
            break
        out.append(replace(rule, when=when))
    return tuple(out)


def _never_kept(template: Flow, instances: list[Flow]) -> Iterator[FlowProblem]:
    kept = {name for flow in instances for name in flow.nodes}
    for name, node in template.nodes.items():
        if name not in kept:
            yield FlowProblem(template.file, node.line, f"node '{name}' is unreachable from "
                              f"start '{template.start}' for every value of its parameters")


def _point_calls(flow: Flow, templates: Mapping[str, Flow], flat: set[str],
                 problems: list[FlowProblem]) -> Flow:
    nodes = dict(flow.nodes)
    for name, node in flow.nodes.items():
        if node.kind != "call":
            continue
        template = templates.get(node.subflow)
        if template is None:
            if node.params and node.subflow in flat:
                problems.append(FlowProblem(flow.file, node.line_of("with"), (
                    f"node '{name}': sub-flow '{node.subflow}' takes no parameters")))
            continue
        bad = _call_problem(node, template)
        if bad:
            problems.append(FlowProblem(flow.file, node.line_of("with"), f"node '{name}': {bad}"))
        # a bad call still names an instance, so the problem is not reported twice
        values = {p: node.params.get(p, "") for p in template.params}
        if bad:
            values = next(_bindings(template))
        nodes[name] = replace(node, subflow=instance_id(template.id, values), params={})
    return replace(flow, nodes=nodes)


def _call_problem(node: Node, template: Flow) -> str | None:
    declared = template.params
    missing = sorted(set(declared) - set(node.params))
    extra = sorted(set(node.params) - set(declared))
    if missing or extra:
        want = ", ".join(f"{p}: {'|'.join(v)}" for p, v in declared.items())
        return f"call '{template.id}' needs `with: {{{want}}}` exactly"
    for param, value in node.params.items():
        if value not in declared[param]:
            return (f"call '{template.id}': {param} is one of "
                    f"{', '.join(declared[param])}, not '{value}'")
    return None
