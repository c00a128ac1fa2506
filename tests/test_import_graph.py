"""The package-level import graph follows the layering (STYLE.md, BRIEF):

    interfaces → transcripts → engine → bundle → (flows, matcher, probes, catalog, reading) → base

Every `import bot.X` / `from bot.X import` in the source, lazy ones inside functions included,
is an edge between two units (a sub-package of bot, or a top-level module); each edge must be
in the table below. A new package gets its row here, deliberately.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import bot

PACKAGE = Path(bot.__file__).parent
# The bottom layer: plain values, ids, errors and settings every layer may use.
BASE = frozenset({"errors", "config", "ids", "slots", "diagnoses", "registry", "data", "files",
                  "yamlguard", "scrub", "addresses", "english"})
# unit → the units it may import (besides BASE, which every unit may import).
ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "config": frozenset(),
    "ids": frozenset(),
    "slots": frozenset(),
    "diagnoses": frozenset(),
    "data": frozenset(),
    "registry": frozenset(),
    "files": frozenset(),
    "yamlguard": frozenset(),
    "scrub": frozenset(),
    "addresses": frozenset(),
    "english": frozenset(),
    "catalog": frozenset(),
    "matcher": frozenset(),
    "flows": frozenset(),
    "probes": frozenset({"catalog"}),
    "sessions": frozenset(),
    # what customers type: the error catalogue and slot extraction (pure, data only)
    "reading": frozenset(),
    "bundle": frozenset({"flows", "matcher", "reading"}),
    "engine": frozenset({"bundle", "flows", "matcher", "probes", "catalog", "reading"}),
    "transcripts": frozenset({"engine", "bundle", "flows", "matcher", "probes", "catalog"}),
    "interfaces": frozenset({"transcripts", "engine", "bundle", "flows", "matcher", "probes",
                             "catalog", "sessions"}),
    # the public API re-exports (lazily); the entry point runs the CLI
    "__init__": frozenset({"engine", "bundle", "flows", "matcher", "probes", "catalog",
                           "transcripts"}),
    "__main__": frozenset({"interfaces"}),
}


def _unit(module: str) -> str:
    """`bot.flows.loader` → `flows`; `bot` (the package itself) → `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every bot module a file imports, with the line, top-level or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names if a.name.startswith("bot."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot":
                yield from ((f"bot.{a.name}", node.lineno) for a in node.names)
            elif node.module.startswith("bot."):
                yield node.module, node.lineno


def _edges() -> Iterator[tuple[str, str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _unit(_module_of(path))
        for module, line in _imports(path):
            target = _unit(module)
            if target != source:
                yield source, target, f"{path.relative_to(PACKAGE.parent)}:{line}"


def test_every_unit_has_a_row() -> None:
    units = {_unit(_module_of(p)) for p in PACKAGE.rglob("*.py")}
    assert not sorted(units - set(ALLOWED)), "add the new package to ALLOWED, in its layer"


def test_imports_follow_the_layers() -> None:
    wrong = [f"{where}: {source} imports {target}" for source, target, where in _edges()
             if target in ALLOWED and target not in BASE | ALLOWED.get(source, frozenset())
             and not (target == "__init__" and source != "__init__")]
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_the_interfaces() -> None:
    users = [where for source, target, where in _edges()
             if target == "interfaces" and source != "__main__"]
    assert not users


def test_flow_validation_needs_neither_probes_nor_matcher() -> None:
    """`deskbot flows check` is pure: it reads data, not the network code or the matcher."""
    edges = {(s, t) for s, t, _ in _edges()}
    assert ("flows", "probes") not in edges and ("flows", "matcher") not in edges


# --- the probe seam (bot/probes/runners) -------------------------------------------------------
# What the layers above the probes may import from them: the result values and the seam itself.
# Sub-modules of the runners package other than its front (`bot.probes.runners`) and `base` are
# implementations: only the front door, the CLI's `deskbot probe` and the service wire them.
SEAM = ("bot.probes.model", "bot.probes.runners", "bot.probes.runners.base")
ABOVE_THE_SEAM = ("engine", "transcripts", "bundle")


def _modules_imported(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def test_the_engine_reaches_the_network_only_through_the_seam() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _unit(_module_of(path)) not in ABOVE_THE_SEAM:
            continue
        for module, line in _modules_imported(path):
            if module.startswith("bot.probes") and module not in SEAM:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {module}")
    assert not wrong, "\n".join(wrong)


def test_no_context_variables_carry_probe_context() -> None:
    """Each probe call gets its context as an argument (ProbeCall), never from a ContextVar."""
    users = [f"{path.relative_to(PACKAGE.parent)}:{line}"
             for path in sorted(PACKAGE.rglob("*.py"))
             for module, line in _modules_imported(path) if module == "contextvars"]
    assert not users


def test_every_probe_runner_lives_in_the_runners_package() -> None:
    """The runners sit side by side (live, recorded, replay, safe); none is built at run time
    (no class inside a function) and nothing subclasses the Engine."""
    runners = PACKAGE / "probes" / "runners"
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                wrong += [f"{where}:{c.lineno}: class {c.name} built at run time"
                          for c in ast.walk(node) if isinstance(c, ast.ClassDef)]
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
            if "Engine" in bases:
                wrong.append(f"{where}:{node.lineno}: {node.name} subclasses the Engine")
            if node.name.endswith("Runner") and runners not in path.parents:
                wrong.append(f"{where}:{node.lineno}: {node.name} outside bot/probes/runners")
    assert not wrong, "\n".join(wrong)
    assert {p.stem for p in runners.glob("*.py")} >= {"base", "live", "recorded", "replay", "safe"}


def test_flow_validation_modules_stay_small() -> None:
    """The lint rules live by subject (bot.flows.validate and its rules_* modules), each
    module under STYLE.md's ~400 lines."""
    modules = [PACKAGE / "flows" / "validate.py", PACKAGE / "flows" / "ruleset.py",
               *sorted((PACKAGE / "flows").glob("rules_*.py"))]
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    assert len(sizes) >= 5 and max(sizes.values()) <= 400, sizes
