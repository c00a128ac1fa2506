"""Call parameters: one sub-flow instantiated per value, checked with `FILE:LINE:` problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.flows.loader import check_flows, load_flows

CALLER = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox"]
start: check
nodes:
  check:
    call: side_check
    with: {direction: outgoing}
    next: done
  done:
    resolve: ok
"""
SUB = """\
subflow: side_check
params:
  direction:
    outgoing: {doing: sending}
    incoming: {doing: receiving}
start: probe
nodes:
  probe:
    probe: check_{direction}
    say: "Testing {direction.doing} on the {direction} side."
    on:
      ok: done
      smtp_auth_required: fix_relay
      mailbox_locked: route_locked
      other: person
  route_locked:
    branch:
      - when: {direction: incoming}
        goto: fix_locked
      - else: person
  fix_relay:
    resolve: smtp_auth_required
    say: "Turn on authentication."
    settings: "{direction}"
  fix_locked:
    resolve: mailbox_locked
    say: "Close the other app."
  person:
    handoff: "A technician will look at {provider.{direction}.host|your server}."
  done:
    return: true
"""


def problems(tmp_path: Path, caller: str = CALLER, sub: str = SUB) -> list[str]:
    (tmp_path / "outbox_stuck.yaml").write_text(textwrap.dedent(caller), encoding="utf-8")
    (tmp_path / "_side_check.yaml").write_text(textwrap.dedent(sub), encoding="utf-8")
    return [str(p) for p in check_flows(tmp_path)]


def test_each_value_becomes_a_concrete_sub_flow(tmp_path: Path) -> None:
    assert problems(tmp_path) == []
    flows = load_flows(tmp_path)
    out, inc = flows.subflows["side_check(outgoing)"], flows.subflows["side_check(incoming)"]
    assert flows.flows["outbox_stuck"].nodes["check"].subflow == "side_check(outgoing)"
    assert out.nodes["probe"].probe == "check_outgoing"
    assert out.nodes["probe"].text == "Testing sending on the outgoing side."
    assert out.nodes["fix_relay"].settings == "outgoing"
    # each instance keeps only what its probe can produce, and the nodes still reached
    assert "mailbox_locked" not in out.nodes["probe"].on and "fix_locked" not in out.nodes
    assert "smtp_auth_required" not in inc.nodes["probe"].on and "fix_relay" not in inc.nodes
    # a condition on a parameter is decided per instance
    assert [r.goto for r in inc.nodes["route_locked"].rules] == ["fix_locked"]


def test_a_call_must_pass_every_parameter_with_an_allowed_value(tmp_path: Path) -> None:
    found = problems(tmp_path, CALLER.replace("{direction: outgoing}", "{direction: sideways}"))
    assert found == [f"{tmp_path / 'outbox_stuck.yaml'}:9: node 'check': call 'side_check': "
                     "direction is one of outgoing, incoming, not 'sideways'"]
    found = problems(tmp_path, CALLER.replace("    with: {direction: outgoing}\n", ""))
    assert len(found) == 1 and ":8: node 'check': call 'side_check' needs `with: " in found[0]
    found = problems(tmp_path, CALLER.replace("{direction: outgoing}", "{side: outgoing}"))
    assert len(found) == 1 and "needs `with: {direction: outgoing|incoming}` exactly" in found[0]


def test_a_word_the_value_lacks_is_named_with_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, sub=SUB.replace("{direction.doing}", "{direction.doign}"))
    assert found and all(":10: node 'probe': {direction.doign} is not a word of direction="
                         in p for p in found)


def test_an_outcome_no_value_can_produce_is_still_an_error(tmp_path: Path) -> None:
    text = SUB.replace("      other: person\n", "      other: person\n      found: person\n")
    found = problems(tmp_path, sub=text)
    assert found and all("never has outcome 'found'" in p for p in found)


def test_a_node_no_value_reaches_is_unreachable(tmp_path: Path) -> None:
    text = SUB.replace("      - when: {direction: incoming}", "      - when: {direction: none}")
    found = problems(tmp_path, sub=text)
    assert any(":26: node 'fix_locked' is unreachable from start 'probe' for every value"
               in p for p in found), found


def test_parameters_only_for_a_sub_flow_that_declares_them(tmp_path: Path) -> None:
    sub = SUB.replace("params:\n  direction:\n    outgoing: {doing: sending}\n"
                      "    incoming: {doing: receiving}\n", "")
    found = problems(tmp_path, sub=sub)
    assert any(":9: node 'check': sub-flow 'side_check' takes no parameters" in p
               for p in found), found
