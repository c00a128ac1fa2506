"""The YAML guards every reader of user YAML uses (flows, the vocabulary, --answers): alias
bombs, and keys listed twice.

A few hundred bytes of nested aliases expand to billions of nodes; the size is computed on the
node graph, without expanding, before anything is constructed. Pure: no I/O.
"""

from __future__ import annotations

import yaml

MAX_NODES = 50_000  # YAML nodes after expanding aliases; real flows have a few thousand


class YamlProblem(Exception):
    """A YAML document refused before construction (an alias bomb or loop), with its line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def node_bound(text: str) -> int | None:
    """An upper bound on the nodes `text` can expand to without walking it, or None.

    Without an anchor (`&`) a document has no alias, so it expands to its own nodes, and each
    node takes at least half a character (`?` + newline is a null key and value): a short
    document without anchors cannot reach MAX_NODES, and its walk can be skipped.
    """
    return None if "&" in text else 2 * len(text) + 2


def expanded_size(root: yaml.Node) -> int:
    """Nodes `root` expands to with its aliases (capped at MAX_NODES + 1), computed without
    expanding (memo by identity): check it before constructing anything from user YAML.

    Raises YamlProblem (with the line) for an alias that refers to itself.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise YamlProblem(node.start_mark.line + 1, "a YAML alias refers to itself")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = min(total, MAX_NODES + 1)
        return sizes[key]

    return size(root)


def listed_twice(key: object, first_line: int, mark: yaml.Mark) -> yaml.MarkedYAMLError:
    """The error for a mapping key listed twice (`first_line` 1-based): YAML would keep the
    last one silently, so a second `port:` synonym list would drop the first."""
    return yaml.constructor.ConstructorError(
        None, None, f"{key!r} is listed twice (first on line {first_line})", mark
    )
