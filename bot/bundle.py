"""The one loader: flow folders → the validated flow set and the matcher built from it.

The engine, `deskbot match`, `deskbot flows check` (and replay, serve, graph) all load through
here, so they can never disagree about a folder: `.yaml` and `.yml` files, sub-flows, client
steps, `match:` blocks and `_vocabulary.yaml` are read once, by bot.flows.loader, and checked
together. Folders are layers: the bundled flows first, a help desk's own `--flows DIR` on top
(bot.flows.overlay).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import FlowError, FlowProblem
from bot.flows.loader import FlowDirs, read_flow_dirs, sorted_problems
from bot.flows.model import Flow, FlowSet
from bot.flows.yamlsafe import LineDict, LineList, plain
from bot.matcher import Matcher, MatchSpec, Vocabulary
from bot.reading import error_symptom, pasted_symptom


def read(folders: FlowDirs) -> tuple[FlowSet, list[FlowProblem]]:
    """The flow set and every problem (flows, client steps, match blocks, vocabulary)."""
    flowset, problems = read_flow_dirs(folders)
    # a flow that did not load is no unknown id to the others: its own problem says why
    known = None if problems else set(flowset.flows)
    for flow in flowset.flows.values():
        problems += _match_problems(flow, known)
    for label, data in flowset.vocabularies:
        problems += _vocabulary_problems(label, data)
    # One vocabulary file is the whole vocabulary: checked just above, not built twice.
    if not problems and len(flowset.vocabularies) != 1:
        try:
            _vocabulary(flowset)
        except FlowError as exc:
            problems += exc.problems
    return flowset, sorted_problems(problems)


def check(folders: FlowDirs) -> list[FlowProblem]:
    """Every problem, sorted by file and line (what `deskbot flows check` prints)."""
    return read(folders)[1]


def load(folders: FlowDirs) -> FlowSet:
    """A flow set that the engine and the matcher can both use; FlowError lists every problem."""
    flowset, problems = read(folders)
    if problems:
        raise FlowError(problems)
    return flowset


def matcher_for(flowset: FlowSet) -> Matcher:
    """The symptom matcher of a loaded flow set: its flows' `match:` blocks and vocabulary.

    Raises FlowError (FILE:LINE) when a match block or the vocabulary is malformed.
    """
    specs: dict[str, MatchSpec] = {}
    for flow_id, flow in flowset.flows.items():
        try:
            specs[flow_id] = MatchSpec.from_mapping(plain(flow.match), title=flow.title)
        except ValueError as exc:
            raise FlowError([FlowProblem(flow.file, _match_line(flow, exc), str(exc))]
                            ) from exc
    # The error catalogue (bot/data/errors.yaml): a pasted error counts for its flow, and a
    # line that is only a pasted error goes to it.
    return Matcher(specs, _vocabulary(flowset), errors=error_symptom, pasted=pasted_symptom)


def _match_problems(flow: Flow, flow_ids: set[str] | None) -> list[FlowProblem]:
    """A flow's `match:` block as the matcher reads it: [] or the problem at its line;
    `flow_ids`: every flow's id, to check `explains` against (None: not checked)."""
    try:
        spec = MatchSpec.from_mapping(plain(flow.match), title=flow.title or flow.id)
    except ValueError as exc:
        return [FlowProblem(flow.file, _match_line(flow, exc), str(exc))]
    if flow_ids is None:
        return []
    unknown = [i for i in spec.explains if i not in flow_ids or i == flow.id]
    if unknown:
        line = flow.match_line or flow.line
        if isinstance(flow.match, LineDict):
            line = int(flow.match.key_lines.get("explains", line))
        return [FlowProblem(flow.file, line, f"match.explains: {', '.join(unknown)} is not "
                            "another flow's id")]
    return []


def _match_line(flow: Flow, exc: ValueError) -> int:
    """The line of the bad example or keyword when the matcher says which (MatchSpecError)."""
    line = flow.match_line or flow.line
    key, index = getattr(exc, "key", None), getattr(exc, "index", None)
    block = flow.match
    if key is None or not isinstance(block, LineDict) or key not in block:
        return line
    line = int(block.key_lines.get(key, line))
    value = block[key]
    if index is None:
        return line
    if isinstance(value, LineList) and index < len(value.item_lines):
        return int(value.item_lines[index])
    if isinstance(value, LineDict) and index < len(value.key_lines):
        return int(list(value.key_lines.values())[index])
    return line


def _vocabulary(flowset: FlowSet) -> Vocabulary:
    try:
        return Vocabulary.from_mapping(plain(flowset.vocabulary))
    except (ValueError, TypeError) as exc:
        label = flowset.vocabularies[-1][0] if flowset.vocabularies else "_vocabulary.yaml"
        raise FlowError([FlowProblem(label, 1, f"vocabulary: {exc}")]) from exc


def _vocabulary_problems(label: str, data: Mapping[str, Any]) -> list[FlowProblem]:
    """One file's vocabulary as the matcher reads it: [] or the problem at its line."""
    try:
        Vocabulary.from_mapping(plain(data))
    except (ValueError, TypeError) as exc:
        return [FlowProblem(label, _line_of_path(data, str(exc)), f"vocabulary: {exc}")]
    return []


def _line_of_path(data: Mapping[str, Any], message: str) -> int:
    """The line of the `section.key` a matcher message starts with (the file's first line else)."""
    path = message.split(":", 1)[0].split(".")
    line, node = 1, data
    for key in path:
        if not isinstance(node, LineDict) or key not in node:
            break
        line, node = node.key_lines.get(key, line), node[key]
    return line
