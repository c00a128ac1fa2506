"""Coverage follows the conversation through silent nodes: branches, known slots, sub-flows."""

from __future__ import annotations

from pathlib import Path

from bot.engine import Engine
from bot.flows.loader import load_flows
from bot.probes.model import ProbeReport
from bot.probes.runners import RecordedProbeRunner
from bot.transcripts import transcript_from_session
from bot.transcripts.coverage import measure
from tests.test_replay import ROOT

MAIN = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox"]
  keywords: {outbox: 3}
start: ask_email
nodes:
  ask_email: {ask: email, type: email, prompt: "Your address?", next: collect}
  collect: {call: collect_outgoing, next: route}
  route:
    branch:
      - when: {known: [outgoing_server]}
        goto: check
      - else: check
  check:
    probe: check_outgoing
    on: {ok: all_good, other: handoff_unclear}
  all_good: {resolve: ok, say: "Everything works."}
  handoff_unclear: {handoff: "A technician should look."}
"""
SUB = """\
subflow: collect_outgoing
start: ask_server
nodes:
  ask_server:
    ask: outgoing_server
    type: host
    prompt: "Your SMTP server?"
    on: {unknown: done}
    next: done
  done: {return: true}
"""


async def test_silent_nodes_and_subflow_returns_are_credited(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "outbox_stuck.yaml").write_text(MAIN, encoding="utf-8")
    (flows / "_collect_outgoing.yaml").write_text(SUB, encoding="utf-8")
    (flows / "_vocabulary.yaml").write_bytes((ROOT / "flows" / "_vocabulary.yaml").read_bytes())
    engine = Engine.load(flows, runner=RecordedProbeRunner(
        [ProbeReport("check_outgoing", "smtp.example.test:587", "ok", facts={
            "configured_host": "smtp.example.test", "configured_port": "587",
            "configured_security": "starttls", "protocol": "smtp"})]))
    # the server is known from the context: the sub-flow's question is passed through
    session = engine.start({"outgoing_server": "smtp.example.test"})
    await session.open()
    for line in ("my mail is stuck in the outbox", "alice@example.test"):
        await session.send(line)
    assert session.outcome is not None and session.outcome.diagnosis == "ok"

    coverage = {c.flow: c for c in measure(load_flows(flows), [transcript_from_session(session)])}
    main, sub = coverage["outbox_stuck"], coverage["collect_outgoing"]
    assert main.nodes == (5, 6)  # all but the handoff
    assert {m.description for m in main.missed} == {
        "'handoff_unclear' (handoff) never reached",
        "'check' --other--> 'handoff_unclear' never taken",
        "'route' --else--> 'check' never taken",
    }
    assert main.outcomes == (1, 2)
    assert sub.nodes == (2, 2)  # the passed-through question and the return
    assert [m.description for m in sub.missed] == ["'ask_server' --unknown--> 'done' never taken"]
    assert ("collect", "next") in main.shading.edges  # credited when the sub-flow returned
