"""The recorded transcripts/ suite: complete, and a flow edit fails exactly the right ones."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.flows.loader import load_flows
from bot.transcripts import Role, Transcript, find_transcripts, read_transcript
from bot.transcripts.replay import Replayer, replay_files
from tests.test_flows_diagnoses import AWAITING_PRODUCER, CASES, NEVER_OK, reachable_diagnoses

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "transcripts"


def _suite() -> dict[Path, Transcript]:
    return {path: read_transcript(path) for path in find_transcripts([SUITE])}


def test_every_reachable_flow_and_diagnosis_has_a_recorded_conversation() -> None:
    flowset = load_flows(ROOT / "flows")
    waiting = AWAITING_PRODUCER - {c.expected for c in CASES}  # no real peer produces them yet
    reachable = {(f.id, code) for f in flowset.flows.values()
                 for code in reachable_diagnoses(flowset, f) if code not in waiting
                 and not (code == "ok" and f.id in NEVER_OK)}
    recorded = {(t.outcome.symptom, t.outcome.diagnosis) for t in _suite().values()}
    assert reachable - recorded == set(), "run scripts/record-transcripts"


def test_the_suite_holds_clarify_off_topic_and_repair_conversations() -> None:
    suite = _suite().values()
    said = [str(turn.text) for t in suite for turn in t.turns if turn.role is Role.USER]
    for repair in ("go back", "I don't know", "talk to a person", "start over"):
        assert repair in said, repair
    bot_lines = [str(turn.text) for t in suite for turn in t.turns if turn.role is Role.BOT]
    assert any("Which of these is closest" in line for line in bot_lines)  # clarify
    statuses = {t.outcome.status for t in suite}
    assert {"resolved", "handoff", "abandoned"} <= statuses
    assert any(t.vantage == "server" for t in suite)  # help-desk service conversations
    assert any(turn.redacted for t in suite for turn in t.turns)  # a hidden answer


async def test_an_edited_fix_text_fails_exactly_the_conversations_that_show_it(
    tmp_path: Path,
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    files = find_transcripts([SUITE])
    before = await replay_files(Replayer(flows), files)
    passing = {r.source for r in before if r.passed}

    # edit the fix text of one resolve node of the shared check (both directions show it)
    node = load_flows(flows).subflows["check_server(outgoing)"].nodes["fix_port_blocked"]
    sub = flows / "_check_server.yaml"
    lines = sub.read_text(encoding="utf-8").split("\n")
    at = node.line_of("say") - 1
    if lines[at].rstrip().endswith(("|", ">", ">-", "|-")):
        at += 1  # a block scalar: the text starts on the next line
    lines[at] = lines[at].rstrip().removesuffix('"') + (' EDITED"' if '"' in lines[at] else
                                                         " EDITED")
    sub.write_text("\n".join(lines), encoding="utf-8")

    after = await replay_files(Replayer(flows), files)
    failed = {r.source for r in after if not r.passed} & passing
    showing = {str(p) for p, t in _suite().items()
               if any(turn.node == "fix_port_blocked" and str(turn.flow)
                      .startswith("check_server(") for turn in t.turns)}
    assert showing & passing, "no passing transcript shows the edited node"
    assert failed == showing & passing
    diff = next(r for r in after if r.source in failed).divergence
    assert diff is not None and ")/fix_port_blocked" in diff.split
    assert "EDITED" in diff.diff
