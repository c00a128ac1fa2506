"""`deskbot probe` end to end (CONTRACT.md), as a help-desk agent runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WorldFactory
from tests.peers import MailWorld


def _deskbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True,
                          text=True, timeout=60)


def test_json_reports_the_fault_of_each_direction(mail_world: WorldFactory) -> None:
    world = mail_world(user_form="localpart", timeout=0.6)
    answers = world.write_answers(outgoing_port=world.ports["filtered"])
    done = _deskbot("probe", world.email, "--json", "--answers", str(answers),
                    "--config", str(world.config_path))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) >= {"email", "provider", "checks", "diagnoses"}
    assert doc["provider"]["id"] == "example.test"
    assert {"port_blocked", "auth_username_format"} <= set(doc["diagnoses"])
    blocked = [c for c in doc["checks"] if c["diagnosis"] == "port_blocked"]
    assert blocked[0]["target"] == f"smtp.example.test:{world.ports['filtered']}"
    for check in doc["checks"]:
        assert check["status"] in ("ok", "fail", "skipped") and isinstance(check["ms"], float)
    assert world.password not in done.stdout + done.stderr


def test_human_report_shows_settings_checks_and_conclusion(world: MailWorld) -> None:
    done = _deskbot("probe", world.email, "--config", str(world.config_path))
    assert done.returncode == 0, done.stderr
    assert "Example Test Mail" in done.stdout
    assert f"smtp.example.test:{world.ports['submission']}" in done.stdout
    assert "(recommended)" in done.stdout and "(alternative)" in done.stdout
    assert "Conclusion:" in done.stdout and "ok" in done.stdout


def test_offline_machine_fails_fast_without_traceback(tmp_path: Path) -> None:
    # A nameserver that never answers (nothing listens) stands in for a machine with no network.
    config = tmp_path / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n')
    done = _deskbot("probe", "user@centurylink.net", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "smtp.centurylink.net" in done.stdout and "pop.centurylink.net" in done.stdout
    assert "dns_unavailable" in done.stdout and "no DNS answer" in done.stdout
    assert "within 0.5 s" in done.stdout  # each check bounded by the configured timeout


def test_bad_answers_file_is_a_one_line_error(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("colour: blue\n")
    done = _deskbot("probe", "a@example.test", "--answers", str(answers))
    assert done.returncode != 0
    assert "unknown slot" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("address", ["noatsign", "@", "a@b@c", "bob@gmail.com\r\nX",
                                     "\x1b[2Jbob@gmail.com"])
def test_anything_but_one_address_is_refused_before_any_lookup(tmp_path: Path,
                                                               address: str) -> None:
    """A typo must not become a probe of a guessed domain, nor print raw controls."""
    config = tmp_path / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n')
    done = _deskbot("probe", address, "--config", str(config))
    assert done.returncode == 2, done.stdout
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "is not an e-mail address" in done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
