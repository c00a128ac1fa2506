"""`deskbot replay`: recorded conversations pass; a flow edit fails the right ones, readably."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Engine
from bot.interfaces.cli import main
from bot.probes.model import Check, ProbeReport
from bot.probes.runners import RecordedProbeRunner
from bot.transcripts import read_transcript, write_transcript

FLOW = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox", "cannot send mail"]
  keywords: {outbox: 3, send: 2}
slots: [consent]
start: ask_email
nodes:
  ask_email:
    ask: email
    type: email
    prompt: "What is your e-mail address?"
    next: ask_consent
  ask_consent:
    ask: consent
    type: yesno
    prompt: "May I test your login?"
    on: {yes: ask_password, no: check_sending}
  ask_password:
    ask: password
    type: secret
    prompt: "Your password, please."
    next: check_sending
  check_sending:
    probe: check_outgoing
    say: "Let me test the outgoing server."
    on:
      ok: all_good
      port_blocked: fix_port_blocked
      other: handoff_unclear
  all_good: {resolve: ok, say: "Everything works."}
  fix_port_blocked: {resolve: port_blocked, say: "Your network blocks port {outgoing_port|yours}."}
  handoff_unclear: {handoff: "A technician should look."}
"""
ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-in-the-replay"
BLOCKED = ProbeReport(
    "check_outgoing", "smtp.example.test:25", "port_blocked",
    checks=(Check("tcp", "smtp.example.test:25", "fail", "no answer within 1.5 s",
                  diagnosis="port_blocked", ms=1500.0, outcome="timeout"),),
    diagnoses=("port_blocked",),
    facts={"configured_host": "smtp.example.test", "configured_port": "25",
           "configured_security": "none", "protocol": "smtp", "working_port": "587",
           "working_security": "starttls"},
)
OK = ProbeReport("check_outgoing", "smtp.example.test:587", "ok", facts={
    "configured_host": "smtp.example.test", "configured_port": "587",
    "configured_security": "starttls", "protocol": "smtp"})


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    return make_flows(tmp_path / "flows")


def make_flows(folder: Path) -> Path:
    """A flows folder with the inline flow and the bundled matcher vocabulary."""
    folder.mkdir(parents=True)
    (folder / "outbox_stuck.yaml").write_text(FLOW, encoding="utf-8")
    shutil.copyfile(ROOT / "flows" / "_vocabulary.yaml", folder / "_vocabulary.yaml")
    return folder


async def record(
    flows: Path, path: Path, lines: list[str], reports: list[ProbeReport],
    context: dict[str, str] | None = None, *, finish: bool = True,
) -> Path:
    """Hold a real conversation with the engine and write its transcript."""
    engine = Engine.load(flows, runner=RecordedProbeRunner(reports))
    session = engine.start(context or {"outgoing_port": "25"})
    await session.open()
    for line in lines:
        await session.send(line)
    if finish:
        await session.finish()
    return write_transcript(path, session)


BLOCKED_TALK = ["my mail is stuck in the outbox", "alice@example.test", "no"]


async def replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `deskbot replay ARGS` (in a thread: the command runs its own event loop)."""
    code = await asyncio.to_thread(main, ["replay", *args])
    return code, capsys.readouterr().out


def edit(flows: Path, old: str, new: str) -> None:
    path = flows / "outbox_stuck.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_a_recorded_conversation_replays_offline_and_passes(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await record(flows, tmp_path / "t" / "blocked.json", BLOCKED_TALK, [BLOCKED])
    assert read_transcript(path).outcome.diagnosis == "port_blocked"
    code, out = await replay(capsys, str(tmp_path / "t"), "--flows", str(flows))
    assert code == 0
    assert f"pass      {path}" in out
    assert out.rstrip().endswith("1 passed, 0 failed")


async def test_changed_fix_text_fails_with_a_unified_diff(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await record(flows, tmp_path / "blocked.json", BLOCKED_TALK, [BLOCKED])
    ok_path = await record(flows, tmp_path / "ok.json", BLOCKED_TALK, [OK])
    assert read_transcript(ok_path).outcome.diagnosis == "ok"
    edit(flows, "Your network blocks port {outgoing_port|yours}.",
         "Port {outgoing_port|yours} is filtered.")
    code, out = await replay(capsys, str(path), str(ok_path), "--flows", str(flows))
    assert code == 1
    assert f"pass      {ok_path}" in out  # the other conversation is unaffected
    assert f"diverged  {path} at turn" in out
    assert "same path, the text at outbox_stuck/fix_port_blocked changed" in out
    assert "--- recorded" in out and "+++ replayed" in out
    assert "-bot  outbox_stuck/fix_port_blocked result: Your network blocks port 25." in out
    assert "+bot  outbox_stuck/fix_port_blocked result: Port 25 is filtered." in out
    assert out.rstrip().endswith("1 passed, 1 failed")


async def test_rerouted_probe_outcome_names_the_node_where_paths_split(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await record(flows, tmp_path / "blocked.json", BLOCKED_TALK, [BLOCKED])
    edit(flows, "port_blocked: fix_port_blocked", "port_blocked: handoff_unclear")
    edit(flows, "other: handoff_unclear", "other: fix_port_blocked")
    code, out = await replay(capsys, str(path), "--flows", str(flows))
    assert code == 1
    assert ("paths split after outbox_stuck/check_sending: recorded "
            "outbox_stuck/fix_port_blocked, now outbox_stuck/handoff_unclear") in out
    assert "+outcome: handoff symptom=outbox_stuck diagnosis=None" in out


async def test_a_flow_asking_for_another_probe_is_a_divergence(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await record(flows, tmp_path / "blocked.json", BLOCKED_TALK, [BLOCKED])
    relay = FLOW.replace("probe: check_outgoing", "probe: check_relay").replace(
        "port_blocked: fix_port_blocked", "smtp_auth_required: handoff_unclear")
    relay = relay.replace("resolve: port_blocked", "resolve: ok").replace(
        "other: handoff_unclear", "other: fix_port_blocked")
    (flows / "outbox_stuck.yaml").write_text(relay, encoding="utf-8")
    code, out = await replay(capsys, str(path), "--flows", str(flows))
    assert code == 1
    assert "the flow now runs probe 'check_relay' where the recording ran 'check_outgoing'" in out


async def test_update_rerecords_after_showing_the_change(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await record(flows, tmp_path / "blocked.json", BLOCKED_TALK, [BLOCKED])
    edit(flows, "Your network blocks port {outgoing_port|yours}.",
         "Port {outgoing_port|yours} is filtered.")
    code, out = await replay(capsys, str(path), "--flows", str(flows), "--update")
    assert code == 1  # this run still reports the divergence it fixed
    assert out.index("+bot  outbox_stuck/fix_port_blocked") < out.index(f"updated   {path}")
    assert "Port 25 is filtered." in path.read_text(encoding="utf-8")
    code, out = await replay(capsys, str(path), "--flows", str(flows))
    assert code == 0 and "1 passed, 0 failed" in out


async def test_secret_answers_replay_and_stay_out_of_every_file(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["my mail is stuck in the outbox", "alice@example.test", "yes", SECRET]
    path = await record(flows, tmp_path / "login.json", lines, [OK],
                        {"outgoing_port": "587", "password": SECRET})
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert read_transcript(path).redacted == ("password",)
    edit(flows, "Everything works.", "All fine.")
    code, out = await replay(capsys, str(path), "--flows", str(flows), "--update")
    assert code == 1 and "updated" in out
    assert SECRET not in path.read_text(encoding="utf-8")
    assert SECRET not in out
    code, out = await replay(capsys, str(path), "--flows", str(flows))
    assert code == 0


async def test_repair_and_context_message_conversations_replay(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "suite"
    await record(flows, folder / "back.json",
                 ["cannot send mail", "alice@example.test", "go back", "bob@example.test",
                  "I don't know"], [BLOCKED])
    await record(flows, folder / "human.json",
                 ["my mail is stuck in the outbox", "talk to a person"], [])
    await record(flows, folder / "context.json", ["alice@example.test"], [BLOCKED],
                 {"message": "my mail is stuck in the outbox", "outgoing_port": "25"})
    await record(flows, folder / "offtopic.json", ["what is the weather tomorrow"], [])
    outcomes = {p.stem: read_transcript(p).outcome for p in folder.glob("*.json")}
    assert outcomes["back"].diagnosis == "port_blocked"
    assert outcomes["human"].status == "handoff"
    assert outcomes["context"].diagnosis == "port_blocked"
    assert outcomes["offtopic"].status == "abandoned"
    code, out = await replay(capsys, str(folder), "--flows", str(flows))
    assert code == 0, out
    assert "4 passed, 0 failed" in out


async def test_unreadable_transcript_counts_as_failed_with_its_reason(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await record(flows, tmp_path / "s" / "good.json", BLOCKED_TALK, [BLOCKED])
    bad = tmp_path / "s" / "bad.json"
    bad.write_text('{"format": 9, "turns": []}', encoding="utf-8")
    code, out = await replay(capsys, str(tmp_path / "s"), "--flows", str(flows))
    assert code == 1
    assert f"error     {bad}: {bad}: transcript format 9 is newer" in out
    assert "1 passed, 1 failed" in out


async def test_coverage_lists_unexercised_branches_with_file_and_line(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await record(flows, tmp_path / "c" / "blocked.json", BLOCKED_TALK, [BLOCKED])
    code, out = await replay(capsys, str(tmp_path / "c"), "--flows", str(flows), "--coverage")
    assert code == 0
    yaml_file = str(flows / "outbox_stuck.yaml")
    lines = FLOW.splitlines()
    ok_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "ok: all_good")
    password_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "ask_password:")
    assert f"{yaml_file}:{ok_line}: outcome 'check_sending' --ok--> 'all_good' never taken" in out
    assert f"{yaml_file}:{password_line}: node 'ask_password' (ask) never reached" in out
    assert "outbox_stuck" in out and "nodes 4/7 (57%)" in out
    assert "probe outcomes 1/3 (33%)" in out
    # --flows lays the folder over the bundled flows, whose nodes count in the overall share.
    overall = re.search(r"overall node coverage ([0-9.]+)%", out)
    assert overall is not None
    share = float(overall.group(1))
    code, out = await replay(capsys, str(tmp_path / "c"), "--flows", str(flows),
                             "--min-coverage", "90")
    assert code == 1 and "below --min-coverage 90%" in out
    code, _ = await replay(capsys, str(tmp_path / "c"), "--flows", str(flows),
                           "--min-coverage", f"{share - 0.1:.1f}")
    assert code == 0


def _turn_roles(path: Path) -> list[Any]:
    return [t["role"] for t in json.loads(path.read_text(encoding="utf-8"))["turns"]]


async def test_replay_does_not_rewrite_passing_transcripts(
    flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = await record(flows, tmp_path / "blocked.json", BLOCKED_TALK, [BLOCKED])
    before = path.read_bytes()
    code, _ = await replay(capsys, str(path), "--flows", str(flows), "--update")
    assert code == 0
    assert path.read_bytes() == before
    assert "probe" in _turn_roles(path)
