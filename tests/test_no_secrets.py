"""No test password ever reaches a transcript: every one written in the suite is searched.

tests/conftest.py imports `pytest_sessionfinish` and `_scan_world_folders` from here, so the
search covers the whole suite: each mail world's folder just before it is removed, pytest's
temporary folders at the end, and the recorded transcripts/ folder. A leak fails the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers import world as world_module

REPO = Path(__file__).resolve().parents[1]
# The accounts tests log in with (tests/peers) and the secrets the transcript tests plant.
TEST_PASSWORDS: frozenset[str] = frozenset(
    {world_module.PASSWORD, "not the password", "Tr0ub4dor&3-format", "s3cret-in-the-replay"}
)
_LEAKS: list[str] = []


def _transcript_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in root.rglob("*.json"):
        if path.is_file():
            yield path


def find_leaks(roots: Iterable[Path], passwords: Iterable[str] = TEST_PASSWORDS) -> list[str]:
    """`FILE: contains a test password` for every transcript under `roots` holding one."""
    leaks: list[str] = []
    secrets = [p for p in passwords if p]
    for root in roots:
        for path in _transcript_files(root):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if '"turns"' in text and any(s in text for s in secrets):
                leaks.append(f"{path}: a transcript contains a test password")
    return leaks


@pytest.fixture(scope="session", autouse=True)
def _scan_world_folders() -> Iterator[None]:
    """Search each mail world's folder for transcripts with a password before it is removed."""
    original = world_module.MailWorld.stop

    def stop(self: Any) -> None:
        _LEAKS.extend(find_leaks([Path(self.dir)]))
        original(self)

    world_module.MailWorld.stop = stop  # type: ignore[method-assign]
    yield
    world_module.MailWorld.stop = original  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """At the end of the run: search every transcript the suite wrote; fail on a leak."""
    roots = [REPO / "transcripts"]
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None) if factory is not None else None
    if basetemp is not None:
        roots.append(Path(basetemp))
    leaks = _LEAKS + find_leaks(roots)
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for leak in leaks:
            if reporter is not None:
                reporter.write_line(f"SECRET LEAK: {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- tests of the search itself and of the recorded suite ------------------------------------

def test_the_search_finds_a_password_in_a_transcript() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deep" / "t.json"
        path.parent.mkdir()
        document = {"format": 1, "turns": [{"role": "user", "text": world_module.PASSWORD}]}
        path.write_text(json.dumps(document), encoding="utf-8")
        assert find_leaks([Path(folder)]) == [f"{path}: a transcript contains a test password"]
        path.write_text(json.dumps({"format": 1, "turns": []}), encoding="utf-8")
        assert find_leaks([Path(folder)]) == []


def test_recorded_transcripts_hold_no_password() -> None:
    assert find_leaks([REPO / "transcripts"]) == []


def test_conftest_runs_the_search_for_the_whole_suite() -> None:
    import tests.conftest as conftest

    assert getattr(conftest, "pytest_sessionfinish", None) is pytest_sessionfinish
    assert world_module.MailWorld.stop.__name__ == "stop"  # wrapped while the suite runs


def test_a_leaking_transcript_fails_the_whole_run(tmp_path: Path) -> None:
    # A separate pytest run whose only test writes a password into a transcript under its
    # tmp_path: the run must fail even though the test itself passed.
    (tmp_path / "conftest.py").write_text(
        "from tests.test_no_secrets import pytest_sessionfinish  # noqa: F401\n",
        encoding="utf-8")
    (tmp_path / "test_leak.py").write_text(
        "import json\n"
        "def test_leak(tmp_path):\n"
        "    doc = {'format': 1, 'turns': [{'role': 'user', 'text': 'correct horse'}]}\n"
        "    (tmp_path / 't.json').write_text(json.dumps(doc))\n",
        encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), "--basetemp", str(tmp_path / "base"), str(tmp_path / "test_leak.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert "1 passed" in result.stdout
    assert "SECRET LEAK" in result.stdout
    assert result.returncode == 1
    # the planted file must not trip the outer run's own search
    for path in (tmp_path / "base").rglob("t.json"):
        path.unlink()
