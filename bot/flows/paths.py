"""Paths through a flow's node graph: successors, reachability, loops (pure helpers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.flows.model import Flow, Node


def graph_of(flow: Flow, skip: Callable[[Node, str], bool] | None = None) -> dict[str, list[str]]:
    return {
        name: [d for label, d in node.edges() if d in flow.nodes
               and not (skip and skip(node, label))]
        for name, node in flow.nodes.items()
    }


def reachable(graph: Mapping[str, list[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in graph:
            continue
        seen.add(name)
        todo += graph[name]
    return seen


def cycles(graph: Mapping[str, list[str]]) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            name, i = work.pop()
            if i == 0:
                index[name] = low[name] = len(index)
                stack.append(name)
                on_stack.add(name)
            children = graph[name]
            if i < len(children):
                work.append((name, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[name] = min(low[name], index[child])
                continue
            if low[name] == index[name]:
                component: set[str] = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.add(top)
                    if top == name:
                        break
                if len(component) > 1 or name in graph[name]:
                    out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
    return out
