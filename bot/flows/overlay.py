"""A help desk's own flows folder over the bundled one (docs/flow-language.md, "Your own flows").

Folders are layers, bundled first. A later layer's file hides an earlier layer's file of the
same name (`.yaml` and `.yml` alike); a flow or sub-flow replaces the earlier one with the same
id; the shared files merge entry by entry: `_clients.yaml` per client and topic,
`_vocabulary.yaml` per section entry, and `_symptoms.yaml` / `_diagnoses.yaml` declare the
folder's own symptom ids and diagnosis codes. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.diagnoses import BASES, Basis
from bot.errors import FlowProblem
from bot.flows.model import ClientSteps, Flow
from bot.flows.yamlsafe import LineDict

MERGED = frozenset({"_clients", "_vocabulary", "_symptoms", "_diagnoses"})
# What a declared id or code may look like: the shared files' own style (snake_case).
_ID = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
# declaring file (stem) → top-level key, the text each entry must carry, what an entry is
DECLARATIONS: dict[str, tuple[str, str, str]] = {
    "_symptoms": ("symptoms", "summary", "symptom id"),
    "_diagnoses": ("diagnoses", "evidence", "diagnosis code"),
}
# the fields an entry of each declaration file may have
FIELDS: dict[str, frozenset[str]] = {
    "_symptoms": frozenset({"summary"}),
    "_diagnoses": frozenset({"evidence", "basis"}),
}


@dataclass(frozen=True)
class Declared:
    """Symptom ids and diagnosis codes a help desk's folder adds (id → summary / evidence)."""

    symptoms: Mapping[str, str] = field(default_factory=dict)
    diagnoses: Mapping[str, str] = field(default_factory=dict)
    bases: Mapping[str, Basis] = field(default_factory=dict)  # diagnosis code → its basis


def layered_files(roots: Sequence[Path], files_of: Any) -> list[tuple[int, Path]]:
    """(layer, file) of every file that counts, in reading order.

    `files_of(root)` lists a folder's flow files. A later layer's file hides an earlier one
    whose path inside its folder has the same stem; the MERGED files are all kept.
    """
    out: list[tuple[int, Path]] = []
    for layer, root in enumerate(roots):
        files: list[Path] = files_of(root)
        names = {_key(root, p) for p in files}
        out = [(n, p) for n, p in out if p.stem in MERGED or _key(roots[n], p) not in names]
        out += [(layer, p) for p in files]
    return out


def _key(root: Path, path: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def newest_by_id(flows: Iterable[tuple[int, Flow]]) -> list[Flow]:
    """The flows left once a later layer's flow replaces an earlier one with the same id.

    Two flows of one id in the same layer both stay, for the duplicate rule to report.
    """
    listed = list(flows)
    top: dict[tuple[bool, str], int] = {}
    for layer, flow in listed:
        key = (flow.is_subflow, flow.id)
        top[key] = max(layer, top.get(key, layer))
    return [flow for layer, flow in listed if layer == top[(flow.is_subflow, flow.id)]]


def merge_clients(parts: Sequence[ClientSteps]) -> ClientSteps:
    """Client steps of every layer, a later topic text replacing an earlier one."""
    if len(parts) == 1:
        return parts[0]
    steps: dict[str, dict[str, str]] = {}
    aliases: dict[str, str] = {}
    labels: dict[str, str] = {}
    lines: dict[str, int] = {}
    files: dict[str, str] = {}
    for part in parts:
        for client, topics in part.steps.items():
            steps.setdefault(client, {}).update(topics)
            files.update({f"{client}.{t}": part.file for t in topics})
        aliases.update(part.aliases)
        labels.update(part.labels)
        lines.update(part.lines)
    file = parts[-1].file if parts else ""
    return ClientSteps(steps=steps, aliases=aliases, labels=labels, file=file, lines=lines,
                       files=files)


def merge_vocabulary(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`_vocabulary.yaml` of every layer: mappings merge by key (later wins), lists add up."""
    merged: dict[str, Any] = {}
    for part in parts:
        for section, value in part.items():
            before = merged.get(section)
            if isinstance(before, dict) and isinstance(value, dict):
                merged[section] = {**before, **value}
            elif isinstance(before, list) and isinstance(value, list):
                merged[section] = before + [v for v in value if v not in before]
            else:
                merged[section] = value
    return merged


def parse_bases(data: Any, label: str, codes: Mapping[str, str]
                ) -> tuple[dict[str, Basis], list[FlowProblem]]:
    """The `basis:` of each code of a `_diagnoses.yaml` that `parse_declared` accepted: what
    establishes it (CONTRACT.md transcript `basis`: probe, reply or catalogue)."""
    body = data.get("diagnoses") if isinstance(data, LineDict) else None
    out: dict[str, Basis] = {}
    problems: list[FlowProblem] = []
    for name in codes:
        entry = body.get(name) if isinstance(body, LineDict) else None
        basis = entry.get("basis") if isinstance(entry, dict) else None
        line = getattr(entry, "key_lines", {}).get("basis") or body.key_lines.get(name, 1) \
            if isinstance(body, LineDict) else 1
        if basis in BASES:
            out[name] = basis
        elif basis is None:
            problems.append(FlowProblem(label, line, f"'{name}' needs `basis:` saying what "
                                        f"establishes it: {', '.join(BASES)}"))
        else:
            problems.append(FlowProblem(label, line, f"'{name}': basis {basis!r} is not one "
                                        f"of {', '.join(BASES)}"))
    return out, problems


def parse_declared(
    data: Any, label: str, stem: str, taken: frozenset[str]
) -> tuple[dict[str, str], list[FlowProblem]]:
    """A `_symptoms.yaml` / `_diagnoses.yaml` of a help desk: id → its one-line text.

    Same shape as the shared files (`symptoms: {id: {summary: ...}}`, `diagnoses: {code:
    {evidence: ..., basis: ...}}`, `parse_bases` reads the basis); `taken` are the ids already
    known, which a folder may not redeclare.
    """
    top, text_key, what = DECLARATIONS[stem]
    body = data.get(top) if isinstance(data, LineDict) else None
    if not isinstance(body, LineDict):
        return {}, [FlowProblem(label, getattr(data, "line", 1) or 1,
                                f"{stem}.yaml must be `{top}:` mapping each id to "
                                f"{{{text_key}: ...}}")]
    out: dict[str, str] = {}
    problems: list[FlowProblem] = []
    for name, entry in body.items():
        line = body.key_lines.get(name, body.line)
        text = entry.get(text_key) if isinstance(entry, dict) else None
        if not _ID.match(str(name)):
            problems.append(FlowProblem(label, line, f"'{name}' is not a valid id "
                                        "(lower-case letters, digits and _, 2-48 long)"))
        elif name in taken:
            problems.append(FlowProblem(label, line, f"'{name}' is already a known {what}; "
                                        "pick another id"))
        elif not isinstance(text, str) or not text.strip():
            problems.append(FlowProblem(label, line, f"'{name}' needs `{text_key}:` text"))
        elif extra := sorted(set(map(str, entry)) - FIELDS[stem]):
            # a misspelt or invented field would otherwise be silently ignored
            problems.append(FlowProblem(label, line, f"'{name}': unknown field(s) "
                                        f"{', '.join(extra)}; known: "
                                        f"{', '.join(sorted(FIELDS[stem]))}"))
        else:
            out[str(name)] = text.strip()
    return out, problems
