"""The probe kit: `deskbot probe --join` as one Python zipapp, for customers without deskbot.

Built once per process from the installed packages with the standard library's `zipapp`
(PEP 441): the `bot` package (without the web page, the HTTP service and the terminal chat),
plus the pure-Python dependencies the probes import (dnspython, aiosmtplib, PyYAML's pure
half), each with its licence file. It runs with only a Python >= 3.11 interpreter, even
isolated from site-packages: `python3 -I -S deskbot-probe.pyz --join URL`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import tempfile
import zipapp
from functools import cache
from pathlib import Path

KIT_NAME = "deskbot-probe.pyz"
# top-level import name → distribution (for its licence file)
VENDORED = {"dns": "dnspython", "aiosmtplib": "aiosmtplib", "yaml": "PyYAML"}
# parts of bot/ the kit never imports: the service, the chat UIs, compiled caches
SKIP_DIRS = frozenset({"__pycache__", "web", "http", "terminal"})
MAIN = '''"""deskbot probe kit: run the checks a help desk asked for, on this computer."""
import sys

if sys.version_info < (3, 11):
    sys.exit("deskbot-probe: needs Python 3.11 or newer")
from bot.interfaces.probe_join import main

sys.exit(main())
'''


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the probe kit needs the package {name!r}, which is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _copy_tree(source: Path, target: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        # compiled extensions cannot load from a zip; PyYAML falls back to pure Python
        return {n for n in names if n in SKIP_DIRS or n.endswith((".so", ".pyd", ".pyc"))}

    shutil.copytree(source, target, ignore=ignore)


def _licence(distribution: str, target: Path) -> None:
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return
    for file in files:
        if file.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            shutil.copyfile(Path(str(file.locate())), target / f"{distribution}-{file.name}")
            return


def build_kit(target: Path) -> Path:
    """Write the zipapp to `target`; returns it."""
    with tempfile.TemporaryDirectory(prefix="deskbot-kit-") as tmp:
        root = Path(tmp) / "app"
        _copy_tree(_package_dir("bot"), root / "bot")
        licences = root / "licences"
        licences.mkdir()
        for name, distribution in VENDORED.items():
            _copy_tree(_package_dir(name), root / name)
            _licence(distribution, licences)
        (root / "__main__.py").write_text(MAIN, encoding="utf-8")
        zipapp.create_archive(root, target, interpreter="/usr/bin/env python3", compressed=True)
    return target


@cache
def kit_bytes() -> bytes:
    """The kit's bytes, built on first request and kept for the life of the process."""
    with tempfile.TemporaryDirectory(prefix="deskbot-kit-") as tmp:
        return build_kit(Path(tmp) / KIT_NAME).read_bytes()
