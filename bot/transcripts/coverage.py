"""Coverage: which nodes, transitions and probe-outcome branches replayed transcripts exercised.

A transcript names the node of every bot and probe turn; nodes that speak no turn (branches,
asks passed through because the slot was known, calls and returns) are recovered by finding the
shortest path of such silent nodes between two consecutive visible ones. A probe turn fixes the
edge its outcome takes; an answer that equals an `on:` value fixes the ask's edge.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.flows.graph import Shading
from bot.flows.loader import FlowDirs
from bot.flows.model import Flow, FlowSet, Node
from bot.transcripts.document import Role, Transcript, Turn

SILENT_KINDS = frozenset({"branch", "ask", "call", "return"})

Step = tuple[str, str]  # (flow id, node name)
Stack = tuple[Step, ...]  # call nodes of the sub-flows entered and not yet returned from
_MAX_DEPTH = 6
EdgeRef = tuple[str, str, str]  # (flow id, node name, edge key as in Node.edges())


@dataclass(frozen=True)
class Missed:
    """One element no transcript exercised, with where it is written."""

    what: str  # node | transition | outcome
    description: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what} {self.description}"


@dataclass(frozen=True)
class FlowCoverage:
    """Coverage of one flow or sub-flow."""

    flow: str
    file: str
    nodes: tuple[int, int]  # (exercised, total)
    transitions: tuple[int, int]
    outcomes: tuple[int, int]  # probe-outcome branches
    missed: tuple[Missed, ...]
    shading: Shading

    @property
    def node_share(self) -> float:
        return _share(self.nodes)

    def summary(self) -> str:
        """`flow  nodes 12/14 (86%)  transitions ...  probe outcomes ...`."""
        parts = [f"{label} {hit}/{total} ({_share((hit, total)):.0%})" for label, (hit, total) in
                 (("nodes", self.nodes), ("transitions", self.transitions),
                  ("probe outcomes", self.outcomes))]
        return f"{self.flow:<26} " + "  ".join(parts)


def _share(pair: tuple[int, int]) -> float:
    hit, total = pair
    return hit / total if total else 1.0


@dataclass
class Visits:
    """Everything exercised, accumulated over many transcripts."""

    nodes: set[Step]
    edges: set[EdgeRef]

    @classmethod
    def empty(cls) -> Visits:
        return cls(set(), set())


def record(flowset: FlowSet, transcript: Transcript, visits: Visits) -> None:
    """Add what one (replayed) transcript exercised to `visits`."""
    previous: tuple[Step, Turn] | None = None
    stack: Stack = ()
    for index, turn in enumerate(transcript.turns):
        step = _step(flowset, turn)
        if step is None:
            continue
        if previous is None or previous[0] != step:
            hint = _answer_after(transcript.turns, index, previous)
            stack = _connect(flowset, previous, stack, step, hint, visits)
        visits.nodes.add(step)
        if turn.role is Role.PROBE:
            _record_outcome(flowset, step, turn, visits)
        previous = (step, turn)


def _step(flowset: FlowSet, turn: Turn) -> Step | None:
    flow, node = turn.flow, turn.node
    if not isinstance(flow, str) or not isinstance(node, str):
        return None
    known = flowset.flows.get(flow) or flowset.subflows.get(flow)
    return (flow, node) if known is not None and node in known.nodes else None


def _record_outcome(flowset: FlowSet, step: Step, turn: Turn, visits: Visits) -> None:
    node = flowset.get(step[0]).nodes[step[1]]
    outcome = turn.report.outcome if turn.report else ""
    key = outcome if outcome in node.on else "other"
    if key in node.on:
        visits.edges.add((step[0], step[1], key))


def _answer_after(turns: Any, index: int, previous: tuple[Step, Turn] | None) -> str | None:
    # The user's line that moved the conversation from `previous` to this turn, if any.
    if previous is None:
        return None
    for turn in reversed(turns[:index]):
        if turn is previous[1]:
            return None
        if turn.role is Role.USER:
            return None if turn.redacted else turn.text or ""
    return None


def _connect(
    flowset: FlowSet, previous: tuple[Step, Turn] | None, stack: Stack, step: Step,
    hint: str | None, visits: Visits,
) -> Stack:
    """Mark the silent path from the previous visible node (or a flow's start) to `step`.

    Returns the call stack at `step` (sub-flows called and not yet returned from).
    """
    if previous is not None:
        keys = _first_keys(flowset, previous, hint)
        found = _silent_path(flowset, (previous[0], stack), step, keys)
        if found is not None:
            _mark(found[0], visits)
            return found[1]
    # "go back", "start over", a changed symptom: the conversation jumped; when the jump
    # lands on a flow's start, or a node reached silently from it, credit that path.
    start = (step[0], flowset.get(step[0]).start)
    visits.nodes.add(start)
    if start != step and (found := _silent_path(flowset, (start, ()), step, None)) is not None:
        _mark(found[0], visits)
        return found[1]
    return stack if previous is not None and previous[0][0] == step[0] else ()


def _first_keys(
    flowset: FlowSet, previous: tuple[Step, Turn], hint: str | None
) -> list[str] | None:
    step, turn = previous
    node = flowset.get(step[0]).nodes[step[1]]
    if turn.role is Role.PROBE:
        outcome = turn.report.outcome if turn.report else ""
        return [outcome if outcome in node.on else "other"]
    if node.kind == "ask" and hint is not None:
        label = _answer_label(flowset, node, hint)
        if label is not None:
            return [label]
    return None


def _answer_label(flowset: FlowSet, node: Node, text: str) -> str | None:
    """The `on:` entry an answer takes, read the way the engine reads answers."""
    from bot.engine.answers import label_value, parse_answer, repair_of

    if repair_of(text) == "unknown":
        return "unknown" if "unknown" in node.on else None
    value = parse_answer(node.type, text, node.choices, flowset.clients)
    if value is None:
        return None
    label = label_value(node.type, value)
    if label in node.on:
        return label
    return "next" if node.next is not None else None


def _mark(path: list[EdgeRef], visits: Visits) -> None:
    for flow, node, key in path:
        visits.nodes.add((flow, node))
        visits.edges.add((flow, node, key))


def _silent_path(
    flowset: FlowSet, source: tuple[Step, Stack], target: Step, first_keys: list[str] | None
) -> tuple[list[EdgeRef], Stack] | None:
    """Shortest chain of edges from source to target through silent nodes only."""
    queue: deque[tuple[Step, Stack, list[EdgeRef]]] = deque([(source[0], source[1], [])])
    seen = {source}
    while queue:
        here, stack, path = queue.popleft()
        if path and here == target:
            return path, stack
        node = flowset.get(here[0]).nodes[here[1]]
        if path and node.kind not in SILENT_KINDS:
            continue  # a node that speaks would have left a turn
        for key, nxt, after, credit in _moves(flowset, here, stack, node):
            if not path and first_keys is not None and key not in first_keys:
                continue
            if path and node.kind == "ask" and key == "unknown":
                continue  # a question passed through silently had its slot known
            if (nxt, after) in seen and nxt != target:
                continue
            seen.add((nxt, after))
            queue.append((nxt, after, [*path, *credit]))
    return None


def _moves(
    flowset: FlowSet, here: Step, stack: Stack, node: Node
) -> list[tuple[str, Step, Stack, tuple[EdgeRef, ...]]]:
    """(edge key, next step, call stack there, edges to credit) for each way on from `here`."""
    flow = flowset.get(here[0])
    moves: list[tuple[str, Step, Stack, tuple[EdgeRef, ...]]] = []
    for key, dest in node.edges():
        if node.kind == "call" and key == "next":
            continue  # taken on the sub-flow's return, below
        if dest in flow.nodes:
            moves.append((key, (here[0], dest), stack, ((here[0], here[1], key),)))
    if node.kind == "call" and node.subflow in flowset.subflows and len(stack) < _MAX_DEPTH:
        sub = flowset.subflows[node.subflow]
        moves.append(("call", (sub.id, sub.start), (*stack, here), ((*here, "call"),)))
    if node.kind == "return":
        callers = [stack[-1]] if stack else _callers(flowset, here[0])
        for caller_flow, caller in callers:
            after = flowset.get(caller_flow).nodes[caller].next
            if after is not None:
                credit = ((*here, "return"), (caller_flow, caller, "next"))
                moves.append(("return", (caller_flow, after), stack[:-1], credit))
    return moves


def _callers(flowset: FlowSet, subflow: str) -> list[Step]:
    """Every call node of `subflow` (when the call stack is not known)."""
    return [(f.id, n.name) for f in [*flowset.flows.values(), *flowset.subflows.values()]
            for n in f.nodes.values() if n.kind == "call" and n.subflow == subflow]


def measure(flowset: FlowSet, transcripts: Iterable[Transcript]) -> list[FlowCoverage]:
    """Coverage of every flow and sub-flow by the given (replayed) transcripts."""
    visits = Visits.empty()
    for transcript in transcripts:
        record(flowset, transcript, visits)
    flows = [*flowset.flows.values(), *flowset.subflows.values()]
    return [summarise(flow, visits) for flow in sorted(flows, key=lambda f: f.id)]


def summarise(flow: Flow, visits: Visits) -> FlowCoverage:
    """One flow's numbers and the list of what was missed, by file line."""
    lines = _entry_lines(flow)
    missed: list[Missed] = []
    node_hits = {n for f, n in visits.nodes if f == flow.id}
    edge_hits = {(n, k) for f, n, k in visits.edges if f == flow.id}
    for name, node in flow.nodes.items():
        if name not in node_hits:
            missed.append(Missed("node", f"'{name}' ({node.kind}) never reached",
                                 flow.file, lines.get((name, ""), node.line)))
    transitions = [(n, k, d) for n, node in flow.nodes.items() for k, d in _edges(flow, node)]
    outcomes = [(n, k, d) for n, k, d in transitions if flow.nodes[n].kind == "probe"]
    for name, key, dest in transitions:
        if (name, key) not in edge_hits:
            node = flow.nodes[name]
            what = "outcome" if node.kind == "probe" else "transition"
            line = lines.get((name, key), node.line_of("on" if key in node.on else key))
            missed.append(Missed(what, f"'{name}' --{key}--> '{dest}' never taken",
                                 flow.file, line))
    return FlowCoverage(
        flow=flow.id,
        file=flow.file,
        nodes=(len(node_hits & set(flow.nodes)), len(flow.nodes)),
        transitions=(sum(1 for n, k, _ in transitions if (n, k) in edge_hits), len(transitions)),
        outcomes=(sum(1 for n, k, _ in outcomes if (n, k) in edge_hits), len(outcomes)),
        missed=tuple(sorted(missed, key=lambda m: m.line)),
        shading=Shading(frozenset(node_hits), frozenset(edge_hits)),
    )


def _edges(flow: Flow, node: Node) -> list[tuple[str, str]]:
    return [(k, d) for k, d in node.edges() if d in flow.nodes]


def _entry_lines(flow: Flow) -> dict[tuple[str, str], int]:
    """(node, edge key) → the line of that `on:` entry or branch rule; (node, "") → its name."""
    out: dict[tuple[str, str], int] = {}
    for name, node in flow.nodes.items():
        for index, rule in enumerate(node.rules):
            out[(name, "else" if rule.is_else else f"rule{index}")] = rule.line
    raw = _raw_nodes(flow.file)
    for name, line in getattr(raw, "key_lines", {}).items():
        out[(str(name), "")] = line  # the line naming the node
    for name, body in raw.items():
        on = body.get("on") if isinstance(body, Mapping) else None
        for key, line in getattr(on, "key_lines", {}).items():
            out[(str(name), str(key))] = line
    return out


def _raw_nodes(file: str) -> Mapping[str, Any]:
    # The model keeps one line per node key; the line of each `on:` entry comes from the file.
    from bot.flows.yamlsafe import read_yaml

    path = Path(file)
    if not path.is_file():
        return {}
    data, problems = read_yaml(path, file)
    nodes = data.get("nodes") if isinstance(data, Mapping) and not problems else None
    return nodes if isinstance(nodes, Mapping) else {}


def coverage_of_paths(
    flows_dir: FlowDirs, paths: Iterable[str | Path]
) -> dict[str, FlowCoverage]:
    """Replay the transcripts under `paths` offline and measure every flow (by flow id)."""
    import asyncio

    from bot.transcripts.reader import find_transcripts
    from bot.transcripts.replay import Replayer, replay_files

    replayer = Replayer(flows_dir)
    results = asyncio.run(replay_files(replayer, find_transcripts(paths)))
    actual = [r.actual for r in results if r.actual is not None]
    return {c.flow: c for c in measure(replayer.engine.flowset, actual)}

