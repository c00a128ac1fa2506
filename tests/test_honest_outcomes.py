"""Only what was probed is concluded (diagnoses.yaml), against real loopback peers.

- `ok` is "every probe for the user's own settings succeeded": when the customer could not
  give their settings, only the catalogue's were tested, and the ending says so and records
  no diagnosis.
- `server_unreachable` is "no port of the server answers": a port that was not tried (the
  policy skipped it, or none other is known) is "not tested", never "no answer".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Config
from bot.probes.policy import TargetPolicy
from bot.probes.runners import LOCAL
from bot.probes.runners.live import LiveProbeRunner
from tests.conftest import WorldFactory
from tests.peers import MailWorld

ROOT = Path(__file__).resolve().parent.parent
NO_OUT = {"outgoing_server": None, "outgoing_port": None, "outgoing_security": None,
          "outgoing_auth": None}
NO_IN = {"incoming_server": None, "incoming_port": None, "incoming_security": None}
FLOWS = {
    "outbox_stuck": ("my emails are stuck in the outbox and will not send", NO_OUT, "outgoing"),
    "cannot_receive": ("I am not receiving any new emails in my inbox", NO_IN, "incoming"),
}


def _chat(world: MailWorld, tmp: Path, message: str, drop: dict[str, None],
          stdin: str) -> tuple[dict[str, Any], str]:
    answers = {k: v for k, v in world.answers().items() if k not in drop}
    answers.update(message=message, client="Thunderbird")
    (tmp / "answers.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--answers", str(tmp / "answers.yaml"),
         "--config", str(world.config_path), "--transcript", str(tmp / "t.json")],
        input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp / "t.json").read_text(encoding="utf-8")), proc.stdout


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_untested_own_settings_are_not_called_ok(world: MailWorld, tmp_path: Path,
                                                 flow: str) -> None:
    message, drop, direction = FLOWS[flow]
    # "Can you read me your server?" - "no": only the catalogue's settings can be tested
    transcript, stdout = _chat(world, tmp_path, message, drop, "no\n")
    outcome = transcript["outcome"]
    assert outcome["status"] == "resolved" and outcome["symptom"] == flow
    assert outcome["diagnosis"] is None and outcome["basis"] is None, outcome
    final = [t for t in transcript["turns"] if t["role"] == "bot"][-1]["text"]
    assert f"I could not test your app's own {direction} settings" in final
    assert "your settings match" not in final
    assert "diagnosis ok" not in stdout


def test_given_settings_that_pass_are_still_ok(world: MailWorld, tmp_path: Path) -> None:
    message, _, _ = FLOWS["outbox_stuck"]
    transcript, _ = _chat(world, tmp_path, message, {}, "")
    assert transcript["outcome"]["diagnosis"] == "ok"


async def test_the_sweep_of_the_catalogue_alone_is_no_diagnosis(world: MailWorld) -> None:
    runner = LiveProbeRunner(Config.load(world.config_path))
    report = await runner.run("check_outgoing", {"email": world.email}, call=LOCAL)
    assert report.outcome == "recommended_ok"
    assert report.diagnoses == ()
    assert any("settings are untested" in note for note in report.notes)


async def test_ports_the_policy_skipped_are_not_tested_not_silent(
        mail_world: WorldFactory) -> None:
    world = mail_world(timeout=0.6)
    filtered = world.ports["filtered"]
    # a service that may probe only the customer's port: the server's others are skipped
    runner = LiveProbeRunner(Config.load(world.config_path),
                             policy=TargetPolicy(allow_private=True,
                                                 ports=frozenset({filtered})))
    report = await runner.run("check_outgoing", world.answers(outgoing_port=filtered),
                              call=LOCAL)
    assert report.outcome != "server_unreachable"
    assert report.outcome == "inconclusive" and "server_unreachable" not in report.diagnoses
    skipped = [c for c in report.checks if c.status == "skipped"]
    assert skipped and all(c.diagnosis is None for c in skipped)
    assert any("other ports were not tested" in note for note in report.notes), report.notes


async def test_no_answer_from_every_port_tried_is_still_unreachable(
        mail_world: WorldFactory) -> None:
    world = mail_world(timeout=0.6)
    world.zone.set("dead.example.test", "A", "127.0.0.3")  # nothing listens there
    runner = LiveProbeRunner(Config.load(world.config_path))
    report = await runner.run("check_outgoing",
                              world.answers(outgoing_server="dead.example.test"), call=LOCAL)
    assert report.outcome == "server_unreachable"
    tried = {c.target for c in report.checks if c.probe == "tcp" and c.status == "fail"}
    assert len(tried) >= 2  # the customer's port and another of the same address
