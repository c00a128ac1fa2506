"""Replay of conversations recorded against real loopback peers: offline and `--live`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.peers import MailWorld, WorldOptions

ROOT = Path(__file__).resolve().parent.parent
DESKBOT = [sys.executable, "-m", "bot"]


def chat(world: MailWorld, folder: Path, name: str, stdin: str = "", **slots: object) -> Path:
    """Record one real `deskbot chat` conversation against the world; returns the transcript."""
    answers = world.answers(**slots)
    answers.update(message="my emails are stuck in the outbox and will not send",
                   client="Thunderbird")
    answers.pop("password")  # no login: a live replay must not need the secret
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(answers), encoding="utf-8")
    transcript = folder / f"{name}.json"
    proc = subprocess.run(
        [*DESKBOT, "chat", "--answers", str(path), "--config", str(world.config_path),
         "--transcript", str(transcript)],
        input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return transcript


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DESKBOT, "replay", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_recorded_run_replays_offline_after_the_servers_are_gone(tmp_path: Path) -> None:
    with MailWorld(WorldOptions(dovecot=False)) as world:
        blocked = chat(world, tmp_path, "blocked", "no\n", outgoing_port=world.ports["filtered"])
        config = world.config_path.read_text(encoding="utf-8")
        (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    outcome = json.loads(blocked.read_text(encoding="utf-8"))["outcome"]
    assert outcome["diagnosis"] == "port_blocked"
    # every server is stopped now: offline replay must still reproduce the conversation
    proc = replay(str(blocked))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("1 passed, 0 failed")


def test_live_replay_probes_again_and_sees_a_fixed_fault(tmp_path: Path) -> None:
    with MailWorld(WorldOptions(dovecot=False)) as world:
        transcript = chat(world, tmp_path, "relay", "no\n", outgoing_auth="false")
        recorded = json.loads(transcript.read_text(encoding="utf-8"))["outcome"]
        assert recorded["diagnosis"] == "smtp_auth_required"
        proc = replay(str(transcript), "--live", "--config", str(world.config_path))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        world.smtp.relay = "open"  # the server now relays without a login
        proc = replay(str(transcript), "--live", "--config", str(world.config_path))
        assert proc.returncode == 1
        assert "diverged" in proc.stdout
        assert "-outcome: resolved symptom=outbox_stuck diagnosis=smtp_auth_required" in proc.stdout
        # offline, the recorded evidence still decides: nothing changed for the replay
        assert replay(str(transcript)).returncode == 0
