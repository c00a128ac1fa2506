"""`deskbot flows check`: every lint rule refuses a broken flow with `FILE:LINE: message`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.bundle import check as check_flows  # what `deskbot flows check` runs
from bot.engine import Engine
from bot.errors import FlowError

GOOD = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox"]
  keywords: {outbox: 3}
start: ask_email
nodes:
  ask_email:
    ask: email
    type: email
    prompt: "What is your e-mail address?"
    next: check
  check:
    probe: check_outgoing
    on:
      ok: all_good
      port_blocked: blocked
      other: person
  blocked:
    resolve: port_blocked
    say: "Port {client.outgoing_port|yours} is blocked; use {provider.outgoing.port|another}."
  all_good:
    resolve: ok
    say: "Sending works."
  person:
    handoff: "A technician will look at it."
"""


def problems_for(tmp_path: Path, text: str, name: str = "outbox_stuck.yaml") -> list[str]:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return [str(p) for p in check_flows(tmp_path)]


def any_problem(tmp_path: Path, text: str, wanted: str) -> str:
    """The problem containing `wanted` (a broken node may cause follow-on problems too)."""
    found = problems_for(tmp_path, text)
    hits = [p for p in found if wanted in p]
    assert hits, found
    return hits[0]


def one_problem(tmp_path: Path, text: str) -> str:
    found = problems_for(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def test_good_flow_passes(tmp_path: Path) -> None:
    assert problems_for(tmp_path, GOOD) == []


def test_unknown_node_reference_names_file_line_and_target(tmp_path: Path) -> None:
    message = problems_for(tmp_path, GOOD.replace("ok: all_good", "ok: say_ok"))[0]
    assert message.endswith("outbox_stuck.yaml:15: node 'check' goes to 'say_ok', which does "
                            "not exist")


def test_unknown_slot(tmp_path: Path) -> None:
    message = one_problem(tmp_path, GOOD.replace("ask: email", "ask: e_mail"))
    assert ":9: node 'ask_email' asks for unknown slot 'e_mail'" in message


def test_flow_local_slot_is_declared_with_slots(tmp_path: Path) -> None:
    text = GOOD.replace("ask: email\n    type: email", "ask: mood\n    type: text")
    assert "unknown slot 'mood'" in one_problem(tmp_path, text)
    assert problems_for(tmp_path, "slots: [mood]\n" + text) == []


def test_unreachable_node(tmp_path: Path) -> None:
    text = GOOD + "  orphan:\n    say: hello\n    next: person\n"
    assert "node 'orphan' is unreachable from start 'ask_email'" in one_problem(tmp_path, text)


def test_branch_without_else(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: route") + textwrap.indent(textwrap.dedent("""\
        route:
          branch:
            - when: {known: [password]}
              goto: check
        """), "  ")
    assert "branch 'route' has no `else:`" in one_problem(tmp_path, text)


def test_dead_end_say(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: note") + "  note:\n    say: hello\n"
    message = any_problem(tmp_path, text, "node 'note' is a dead end")
    assert message.endswith(":28: node 'note' is a dead end: it needs `next:` "
                            "(or end with resolve/handoff)")


def test_probe_outcome_unhandled(tmp_path: Path) -> None:
    message = any_problem(tmp_path, GOOD.replace("      other: person\n", ""), "not handled")
    assert "probe 'check_outgoing' outcome(s)" in message and "dns_not_found" in message
    assert "not handled" in message


def test_unknown_probe_name(tmp_path: Path) -> None:
    text = GOOD.replace("probe: check_outgoing", "probe: check_smtp")
    message = any_problem(tmp_path, text, "unknown probe")
    assert ":14: node 'check': unknown probe 'check_smtp'" in message


def test_unknown_diagnosis_code(tmp_path: Path) -> None:
    message = one_problem(tmp_path, GOOD.replace("resolve: port_blocked", "resolve: blocked"))
    assert "unknown diagnosis code 'blocked'" in message


def test_unknown_symptom_id(tmp_path: Path) -> None:
    message = one_problem(tmp_path, GOOD.replace("id: outbox_stuck", "id: outbox"))
    assert ":1: unknown symptom id 'outbox'" in message


def test_explains_names_other_flows(tmp_path: Path) -> None:
    """A cause's `explains` list must name other flows: a typo is a FILE:LINE problem."""
    message = one_problem(tmp_path, GOOD.replace(
        "  keywords: {outbox: 3}\n", "  keywords: {outbox: 3}\n  explains: [cannot_recieve]\n"))
    assert message.endswith("outbox_stuck.yaml:6: match.explains: cannot_recieve is not another "
                            "flow's id")


def test_a_flow_that_does_not_load_is_no_unknown_id_to_the_others(tmp_path: Path) -> None:
    (tmp_path / "cannot_receive.yaml").write_text("id: cannot_receive\n  bad: [\n", "utf-8")
    found = problems_for(tmp_path, GOOD.replace(
        "  keywords: {outbox: 3}\n", "  keywords: {outbox: 3}\n  explains: [cannot_receive]\n"))
    assert len(found) == 1 and "cannot_receive.yaml:2: not valid YAML" in found[0], found


def test_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a_copy.yaml").write_text(GOOD, encoding="utf-8")
    found = problems_for(tmp_path, GOOD)
    assert any("duplicate flow id 'outbox_stuck'" in p for p in found), found


def test_cycle_with_no_way_out(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: loop_a") + textwrap.indent(textwrap.dedent("""\
        loop_a: {say: one, next: loop_b}
        loop_b: {say: two, next: loop_a}
        """), "  ")
    found = problems_for(tmp_path, text)
    assert any("cycle with no way out: loop_a → loop_b → loop_a" in p for p in found), found


def test_cycle_that_never_asks(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: loop_a") + textwrap.indent(textwrap.dedent("""\
        loop_a: {say: one, next: loop_b}
        loop_b:
          branch:
            - when: {known: [password]}
              goto: check
            - else: loop_a
        """), "  ")
    assert "cycle that never asks the user or probes" in one_problem(tmp_path, text)


def test_secret_needs_consent(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: ask_pw") + textwrap.indent(textwrap.dedent("""\
        ask_pw: {ask: password, type: secret, prompt: "Password?", next: check}
        """), "  ")
    assert "secret question 'ask_pw' can be reached without a `yes`" in one_problem(
        tmp_path, text)
    consent = GOOD.replace("next: check", "next: consent") + textwrap.indent(textwrap.dedent("""\
        consent:
          ask: login_ok
          type: yesno
          prompt: "May I test your login?"
          on: {yes: ask_pw, no: check}
        ask_pw: {ask: password, type: secret, prompt: "Password?", next: check}
        """), "  ")
    assert problems_for(tmp_path, "slots: [login_ok]\n" + consent) == []


def test_resolve_a_code_no_probe_produces(tmp_path: Path) -> None:
    text = GOOD.replace("probe: check_outgoing", "probe: check_relay").replace(
        "      port_blocked: blocked\n", "      smtp_auth_required: blocked\n")
    message = one_problem(tmp_path, text)
    assert "resolves 'port_blocked', which no probe of this flow can report" in message


def test_ask_dead_end_for_unknown(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: pick") + textwrap.indent(textwrap.dedent("""\
        pick:
          ask: incoming_protocol
          type: protocol
          prompt: "POP3 or IMAP?"
          on: {pop3: check, imap: check}
        """), "  ")
    assert "dead end for answer(s) unknown" in one_problem(tmp_path, text)


def test_unknown_placeholder_and_secret_placeholder(tmp_path: Path) -> None:
    text = GOOD.replace("Sending works.", "Sending works for {emial} with {password}.")
    found = problems_for(tmp_path, text)
    assert any("unknown placeholder {emial}" in p for p in found), found
    assert any("{password} would show a secret" in p for p in found), found


def test_match_block_errors_come_from_the_matcher(tmp_path: Path) -> None:
    text = GOOD.replace("keywords: {outbox: 3}", "keywords: {outbox: lots}")
    assert ":5: match.keywords.outbox: weight must be a number" in one_problem(tmp_path, text)


def test_a_bad_example_is_reported_on_its_own_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        '  phrases: ["my mail is stuck in the outbox"]\n',
        '  examples:\n    - "my mail is stuck in the outbox"\n    - 42\n',
    )
    assert ":6: match.examples[1]: expected a non-empty sentence" in one_problem(tmp_path, text)


def test_unknown_node_key_and_two_kinds(tmp_path: Path) -> None:
    text = GOOD.replace("    next: check\n", "    nxt: check\n    next: check\n")
    assert "unknown key `nxt` for ask" in one_problem(tmp_path, text)
    text = GOOD.replace("  person:\n    handoff:", "  person:\n    resolve: ok\n    handoff:")
    assert "(resolve, handoff)" in any_problem(tmp_path, text, "node 'person' needs exactly one")


def test_unsafe_yaml_is_refused_with_a_line(tmp_path: Path) -> None:
    text = GOOD.replace('title: Mail stays in the Outbox',
                        'title: !!python/object/apply:os.system ["true"]')
    assert ":2: not valid YAML: could not determine a constructor" in one_problem(tmp_path, text)


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    message = one_problem(tmp_path, "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert "alias bomb" in message


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    text = GOOD + "# " + "x" * (600 * 1024) + "\n"
    assert "flow files may be at most 512 KB" in one_problem(tmp_path, text)


def test_engine_refuses_a_broken_flow_with_every_problem(tmp_path: Path) -> None:
    text = GOOD.replace("ok: all_good", "ok: nowhere").replace("probe: check_outgoing\n",
                                                               "probe: check_outgoing\n")
    text = text.replace("resolve: port_blocked", "resolve: blocked")
    (tmp_path / "outbox_stuck.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        Engine.load(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [str(p) for p in check_flows(tmp_path)]
    assert len(messages) >= 2


def test_cli_prints_file_line_and_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "outbox_stuck.yaml").write_text(GOOD.replace("ok: all_good", "ok: gone"),
                                                encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "bot", "flows", "check", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "outbox_stuck.yaml:15: node 'check' goes to 'gone', which does not exist\n" in bad.stdout


def test_bundled_flows_pass() -> None:
    good = subprocess.run([sys.executable, "-m", "bot", "flows", "check"],
                          capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout
    assert good.stdout == ""


def test_call_of_an_unknown_subflow_and_return_outside_one(tmp_path: Path) -> None:
    text = GOOD.replace("next: check", "next: collect") + textwrap.indent(textwrap.dedent("""\
        collect: {call: collect_outgoing, next: check}
        """), "  ")
    assert "calls unknown sub-flow 'collect_outgoing'" in one_problem(tmp_path, text)
    (tmp_path / "_collect.yaml").write_text(textwrap.dedent("""\
        subflow: collect_outgoing
        start: port
        nodes:
          port: {ask: outgoing_port, type: port, prompt: "Port?", next: done}
          done: {return: true}
        """), encoding="utf-8")
    assert problems_for(tmp_path, text) == []
    text = GOOD.replace("  person:\n    handoff: \"A technician will look at it.\"",
                        "  person:\n    return: true")
    assert "`return` is only allowed in a sub-flow" in one_problem(tmp_path, text)


def test_client_steps_with_unknown_topic_or_placeholder(tmp_path: Path) -> None:
    (tmp_path / "_clients.yaml").write_text(textwrap.dedent("""\
        aliases: {outlook 2016: outlook, tbird: thunderbird}
        outlook:
          name: Outlook
          outgoing_settings: "Set {provider.outgoing.hots}."
          dance: "Spin."
        default:
          name: your app
          outgoing_settings: "Open the settings."
        """), encoding="utf-8")
    found = problems_for(tmp_path, GOOD)
    assert any("_clients.yaml:4: client 'outlook' outgoing_settings: unknown placeholder "
               "{provider.outgoing.hots}" in p for p in found), found
    assert any("unknown topic 'dance'" in p for p in found), found
    assert any("alias 'tbird' names unknown client 'thunderbird'" in p for p in found), found
