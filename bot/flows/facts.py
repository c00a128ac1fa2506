"""Facts are a contract: a text may only use what every path to it guarantees (or say a default).

What a placeholder needs, and what makes it certain on a path:
- `{facts.X}`: a probe outcome on the path whose diagnosis guarantees X (bot/data/diagnoses.yaml
  `facts` and `sweep_facts`, read through `ProbeInfo.guaranteed_facts`);
- `{provider.X}`: `lookup_provider` answered `found` on the path;
- a slot (`{email}`, `{client.outgoing_port}`, `{client}`): an answer to its question (not "I
  don't know"), or a branch that tested it (`known: [...]`, `slot: value`).
`{NAME|text}` names its own default, and `{steps.TOPIC}` is checked with the client texts it
can show. Everything here only adds knowledge along a path (nothing is forgotten), so what a
node is sure of is the intersection over the paths that reach it: a forward "must" analysis
over each flow, with sub-flows entered with what every call site knows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.errors import FlowProblem
from bot.flows.model import CONDITION_KEYS, PLACEHOLDER, ClientSteps, Flow, Node
from bot.registry import PROBES
from bot.slots import SLOT_NAMES

Known = frozenset[str]  # "facts.X", "provider", "slot.S"
PROVIDER = "provider"
ALWAYS = frozenset({"title", "symptom"})


@dataclass(frozen=True)
class Need:
    """One placeholder that must be certain where it is shown."""

    name: str  # as written
    requires: str  # "facts.X" | "provider" | "slot.S"


def need_of(name: str) -> str | None:
    """What `{name}` requires to have a value, or None when it always has one."""
    root, _, rest = name.partition(".")
    if root == "facts":
        return "facts." + rest.removesuffix("_label") if rest.endswith("_security_label") \
            else "facts." + rest
    if root == "provider":
        return PROVIDER
    if root == "steps" or name in ALWAYS:
        return None
    slot = "client" if name in ("client", "client_name") else (rest if root == "client" else name)
    return "slot." + slot if slot in SLOT_NAMES else None


def needs(text: str) -> Iterator[Need]:
    """The placeholders of a text that have no `|default` and need something."""
    for match in PLACEHOLDER.finditer(text):
        name, default = match.group(1), match.group(2)
        requires = need_of(name)
        if default is None and requires is not None:
            yield Need(name, requires)


# ---------------------------------------------------------------------------- the analysis


def _edge_gen(node: Node, label: str) -> Known:
    """What taking `label` out of `node` makes certain."""
    if node.kind == "ask":
        # "I don't know" takes `unknown` when there is one; else `no` (yes/no) or `next`
        vague = "unknown" if "unknown" in node.on else (
            "no" if node.type == "yesno" and "no" in node.on else "next")
        return frozenset() if label in (vague, "unknown") else frozenset({"slot." + node.slot})
    if node.kind == "probe" and node.probe in PROBES:
        return _probe_gen(node, label)
    if node.kind == "branch" and label.startswith("rule"):
        rule = node.rules[int(label[4:])]
        slots = set(rule.when.get("known", ()))
        slots |= {k for k in rule.when if k not in CONDITION_KEYS}
        return frozenset("slot." + s for s in slots)
    return frozenset()


def _probe_gen(node: Node, label: str) -> Known:
    info = PROBES[node.probe]
    if label == "other":
        rest = [o for o in info.outcomes if o not in node.on]
        sets = [_outcome_gen(node.probe, o) for o in rest]
        return frozenset.intersection(*sets) if sets else frozenset()
    return _outcome_gen(node.probe, label)


def _outcome_gen(probe: str, outcome: str) -> Known:
    out = {"facts." + f for f in PROBES[probe].guaranteed_facts(outcome)}
    if probe == "lookup_provider" and outcome == "found":
        out.add(PROVIDER)
    return frozenset(out)


def known_at(flow: Flow, entry: Known, returns: Mapping[str, Known]) -> dict[str, Known]:
    """What is certain on arrival at each reachable node (`returns`: per sub-flow, at return)."""
    state: dict[str, Known] = {flow.start: entry}
    todo = [flow.start]
    while todo:
        name = todo.pop()
        node = flow.nodes.get(name)
        if node is None:
            continue
        here = state[name]
        if node.kind == "call":
            here = here | returns.get(node.subflow, frozenset())
        for label, dest in node.edges():
            arriving = here | _edge_gen(node, label)
            if dest not in state:
                state[dest] = arriving
            elif not state[dest] <= arriving:
                state[dest] = state[dest] & arriving
            else:
                continue
            todo.append(dest)
    return state


def _at_return(flow: Flow, state: Mapping[str, Known]) -> Known:
    ends = [state[n] for n, node in flow.nodes.items() if node.kind == "return" and n in state]
    return frozenset.intersection(*ends) if ends else frozenset()


def analyse(flows: Mapping[str, Flow], subflows: Mapping[str, Flow]
            ) -> dict[str, dict[str, Known]]:
    """Flow id → node → what is certain there, for every flow and sub-flow."""
    returns: dict[str, Known] = {}
    for _ in range(len(subflows) + 1):  # sub-flows calling sub-flows: settle bottom-up
        returns = {i: _at_return(f, known_at(f, frozenset(), returns))
                   for i, f in subflows.items()}
    entries: dict[str, Known | None] = dict.fromkeys(subflows)
    result = {i: known_at(f, frozenset(), returns) for i, f in flows.items()}
    for _ in range(len(subflows) + 1):
        for flow_id, state in list(result.items()):
            flow = flows.get(flow_id) or subflows[flow_id]
            for name, node in flow.nodes.items():
                if node.kind == "call" and name in state and node.subflow in entries:
                    seen = entries[node.subflow]
                    entries[node.subflow] = state[name] if seen is None else seen & state[name]
        for sub_id, sub in subflows.items():
            result[sub_id] = known_at(sub, entries[sub_id] or frozenset(), returns)
    return result


# ---------------------------------------------------------------------------- the rule


def unguaranteed(flow: Flow, state: Mapping[str, Known], clients: ClientSteps
                 ) -> Iterator[FlowProblem]:
    """Placeholders shown where their value is not certain, as `FILE:LINE:` problems."""
    for name, node in flow.nodes.items():
        if name not in state:
            continue
        for key, text in _texts(node):
            for need in _with_steps(text, clients):
                if need.requires not in state[name]:
                    yield FlowProblem(flow.file, node.line_of(key), _message(node, need))


def _texts(node: Node) -> Iterator[tuple[str, str]]:
    key = "handoff" if node.kind == "handoff" else "say"
    if node.text:
        yield key, node.text
    if node.prompt:
        yield "prompt", node.prompt


def _with_steps(text: str, clients: ClientSteps) -> Iterator[Need]:
    yield from needs(text)  # `{steps.X}` texts stand alone: see `undefaulted_steps`


def undefaulted_steps(clients: ClientSteps) -> Iterator[FlowProblem]:
    """Client steps are shown whatever is known, so each placeholder they use needs a default."""
    for client, topics in clients.steps.items():
        for topic, text in topics.items():
            for need in needs(text):
                yield FlowProblem(clients.file, clients.lines.get(f"{client}.{topic}", 1), (
                    f"client '{client}' {topic}: {{{need.name}}} needs a default, "
                    f"{{{need.name}|text}}: steps are shown whether or not it has a value"))


def _message(node: Node, need: Need) -> str:
    why = {
        PROVIDER: "no `lookup_provider` → found on every path here",
    }.get(need.requires)
    if why is None and need.requires.startswith("facts."):
        why = "not every probe outcome that leads here guarantees it"
    elif why is None:
        why = "its question may have been answered \"I don't know\""
    return (f"node '{node.name}': {{{need.name}}} may have no value here ({why}); "
            f"give a default: {{{need.name.split(' ')[0]}|text}}")
