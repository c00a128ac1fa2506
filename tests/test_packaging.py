"""What users install: the built wheel carries the flows, the vocabulary, the data and py.typed,
and the `deskbot` it installs finds its flows from any folder (importlib.resources)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout, offline (the installed setuptools)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("bot", "flows"):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("deskbot-*.whl")
    return built


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_carries_every_flow_and_the_vocabulary(wheel: Path) -> None:
    names = _names(wheel)
    flows = [p.name for p in (ROOT / "flows").iterdir() if p.suffix in (".yaml", ".yml")]
    assert "_vocabulary.yaml" in flows and "_clients.yaml" in flows
    missing = [f for f in flows if f"bot/bundled_flows/{f}" not in names]
    assert not missing, f"flows missing from the wheel: {missing}"


def test_wheel_carries_data_web_page_and_py_typed(wheel: Path) -> None:
    names = _names(wheel)
    data = [f"bot/data/{p.name}" for p in (ROOT / "bot" / "data").iterdir()
            if p.suffix in (".yaml", ".json", ".md")]
    web = [f"bot/interfaces/web/{p.name}" for p in (ROOT / "bot/interfaces/web").iterdir()
           if p.is_file() and p.suffix != ".pyc"]
    assert "bot/py.typed" in names
    assert not [f for f in data + web if f not in names]


def test_wheel_carries_every_package_and_the_console_script(wheel: Path) -> None:
    names = _names(wheel)
    packages = [str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("__init__.py")]
    assert not [p for p in packages if p not in names], "add the package to pyproject's list"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "deskbot = bot.interfaces.cli:main" in archive.read(entry_points).decode()


def test_unpacked_wheel_finds_its_flows_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    """The wheel's own `bot` (first on the path) runs `flows check` and `match` elsewhere."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def deskbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=120)

    check = deskbot("flows", "check")
    assert check.returncode == 0, check.stderr
    assert str(site / "bot" / "bundled_flows") in check.stderr
    match = deskbot("match", "my emails are stuck in the outbox")
    assert match.returncode == 0, match.stderr
    assert json.loads(match.stdout)["decision"] == "outbox_stuck"
