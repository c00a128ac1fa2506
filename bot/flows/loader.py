"""Load a flows directory: safe YAML, then the shape pass (this module), then the meaning pass.

`load_flows(dir)` returns a validated `FlowSet` or raises `FlowError` with every problem;
`check_flows(dir)` returns the problems (what `deskbot flows check` prints). No I/O beyond
reading the files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.diagnoses import Basis
from bot.errors import FlowError, FlowProblem
from bot.flows.clients import parse_clients
from bot.flows.model import (
    NODE_KINDS,
    ClientSteps,
    Flow,
    FlowSet,
    Node,
    NodeKind,
    Rule,
)
from bot.flows.overlay import (
    DECLARATIONS,
    Declared,
    layered_files,
    merge_clients,
    merge_vocabulary,
    newest_by_id,
    parse_bases,
    parse_declared,
)
from bot.flows.params import parse_params
from bot.flows.shape import Shape as _Shape
from bot.flows.shape import line_of as _line
from bot.flows.shape import scalar as _scalar
from bot.flows.yamlsafe import LineDict, LineList, read_yaml
from bot.ids import diagnosis_codes, symptom_ids

# kind → keys a node of that kind may have (besides `note`, free text for authors)
NODE_KEYS: dict[str, frozenset[str]] = {
    "ask": frozenset({"ask", "type", "prompt", "choices", "on", "next"}),
    "say": frozenset({"say", "next"}),
    "probe": frozenset({"probe", "say", "on", "with"}),
    "branch": frozenset({"branch"}),
    "resolve": frozenset({"resolve", "say", "settings"}),
    "handoff": frozenset({"handoff"}),
    "call": frozenset({"call", "next", "with"}),
    "return": frozenset({"return"}),
}
FLOW_KEYS = frozenset({"id", "title", "match", "start", "nodes", "slots", "description",
                       "adopts_catalogue"})
SUBFLOW_KEYS = frozenset(
    {"subflow", "title", "start", "nodes", "slots", "description", "params"})


def _parse_choices(shape: _Shape, data: LineDict, where: str) -> tuple[tuple[str, str], ...]:
    raw = data.get("choices")
    if raw is None:
        return ()
    if isinstance(raw, dict):
        return tuple((str(k), _scalar(v)) for k, v in raw.items())
    if isinstance(raw, list) and all(not isinstance(v, dict | list) for v in raw):
        return tuple((_scalar(v), _scalar(v)) for v in raw)
    shape.error(_line(data, "choices"), f"{where}: `choices` must map value to label")
    return ()


def _parse_rules(shape: _Shape, data: LineDict, where: str) -> tuple[Rule, ...]:
    raw = data.get("branch")
    if not isinstance(raw, LineList) or not raw:
        shape.error(_line(data, "branch"), f"{where}: `branch` must be a list of when/goto")
        return ()
    rules: list[Rule] = []
    for item, line in zip(raw, raw.item_lines, strict=True):
        if isinstance(item, dict) and set(item) == {"else"} and isinstance(item["else"], str):
            rules.append(Rule({}, item["else"], line, is_else=True))
        elif isinstance(item, dict) and set(item) == {"when", "goto"}:
            when = _parse_when(shape, item["when"], line, where)
            rules.append(Rule(when, _scalar(item["goto"]), line))
        else:
            shape.error(line, f"{where}: each branch entry is `when:` + `goto:`, or `else:`")
    return tuple(rules)


def _parse_when(shape: _Shape, raw: Any, line: int, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict) or not raw:
        shape.error(line, f"{where}: `when` must be a mapping of conditions")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, dict | list) or v is None for v in values):
            shape.error(_line(raw, key), f"{where}: condition `{key}` needs a value or a list")
            continue
        out[str(key)] = tuple(_scalar(v) for v in values)
    return out


def _node_kind(shape: _Shape, name: str, data: Any, line: int) -> NodeKind | None:
    where = f"node '{name}'"
    if not isinstance(data, LineDict):
        shape.error(line, f"{where} must be a mapping with one of: {', '.join(NODE_KINDS)}")
        return None
    kinds = [k for k in NODE_KINDS if k in data]
    if len(kinds) == 2 and "say" in kinds:  # probe and resolve may carry a `say:` text
        kinds.remove("say")
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        shape.error(data.line, f"{where} needs exactly one of {', '.join(NODE_KINDS)} ({found})")
        return None
    kind = kinds[0]
    for key in data:
        if key not in NODE_KEYS[kind] and key != "note":
            allowed = ", ".join(sorted(NODE_KEYS[kind]))
            shape.error(_line(data, key), f"{where}: unknown key `{key}` for {kind} ({allowed})")
    return kind


def parse_node(shape: _Shape, name: str, data: Any, line: int) -> Node | None:
    """One node from YAML, or None (with problems recorded) when its shape is wrong."""
    kind = _node_kind(shape, name, data, line)
    if kind is None:
        return None
    where = f"node '{name}'"
    nxt = shape.text(data, "next", where) or None
    common: dict[str, Any] = {"name": name, "kind": kind, "line": data.line, "next": nxt,
                              "lines": dict(data.key_lines)}
    parsers: dict[str, Callable[[], dict[str, Any]]] = {
        "ask": lambda: {
            "slot": shape.text(data, "ask", where, required=True),
            "type": shape.text(data, "type", where) or "text",
            "prompt": shape.text(data, "prompt", where, required=True),
            "choices": _parse_choices(shape, data, where),
            "on": shape.mapping(data, "on", where),
        },
        "say": lambda: {"text": shape.text(data, "say", where, required=True)},
        "probe": lambda: {
            "probe": shape.text(data, "probe", where, required=True),
            "text": shape.text(data, "say", where),
            "on": shape.mapping(data, "on", where),
            "params": shape.mapping(data, "with", where),
        },
        "branch": lambda: {"rules": _parse_rules(shape, data, where)},
        "resolve": lambda: {
            "diagnosis": shape.text(data, "resolve", where, required=True),
            "text": shape.text(data, "say", where),
            "settings": shape.text(data, "settings", where) or None,
        },
        "handoff": lambda: {"text": shape.text(data, "handoff", where, required=True)},
        "call": lambda: {"subflow": shape.text(data, "call", where, required=True),
                         "params": shape.mapping(data, "with", where)},
        "return": lambda: {},
    }
    return Node(**common, **parsers[kind]())


def parse_flow(data: Any, label: str) -> tuple[Flow | None, list[FlowProblem]]:
    """The shape pass for one flow or sub-flow file's data."""
    shape = _Shape(label)
    if not isinstance(data, LineDict):
        shape.error(1, "a flow file must be a mapping with id, title, start and nodes")
        return None, shape.problems
    is_sub = "subflow" in data
    allowed = SUBFLOW_KEYS if is_sub else FLOW_KEYS
    for key in data:
        if key not in allowed:
            keys = ", ".join(sorted(allowed))
            shape.error(_line(data, key), f"unknown top-level key `{key}` ({keys})")
    flow_id = shape.text(data, "subflow" if is_sub else "id", "flow", required=True)
    title = shape.text(data, "title", "flow", required=not is_sub)
    start = shape.text(data, "start", "flow", required=True)
    slots = _parse_slot_list(shape, data)
    nodes = _parse_nodes(shape, data)
    raw_match = data.get("match")
    match: dict[str, Any] = raw_match if isinstance(raw_match, dict) else {}
    if "match" in data and not isinstance(data["match"], dict):
        shape.error(_line(data, "match"), "`match` must be a mapping (phrases, keywords)")
    flow = Flow(
        id=flow_id, title=title, file=label, line=data.line, start=start, nodes=nodes,
        is_subflow=is_sub, match=match, match_line=_line(data, "match"), slots=slots,
        lines=dict(data.key_lines), params=parse_params(shape, data) if is_sub else {},
        adopts_catalogue=_parse_flag(shape, data, "adopts_catalogue"),
    )
    return flow, shape.problems


def _parse_flag(shape: _Shape, data: LineDict, key: str) -> bool:
    raw = data.get(key, False)
    if isinstance(raw, bool):
        return raw
    shape.error(_line(data, key), f"`{key}` must be true or false")
    return False


def _parse_slot_list(shape: _Shape, data: LineDict) -> frozenset[str]:
    raw = data.get("slots")
    if raw is None:
        return frozenset()
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return frozenset(raw)
    shape.error(_line(data, "slots"), "`slots` must be a list of flow-local slot names")
    return frozenset()


def _parse_nodes(shape: _Shape, data: LineDict) -> dict[str, Node]:
    raw = data.get("nodes")
    if not isinstance(raw, LineDict) or not raw:
        shape.error(_line(data, "nodes") or data.line, "`nodes` must be a mapping of name to node")
        return {}
    nodes: dict[str, Node] = {}
    for name, body in raw.items():
        node = parse_node(shape, str(name), body, _line(raw, name))
        if node is not None:
            nodes[str(name)] = node
    return nodes


def _flow_files(root: Path) -> list[Path]:
    files = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml"))
    files += sorted((root / "_sub").glob("*.y*ml")) if (root / "_sub").is_dir() else []
    return files


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


FlowDirs = str | Path | Sequence[str | Path]


def _roots(folders: FlowDirs) -> list[Path]:
    """The folders as layers, duplicates (the bundled folder named again) once."""
    listed = [folders] if isinstance(folders, str | Path) else list(folders)
    out: list[Path] = []
    for folder in map(Path, listed):
        if all(folder.resolve() != seen.resolve() for seen in out):
            out.append(folder)
    return out


class _Reading:
    """What the files of every layer added up to so far."""

    def __init__(self) -> None:
        self.problems: list[FlowProblem] = []
        self.flows: list[tuple[int, Flow]] = []
        self.clients: list[ClientSteps] = []
        self.vocabularies: list[tuple[str, LineDict]] = []
        self.declared: dict[str, dict[str, str]] = {"_symptoms": {}, "_diagnoses": {}}
        self.bases: dict[str, Basis] = {}
        self.digest = hashlib.sha256()

    def add(self, layer: int, path: Path) -> None:
        label = _label(path)
        data, read_problems = read_yaml(path, label)
        self.problems += read_problems
        self.digest.update(path.name.encode() + b"\0")
        self.digest.update(b"" if read_problems else path.read_bytes())
        if read_problems:
            return
        if path.name.startswith("_") and not (isinstance(data, dict) and "subflow" in data):
            self._add_shared(layer, path.stem, data, label)
            return
        flow, more = parse_flow(data, label)
        self.problems += more
        if flow is not None:
            self.flows.append((layer, flow))

    def _add_shared(self, layer: int, stem: str, data: Any, label: str) -> None:
        if stem == "_clients":
            clients, more = parse_clients(data, label, require_default=layer == 0)
            self.clients.append(clients)
            self.problems += more
        elif stem == "_vocabulary":
            if isinstance(data, LineDict):
                self.vocabularies.append((label, data))
            elif data is not None:
                self.problems.append(FlowProblem(label, getattr(data, "line", 1) or 1,
                                                 "_vocabulary.yaml must be a mapping of sections"))
        elif stem in DECLARATIONS:
            taken = symptom_ids() if stem == "_symptoms" else diagnosis_codes()
            ids, more = parse_declared(data, label, stem, taken | set(self.declared[stem]))
            self.declared[stem].update(ids)
            self.problems += more
            if stem == "_diagnoses":
                bases, more = parse_bases(data, label, ids)
                self.bases.update(bases)
                self.problems += more


def read_flow_dirs(folders: FlowDirs) -> tuple[FlowSet, list[FlowProblem]]:
    """Read and validate flow folders as layers (bundled first, a help desk's own on top).

    The set is usable only when no problem came back. See bot.flows.overlay for what a later
    folder adds or replaces.
    """
    from bot.flows.validate import validate_flowset

    roots = _roots(folders)
    missing = [r for r in roots if not r.is_dir()]
    if missing:
        return FlowSet({}, {}), [FlowProblem(str(r), 1, "not a directory of flow files")
                                 for r in missing]
    reading = _Reading()
    for layer, path in layered_files(roots, _flow_files):
        reading.add(layer, path)
    declared = Declared(reading.declared["_symptoms"], reading.declared["_diagnoses"],
                        reading.bases)
    vocabulary = merge_vocabulary([data for _, data in reading.vocabularies])
    flowset, meaning = validate_flowset(
        newest_by_id(reading.flows), merge_clients(reading.clients or [ClientSteps()]),
        vocabulary, reading.digest.hexdigest()[:16], declared)
    flowset = replace(flowset, vocabularies=tuple(reading.vocabularies),
                      symptoms=declared.symptoms, diagnoses=declared.diagnoses,
                      bases=declared.bases)
    return flowset, reading.problems + meaning


def read_flow_dir(root: str | Path) -> tuple[FlowSet, list[FlowProblem]]:
    """Read and validate one flows directory (see `read_flow_dirs`)."""
    return read_flow_dirs([root])


def check_flows(folders: FlowDirs) -> list[FlowProblem]:
    """Every problem of the flow folders, sorted by file and line (empty when all is well)."""
    _, problems = read_flow_dirs(folders)
    return sorted_problems(problems)


def sorted_problems(problems: list[FlowProblem]) -> list[FlowProblem]:
    """Each problem once, by file, line and message."""
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.message))


def load_flows(folders: FlowDirs) -> FlowSet:
    """A validated FlowSet; raises FlowError listing every problem (never half-loaded)."""
    flowset, problems = read_flow_dirs(folders)
    if problems:
        raise FlowError(sorted_problems(problems))
    return flowset


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A plain dict copy of loaded YAML (for handing the `match:` block to the matcher)."""
    if isinstance(value, dict):
        return {str(k): as_mapping(v) if isinstance(v, dict) else v for k, v in value.items()}
    return {}
