"""Safe, bounded YAML reading that remembers the line of every mapping key and list item.

`yaml.safe_load` refuses arbitrary objects; on top of that we refuse oversized files and alias
bombs *before* constructing anything, and we turn off YAML 1.1's yes/no/on/off booleans because
flows use `yes:`, `no:` and `on:` as plain keys.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.errors import FlowProblem
from bot.files import UnreadableFile, read_text_bounded
from bot.yamlguard import MAX_NODES, YamlProblem, expanded_size, listed_twice, node_bound

MAX_BYTES = 512 * 1024

try:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - libyaml missing

    class _Parser(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-style booleans: only true/false, so `yes:`/`no:`/`on:` stay strings."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:bool"]
    for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


_STR = "tag:yaml.org,2002:str"


class _Constructor(yaml.constructor.SafeConstructor):
    def _value(self, node: yaml.Node) -> Any:
        # Most of a flow file is plain strings: their value is the node's text (what
        # SafeConstructor would return), without its per-node bookkeeping.
        if node.__class__ is yaml.ScalarNode and node.tag == _STR:
            return node.value
        return self.construct_object(node, deep=True)

    def construct_line_mapping(self, node: yaml.MappingNode) -> LineDict:
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self._value(key_node)
            if isinstance(key, bool):
                key = "true" if key else "false"
            elif not isinstance(key, str):
                key = str(key) if isinstance(key, int | float) else repr(key)
            if key in out:
                raise listed_twice(key, out.key_lines[key], key_node.start_mark)
            out[key] = self._value(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out

    def construct_line_sequence(self, node: yaml.SequenceNode) -> LineList:
        out = LineList(self._value(child) for child in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [child.start_mark.line + 1 for child in node.value]
        return out


_Constructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:map", _Constructor.construct_line_mapping
)
_Constructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:seq", _Constructor.construct_line_sequence
)


class _Loader(_Parser, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


def read_yaml(path: Path, label: str) -> tuple[Any, list[FlowProblem]]:
    """Read one YAML file safely; returns (data, problems), data None when unreadable.
    A FIFO, a device (or a symlink to one) or a file over MAX_BYTES is a problem, not a hang."""
    try:
        text = read_text_bounded(path, MAX_BYTES)
    except UnreadableFile as exc:
        limit = MAX_BYTES // 1024
        msg = (f"file is over {limit} KB; flow files may be at most {limit} KB"
               if exc.too_large else f"cannot read file: {exc}")
        return None, [FlowProblem(label, 1, msg)]
    return parse_yaml(text, label)


def parse_yaml(text: str, label: str) -> tuple[Any, list[FlowProblem]]:
    """Parse YAML text safely (see `read_yaml`)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        bound = node_bound(text)
        if (bound is None or bound > MAX_NODES) and expanded_size(node) > MAX_NODES:
            msg = f"YAML expands to more than {MAX_NODES} nodes (an alias bomb?); refused"
            return None, [FlowProblem(label, node.start_mark.line + 1, msg)]
        return loader.construct_document(node), []
    except YamlProblem as exc:
        return None, [FlowProblem(label, exc.line, str(exc))]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [FlowProblem(label, line, f"not valid YAML: {exc.problem or exc}")]
    except (yaml.YAMLError, RecursionError) as exc:
        return None, [FlowProblem(label, 1, f"not valid YAML: {exc}")]
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return None, [FlowProblem(label, 1, f"not usable YAML: {str(exc)[:120]}")]
    finally:
        loader.dispose()


def plain(value: Any) -> Any:
    """A copy with the line-tracking containers turned into plain dicts and lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
