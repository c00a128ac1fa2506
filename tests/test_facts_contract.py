"""Facts are a contract: a text may use only what every path to it guarantees, or a default.

`deskbot flows check` names each placeholder that could show a customer nothing, as FILE:LINE;
`{NAME|text}` says what to show instead; the probes keep the table's promises (every recorded
report carries the facts its outcome guarantees).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from bot.diagnoses import CODES, Code, diagnosis
from bot.engine.templates import TemplateContext
from bot.flows.loader import check_flows
from bot.flows.model import ClientSteps
from bot.probes.model import ProbeReport
from bot.probes.registry import PROBES, unkept_promise

ROOT = Path(__file__).resolve().parent.parent
FLOW = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox"]
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
      port_blocked: blocked
      ok: fine
      other: person
  blocked:
    resolve: port_blocked
    say: "Port {facts.configured_port} is filtered; port {facts.working_port} answers."
  fine:
    resolve: ok
    say: "{facts.configured_host} takes your mail."
  person:
    handoff: "A technician will look at {facts.configured_host}."
"""


def problems(tmp_path: Path, flow: str, clients: str = "") -> list[str]:
    (tmp_path / "outbox_stuck.yaml").write_text(textwrap.dedent(flow), encoding="utf-8")
    if clients:
        (tmp_path / "_clients.yaml").write_text(textwrap.dedent(clients), encoding="utf-8")
    return [str(p) for p in check_flows(tmp_path)]


def test_facts_the_routed_outcomes_guarantee_pass(tmp_path: Path) -> None:
    text = FLOW.replace("A technician will look at {facts.configured_host}.",
                        "A technician will look at it.")
    assert problems(tmp_path, text) == []


def test_a_fact_some_outcome_does_not_guarantee_is_named_with_file_and_line(
        tmp_path: Path) -> None:
    # `other` also takes `inconclusive`, which guarantees nothing
    assert problems(tmp_path, FLOW) == [
        f"{tmp_path / 'outbox_stuck.yaml'}:25: node 'person': {{facts.configured_host}} may "
        "have no value here (not every probe outcome that leads here guarantees it); give a "
        "default: {facts.configured_host|text}"]


def test_a_misspelt_fact_is_never_guaranteed(tmp_path: Path) -> None:
    found = problems(tmp_path, FLOW.replace("{facts.working_port} answers",
                                            "{facts.workng_port} answers"))
    wanted = ":20: node 'blocked': {facts.workng_port} may have no value"
    assert any(wanted in p for p in found), found


def test_a_default_says_what_to_show_instead(tmp_path: Path) -> None:
    text = FLOW.replace("look at {facts.configured_host}.",
                        "look at {facts.configured_host|your server}.")
    assert problems(tmp_path, text) == []


def test_provider_fields_need_a_found_lookup_on_every_path(tmp_path: Path) -> None:
    text = FLOW.replace("takes your mail.", "takes your mail at {provider.name}.")
    found = problems(tmp_path, text)
    assert any(":23: node 'fine': {provider.name} may have no value here (no "
               "`lookup_provider` → found on every path here)" in p for p in found), found
    looked_up = text.replace("    next: check\n  check:", "    next: lookup\n"
                             "  lookup:\n    probe: lookup_provider\n"
                             "    on: {found: check, not_found: person}\n  check:")
    looked_up = looked_up.replace("look at {facts.configured_host}.", "look at it.")
    assert problems(tmp_path, looked_up) == []


def test_a_slot_the_customer_may_not_know_needs_a_default(tmp_path: Path) -> None:
    text = FLOW.replace("A technician will look at {facts.configured_host}.",
                        "A technician will write to {email}.")
    found = problems(tmp_path, text)
    assert any("node 'person': {email} may have no value here (its question may have "
               "been answered \"I don't know\")" in p for p in found), found
    asked = text.replace("    next: check\n  check:",
                         "    on: {unknown: person2}\n    next: check\n"
                         "  person2: {handoff: \"No address, no test.\"}\n  check:")
    assert problems(tmp_path, asked) == []


def test_client_steps_are_shown_anywhere_so_their_placeholders_need_defaults(
        tmp_path: Path) -> None:
    clients = """\
    default:
      outgoing_settings: "Server {provider.outgoing.host}, port {provider.outgoing.port|587}."
    """
    text = FLOW.replace("look at {facts.configured_host}.", "look at it.")
    found = problems(tmp_path, text, clients)
    assert found == [f"{tmp_path / '_clients.yaml'}:2: client 'default' outgoing_settings: "
                     "{provider.outgoing.host} needs a default, {provider.outgoing.host|text}: "
                     "steps are shown whether or not it has a value"]


def test_the_engine_shows_the_value_or_else_the_default() -> None:
    report = ProbeReport("check_outgoing", "x:25", "port_blocked", facts={"working_port": "587"})
    context = TemplateContext({}, None, [report], ClientSteps())
    text = "Use port {facts.working_port|another port}, not {facts.cert_names|that one}."
    assert context.render(text) == "Use port 587, not that one."
    assert context.render("Ask {provider.name|your provider}.") == "Ask your provider."


def test_the_bundled_flows_keep_the_contract() -> None:
    assert check_flows(ROOT / "flows") == []


def _recorded_reports() -> list[ProbeReport]:
    reports = []
    for path in sorted((ROOT / "transcripts").rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        reports += [ProbeReport.from_dict(t["report"]) for t in document.get("turns", ())
                    if t.get("role") == "probe" and "report" in t]
    return reports


def test_every_recorded_probe_report_keeps_its_outcomes_promise() -> None:
    """The transcripts were recorded against real peers (scripts/record-transcripts)."""
    reports = _recorded_reports()
    assert len(reports) > 100
    assert [(r.name, r.outcome, unkept_promise(r)) for r in reports if unkept_promise(r)] == []


@pytest.mark.parametrize("code", CODES)
def test_each_checks_outcome_guarantees_the_tables_facts(code: Code) -> None:
    for name in ("check_outgoing", "check_incoming"):
        if code in PROBES[name].outcomes:
            assert PROBES[name].guaranteed_facts(code) == diagnosis(code).facts
    assert PROBES["check_outgoing"].guaranteed_facts("inconclusive") == frozenset()


def test_the_documented_facts_table_is_the_registrys() -> None:
    from bot.registry import facts_table

    doc = (ROOT / "docs" / "flow-language.md").read_text(encoding="utf-8")
    inside = doc.split("<!-- facts-table:start -->\n")[1].split("\n<!-- facts-table:end -->")[0]
    assert inside == facts_table()
