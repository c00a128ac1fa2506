"""The handoff's settings table shows the direction of the conversation's problem.

A stuck Outbox whose only noticed difference is the username (compared on the incoming side)
must not hand over with only "Incoming (IMAP) …": the agent and the customer get the outgoing
(SMTP) settings, the side the conversation is about. Real peers: the loopback mail world.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.peers import MailWorld


def test_outbox_handoff_shows_the_outgoing_settings(world: MailWorld, tmp_path: Path) -> None:
    # the world's SMTP settings, another username, no password (so nothing is tested)
    settings = {k: v for k, v in world.answers().items() if k != "password"}
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({**settings, "username": "bob"}), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--config", str(world.config_path),
         "--answers", str(answers)],
        input="my mail is stuck in the outbox\nThunderbird\nI want to talk to a person\n",
        capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "outcome: handoff, symptom outbox_stuck" in done.stdout, done.stdout
    assert "Your app's username is bob" in done.stdout  # the difference is still said
    table = done.stdout.split("The settings to use:\n", 1)[1].split("\n\n", 1)[0]
    assert table.startswith("Outgoing (SMTP): server smtp.example.test"), table
    assert "Incoming" not in table, table
