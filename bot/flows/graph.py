"""Flow pictures: a flow's decision tree as Mermaid, Graphviz DOT or a self-made SVG.

Pure: takes a loaded `Flow`, returns text. Nodes are drawn by kind, edges labelled with the
answer, probe outcome or branch condition that takes them; optional shading marks what replayed
transcripts exercised (`Shading`, built by `bot.transcripts.coverage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from xml.sax.saxutils import escape

from bot.flows.model import Flow, Node, Rule

FORMATS = ("mermaid", "dot", "svg")

# kind → (fill colour, DOT shape): one look per kind in every output format
_STYLE: dict[str, tuple[str, str]] = {
    "ask": ("#dbeafe", "box"),
    "say": ("#f3f4f6", "note"),
    "probe": ("#fef3c7", "hexagon"),
    "branch": ("#ede9fe", "diamond"),
    "resolve": ("#dcfce7", "doubleoctagon"),
    "handoff": ("#fee2e2", "house"),
    "call": ("#e0f2fe", "component"),
    "return": ("#e5e7eb", "oval"),
}
_COVERED, _PARTLY, _MISSED = "#16a34a", "#d97706", "#dc2626"


@dataclass(frozen=True)
class Shading:
    """What replay exercised: node names and (source node, edge label) pairs."""

    nodes: frozenset[str]
    edges: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Edge:
    """One drawn transition."""

    source: str
    target: str
    label: str  # what the reader sees: the answer, outcome or condition
    key: str  # the engine's edge label (`Node.edges()`), used for coverage


def node_caption(node: Node) -> str:
    """A short description of what a node does, for pictures and coverage lists."""
    detail = {
        "ask": f"{node.slot} ({node.type})",
        "probe": node.probe,
        "resolve": node.diagnosis,
        "call": node.subflow,
        "say": _clip(node.text, 40),
        "handoff": _clip(node.text, 40),
    }.get(node.kind, "")
    return f"{node.kind}: {detail}" if detail else node.kind


def flow_edges(flow: Flow) -> list[Edge]:
    """Every transition of a flow, with readable labels (targets outside the flow dropped)."""
    edges: list[Edge] = []
    for node in flow.nodes.values():
        rules = {f"rule{i}": r for i, r in enumerate(node.rules)}
        for key, target in node.edges():
            if target not in flow.nodes:
                continue
            label = _rule_label(rules[key]) if key in rules else key
            if key == "next":  # plain sequence, or "any answer not listed under on:"
                label = "other answer" if node.on else ""
            elif key == "unknown" and node.kind == "ask":
                label = "don't know"
            edges.append(Edge(node.name, target, label, key))
    return edges


def _rule_label(rule: Rule) -> str:
    if rule.is_else:
        return "else"
    parts = []
    for key, values in rule.when.items():
        joined = "|".join(values)
        parts.append(f"{key}: {joined}" if key in ("known", "unknown") else f"{key}={joined}")
    return " & ".join(parts)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render(flow: Flow, fmt: str, shading: Shading | None = None) -> str:
    """The flow as `mermaid`, `dot` or `svg` text."""
    if fmt == "mermaid":
        return to_mermaid(flow, shading)
    if fmt == "dot":
        return to_dot(flow, shading)
    return to_svg(flow, shading)


# --- Mermaid ------------------------------------------------------------------------------

_MERMAID_SHAPES: dict[str, tuple[str, str]] = {
    "ask": ("([", "])"), "say": ("[", "]"), "probe": ("{{", "}}"), "branch": ("{", "}"),
    "resolve": ("[[", "]]"), "handoff": ("[/", "/]"), "call": ("[[", "]]"), "return": ("((", "))"),
}


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;").replace("\n", " ") + '"'


def to_mermaid(flow: Flow, shading: Shading | None = None) -> str:
    """A Mermaid `flowchart TD` of the flow."""
    ids = {name: f"n{i}" for i, name in enumerate(flow.nodes)}
    lines = ["flowchart TD", f"  %% {flow.id}: {flow.title}".rstrip(": ")]
    for kind, (fill, _) in _STYLE.items():
        lines.append(f"  classDef {kind} fill:{fill},stroke:#374151")
    lines += ["  classDef covered stroke:#16a34a,stroke-width:3px",
              "  classDef missed stroke:#dc2626,stroke-width:3px,stroke-dasharray:4"]
    for name, node in flow.nodes.items():
        opening, closing = _MERMAID_SHAPES[node.kind]
        text = _mermaid_text(f"{name}<br/>{node_caption(node)}")
        lines.append(f"  {ids[name]}{opening}{text}{closing}:::{node.kind}")
    for index, edge in enumerate(flow_edges(flow)):
        arrow = f"-- {_mermaid_text(edge.label)} -->" if edge.label else "-->"
        lines.append(f"  {ids[edge.source]} {arrow} {ids[edge.target]}")
        if shading is not None:
            colour = _COVERED if (edge.source, edge.key) in shading.edges else _MISSED
            lines.append(f"  linkStyle {index} stroke:{colour}")
    if shading is not None:
        for name in flow.nodes:
            lines.append(f"  class {ids[name]} {'covered' if name in shading.nodes else 'missed'}")
    lines.append(f"  style {ids[flow.start]} stroke-width:3px")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT -------------------------------------------------------------------------

def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(flow: Flow, shading: Shading | None = None) -> str:
    """A Graphviz digraph of the flow (render with `dot -Tsvg`)."""
    lines = [f"digraph {_dot_text(flow.id)} {{",
             f"  label={_dot_text(flow.title or flow.id)}; labelloc=t; rankdir=TB;",
             '  node [style=filled, fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for name, node in flow.nodes.items():
        fill, shape = _STYLE[node.kind]
        attrs = f"shape={shape}, fillcolor={_dot_text(fill)}"
        if shading is not None:
            colour = _COVERED if name in shading.nodes else _MISSED
            attrs += f", color={_dot_text(colour)}, penwidth=2"
        if name == flow.start:
            attrs += ", peripheries=2"
        label = _dot_text(f"{name}\n{node_caption(node)}")
        lines.append(f"  {_dot_text(name)} [label={label}, {attrs}];")
    for edge in flow_edges(flow):
        attrs = f"label={_dot_text(edge.label)}"
        if shading is not None:
            covered = (edge.source, edge.key) in shading.edges
            attrs += f", color={_dot_text(_COVERED if covered else _MISSED)}"
            attrs += "" if covered else ", style=dashed"
        lines.append(f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)} [{attrs}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- SVG (a layered layout in pure Python: no Graphviz needed) ----------------------------
# Sugiyama-style, kept small: rows by longest path from the start, loops drawn as back edges,
# a narrow placeholder slot in every row a long edge crosses (so it never runs through a box),
# then one barycentre pass to order each row under its parents.

_BOX_W, _BOX_H, _SLOT_W, _GAP_X, _GAP_Y, _MARGIN = 190, 46, 24, 36, 80, 30


@dataclass(frozen=True)
class _Layout:
    boxes: Mapping[str, tuple[float, float, float]]  # name → (left x, top y, width)
    routes: Mapping[tuple[str, str], tuple[str, ...]]  # long edge → its placeholder slots
    width: float
    height: float


def layers(flow: Flow) -> list[list[str]]:
    """Node names in rows: each node one row below its lowest parent."""
    return [[n for n in row if n in flow.nodes] for row in _rows(flow)[0]]


def _rows(flow: Flow) -> tuple[list[list[str]], dict[tuple[str, str], tuple[str, ...]]]:
    forward = _forward_edges(flow)
    depth: dict[str, int] = {}
    for name in _topological(flow, forward):
        parents = [s for s, t in forward if t == name and s in depth]
        depth[name] = max((depth[p] + 1 for p in parents), default=0)
    bottom = max(depth.values(), default=0) + 1
    for name in flow.nodes:  # unreachable nodes (the lint reports them) go in a last row
        depth.setdefault(name, bottom)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for name in flow.nodes:
        rows[depth[name]].append(name)
    routes: dict[tuple[str, str], tuple[str, ...]] = {}
    for source, target in sorted(forward):
        slots = tuple(f"\0{source}>{target}@{r}" for r in range(depth[source] + 1, depth[target]))
        for slot, r in zip(slots, range(depth[source] + 1, depth[target]), strict=True):
            rows[r].append(slot)
        if slots:
            routes[(source, target)] = slots
    return _order_rows(rows, flow, routes), routes


def _forward_edges(flow: Flow) -> set[tuple[str, str]]:
    """Edges that do not close a loop (depth-first from the start)."""
    forward: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str) -> None:
        state[name] = 1
        for _, target in flow.nodes[name].edges():
            if target not in flow.nodes or state.get(target) == 1:
                continue
            forward.add((name, target))
            if target not in state:
                visit(target)
        state[name] = 2

    if flow.start in flow.nodes:
        visit(flow.start)
    return forward


def _topological(flow: Flow, forward: set[tuple[str, str]]) -> list[str]:
    incoming = {n: 0 for n in flow.nodes}
    for _, target in forward:
        incoming[target] += 1
    ready = [flow.start] if flow.start in flow.nodes else []
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for source, target in sorted(forward):
            if source == name:
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
    return order


def _order_rows(
    rows: list[list[str]], flow: Flow, routes: Mapping[tuple[str, str], tuple[str, ...]]
) -> list[list[str]]:
    parents: dict[str, list[str]] = {}
    for edge in flow_edges(flow):
        chain = [edge.source, *routes.get((edge.source, edge.target), ()), edge.target]
        for upper, lower in pairwise(chain):
            parents.setdefault(lower, []).append(upper)
    position: dict[str, float] = {n: float(i) for i, n in enumerate(rows[0])}
    for row in rows[1:]:
        def key(name: str) -> float:
            seen = [position[p] for p in parents.get(name, []) if p in position]
            return sum(seen) / len(seen) if seen else float("inf")
        row.sort(key=key)
        position.update({n: float(i) for i, n in enumerate(row)})
    return [r for r in rows if r]


def _layout(flow: Flow) -> _Layout:
    rows, routes = _rows(flow)

    def width_of(name: str) -> float:
        return _SLOT_W if name.startswith("\0") else _BOX_W

    spans = [sum(width_of(n) for n in row) + _GAP_X * (len(row) - 1) for row in rows]
    width = 2 * _MARGIN + max(spans, default=_BOX_W)
    boxes: dict[str, tuple[float, float, float]] = {}
    for index, (row, span) in enumerate(zip(rows, spans, strict=True)):
        x, y = (width - span) / 2, _MARGIN + 30 + index * (_BOX_H + _GAP_Y)
        for name in row:
            boxes[name] = (x, y, width_of(name))
            x += width_of(name) + _GAP_X
    height = _MARGIN * 2 + 30 + len(rows) * (_BOX_H + _GAP_Y)
    return _Layout(boxes, routes, width, height)


def to_svg(flow: Flow, shading: Shading | None = None) -> str:
    """A standalone SVG picture of the flow, laid out top to bottom from the start node."""
    layout = _layout(flow)
    width, height = layout.width, layout.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        "<defs>" + "".join(_marker(n, c) for n, c in (
            ("arrow", "#4b5563"), ("ok", _COVERED), ("part", _PARTLY), ("miss", _MISSED)))
        + "</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{_MARGIN}" y="{_MARGIN}" font-size="16" font-weight="bold">'
        f"{escape(flow.id)}: {escape(flow.title)}</text>",
    ]
    labels: list[str] = []
    for group in _merged(flow_edges(flow)):
        path, label = _svg_edge(group, layout, shading)
        out.append(path)
        labels.append(label)
    out += [_svg_node(flow.nodes[n], layout.boxes[n], shading, n == flow.start)
            for n in flow.nodes]
    out += labels  # labels last so no box hides them
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _marker(name: str, colour: str) -> str:
    return (f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            f'fill="{colour}"/></marker>')


def _svg_node(
    node: Node, box: tuple[float, float, float], shading: Shading | None, is_start: bool
) -> str:
    x, y, _ = box
    fill, _shape = _STYLE[node.kind]
    stroke, dash = "#374151", ""
    if shading is not None:
        stroke = _COVERED if node.name in shading.nodes else _MISSED
        dash = "" if node.name in shading.nodes else ' stroke-dasharray="5 3"'
    width = 3 if is_start or shading is not None else 1.2
    rx = {"ask": 20, "branch": 2, "return": 23}.get(node.kind, 6)
    title = escape(f"{node.name} — {node_caption(node)} (line {node.line})")
    return (
        f'<g class="node {node.kind}"><title>{title}</title>'
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="{rx}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>'
        f'<text x="{x + _BOX_W / 2:.0f}" y="{y + 19:.0f}" font-size="12" font-weight="bold" '
        f'text-anchor="middle">{escape(_clip(node.name, 26))}</text>'
        f'<text x="{x + _BOX_W / 2:.0f}" y="{y + 35:.0f}" font-size="10" fill="#374151" '
        f'text-anchor="middle">{escape(_clip(node_caption(node), 32))}</text></g>'
    )


def _merged(edges: list[Edge]) -> list[list[Edge]]:
    """Parallel edges (several answers to one node) drawn once with a joined label."""
    groups: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges:
        groups.setdefault((edge.source, edge.target), []).append(edge)
    return list(groups.values())


def _edge_colour(group: list[Edge], shading: Shading | None) -> tuple[str, str, str]:
    """(stroke colour, marker id, dash attribute) for a drawn edge."""
    if shading is None:
        return "#4b5563", "arrow", ""
    covered = sum(1 for e in group if (e.source, e.key) in shading.edges)
    if covered == len(group):
        return _COVERED, "ok", ""
    if covered:
        return _PARTLY, "part", ""
    return _MISSED, "miss", ' stroke-dasharray="5 3"'


def _centre(box: tuple[float, float, float]) -> float:
    return box[0] + box[2] / 2


def _svg_edge(group: list[Edge], layout: _Layout, shading: Shading | None) -> tuple[str, str]:
    source, target = layout.boxes[group[0].source], layout.boxes[group[0].target]
    colour, marker, dash = _edge_colour(group, shading)
    if target[1] > source[1]:
        slots = [layout.boxes[s] for s in layout.routes.get((group[0].source, group[0].target), ())]
        d, lx, ly = _downward(source, slots, target)
    else:  # an edge back up (a loop) swings out to the right of both boxes
        swing = max(source[0], target[0]) + _BOX_W + 60
        y0, y3 = source[1] + _BOX_H / 2, target[1] + _BOX_H / 2
        d = (f"M {source[0] + _BOX_W:.0f} {y0:.0f} C {swing:.0f} {y0:.0f} {swing:.0f} "
             f"{y3:.0f} {target[0] + _BOX_W:.0f} {y3:.0f}")
        lx, ly = swing - 15, (y0 + y3) / 2
    path = (f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4"{dash} '
            f'marker-end="url(#{marker})"/>')
    shown = _clip(" | ".join(e.label for e in group if e.label), 34)
    if not shown:
        return path, ""
    w = 6.2 * len(shown) + 8
    label = (f'<g class="label"><rect x="{lx - w / 2:.0f}" y="{ly - 9:.0f}" width="{w:.0f}" '
             f'height="15" rx="3" fill="#ffffff" fill-opacity="0.9"/>'
             f'<text x="{lx:.0f}" y="{ly + 2:.0f}" font-size="10" text-anchor="middle" '
             f'fill="{colour}">{escape(shown)}</text></g>')
    return path, label


def _downward(
    source: tuple[float, float, float], slots: list[tuple[float, float, float]],
    target: tuple[float, float, float],
) -> tuple[str, float, float]:
    """Path data through the placeholder slots, and where its label goes."""
    x, y = _centre(source), source[1] + _BOX_H
    d = f"M {x:.0f} {y:.0f}"
    for slot in slots:  # curve into the slot, then straight down through it
        sx, top = _centre(slot), slot[1]
        d += f" C {x:.0f} {(y + top) / 2:.0f} {sx:.0f} {(y + top) / 2:.0f} {sx:.0f} {top:.0f}"
        x, y = sx, top + _BOX_H
        d += f" L {x:.0f} {y:.0f}"
    tx, ty = _centre(target), target[1]
    mid = (y + ty) / 2
    d += f" C {x:.0f} {mid:.0f} {tx:.0f} {mid:.0f} {tx:.0f} {ty:.0f}"
    if slots:  # a long edge's label sits in its first slot, a place no other edge uses
        return d, _centre(slots[0]), slots[0][1] + _BOX_H / 2
    # labels sit near the target, where edges fanning out of one node have separated
    t = 0.7
    a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
    return d, a * x + b * x + c * tx + e * tx, a * y + b * mid + c * mid + e * ty
