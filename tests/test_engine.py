"""The dialogue engine on small inline flows, with recorded probe results (no network)."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.catalog.model import Provider, ServerSettings
from bot.engine import Engine, Session, Turn
from bot.errors import EngineError
from bot.probes.model import Check, ProbeObserver, ProbeReport
from bot.probes.runners import ProbeCall, RecordedProbeRunner

OUTBOX = """\
id: outbox_stuck
title: Mail stays in the Outbox
match:
  phrases: ["my mail is stuck in the outbox", "cannot send email"]
  keywords: {outbox: 5, send: 5, sending: 5}
slots: [login_ok]
start: ask_email
nodes:
  ask_email:
    ask: email
    type: email
    prompt: "What is your e-mail address?"
    next: ask_client
  ask_client:
    ask: client
    type: client
    prompt: "Which mail app do you use?"
    next: collect
  collect: {call: collect_outgoing, next: consent}
  consent:
    ask: login_ok
    type: yesno
    prompt: "May I test your login?"
    on: {yes: ask_password, no: check}
  ask_password:
    ask: password
    type: secret
    prompt: "Your password, please (never stored)."
    next: check
  check:
    probe: check_outgoing
    say: "Testing {email|your address} against {provider.outgoing.host|your server} now."
    on:
      ok: all_good
      port_blocked: fix_port
      auth_wrong_password: fix_password
      other: person
  fix_port:
    resolve: port_blocked
    say: |
      Port {client.outgoing_port|your port} is blocked. {provider.name|The server} also answers on
      port {facts.working_port}.
      {steps.outgoing_settings}
    settings: outgoing
  fix_password:
    resolve: auth_wrong_password
    say: "The server refused the password for {provider.outgoing.username|your username}."
  all_good:
    resolve: ok
    say: "Sending works from here."
  person:
    handoff: "The checks were not conclusive."
"""

AUTH = """\
id: auth_failed
title: The password is rejected
match:
  phrases: ["it keeps asking for my password", "password rejected"]
  keywords: {password: 5, login: 4}
start: ask_protocol
nodes:
  ask_protocol:
    ask: incoming_protocol
    type: choice
    prompt: "Does your app use POP3 or IMAP?"
    choices: {pop3: POP3, imap: IMAP}
    on: {pop3: say_pop, imap: check, unknown: check}
  say_pop: {say: "POP3 it is.", next: check}
  check:
    probe: check_incoming
    on: {ok: fine, other: person}
  fine: {resolve: ok, say: "Your login works."}
  person: {handoff: "A person will check your account."}
"""

COLLECT = """\
subflow: collect_outgoing
start: ask_port
nodes:
  ask_port:
    ask: outgoing_port
    type: port
    prompt: "Which outgoing port does your app use?"
    on: {unknown: done}
    next: ask_security
  ask_security:
    ask: outgoing_security
    type: security
    prompt: "Which security: SSL/TLS, STARTTLS or none?"
    next: done
  done: {return: true}
"""

CLIENTS = """\
aliases:
  outlook 2016: outlook
  outlook: outlook
outlook:
  name: Outlook
  outgoing_settings: "Outlook: File > Account Settings > {provider.outgoing.host|the server}."
default:
  name: your mail app
  outgoing_settings: "Open your app's outgoing server settings."
"""

BUNDLED = Path(__file__).resolve().parent.parent / "flows"
PROVIDER = Provider(
    id="example", name="Example Mail", domains=("example.test",),
    incoming=(ServerSettings("imap", "imap.example.test", 993, "ssl"),),
    outgoing=(ServerSettings("smtp", "smtp.example.test", 465, "ssl"),),
)


def write_flows(folder: Path, **extra: str) -> Path:
    """The inline test flows (plus any extra files) in a folder."""
    # The bundled vocabulary (e-mail words, synonyms) makes the matcher score as in real use.
    vocabulary = (BUNDLED / "_vocabulary.yaml").read_text(encoding="utf-8")
    files = {"outbox_stuck.yaml": OUTBOX, "auth_failed.yaml": AUTH,
             "_collect.yaml": COLLECT, "_clients.yaml": CLIENTS,
             "_vocabulary.yaml": vocabulary, **extra}
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


# What every check report carries (bot/data/diagnoses.yaml `sweep_facts`).
SWEEP = {"configured_host": "smtp.example.test", "configured_port": "587",
         "configured_security": "starttls", "protocol": "smtp"}


def report(name: str, outcome: str, **facts: str) -> ProbeReport:
    check = Check("tcp", "smtp.example.test:587", "fail" if outcome != "ok" else "ok",
                  f"saw {outcome}", outcome if outcome != "ok" else None, 3.0)
    return ProbeReport(name, "smtp.example.test:587", outcome, (check,), (outcome,),
                       {**SWEEP, **facts}, PROVIDER)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    return write_flows(tmp_path)


def engine_with(flows: Path, *reports: ProbeReport) -> tuple[Engine, RecordedProbeRunner]:
    runner = RecordedProbeRunner(reports)
    return Engine.load(flows, runner=runner), runner


async def talk(session: Session, *lines: str) -> list[str]:
    """Open the session, send lines, return every bot text."""
    said = [m.text for m in (await session.open()).messages]
    for line in lines:
        said += [m.text for m in (await session.send(line)).messages]
    return said


async def test_walks_to_a_proven_diagnosis_with_fix_from_catalogue_and_client(flows: Path) -> None:
    engine, runner = engine_with(flows, report("check_outgoing", "port_blocked",
                                               working_port="465", working_security="ssl"))
    session = engine.start()
    said = await talk(session, "my mail is stuck in the outbox", "bob@example.test",
                      "Outlook 2016", "25", "STARTTLS", "no")
    assert session.outcome is not None
    assert session.outcome.to_dict() == {"status": "resolved", "symptom": "outbox_stuck",
                                         "diagnosis": "port_blocked", "basis": "probe"}
    fix = said[-1]
    assert "Port 25 is blocked. Example Mail also answers on port 465." in fix
    assert "Outlook: File > Account Settings > smtp.example.test." in fix
    assert "Outgoing (SMTP): server smtp.example.test, port 465, security SSL/TLS" in fix
    assert session.slots["client"] == "outlook"
    assert session.slots["outgoing_security"] == "starttls"
    assert runner.calls[0][1]["outgoing_port"] == "25"


async def test_context_slots_are_never_asked(flows: Path) -> None:
    engine, _ = engine_with(flows, report("check_outgoing", "ok"))
    session = engine.start({"message": "cannot send email", "email": "bob@example.test",
                            "client": "thunderbird", "outgoing_port": "587",
                            "outgoing_security": "SSL/TLS"})
    reply = await session.open()
    assert reply.question is not None and reply.question.slot == "login_ok"
    reply = await session.send("no")
    assert reply.outcome is not None and reply.outcome.diagnosis == "ok"
    assert not any(t.kind == "question" and t.node == "ask_email" for t in session.turns)


async def test_password_is_used_for_the_probe_but_never_recorded(flows: Path) -> None:
    engine, runner = engine_with(flows, report("check_outgoing", "auth_wrong_password"))
    session = engine.start({"email": "bob@example.test", "client": "outlook",
                            "outgoing_port": "465", "outgoing_security": "ssl"})
    await talk(session, "cannot send email", "yes")
    assert session.question is not None and session.question.secret
    await session.send("Hunter2-secret")
    assert session.outcome is not None and session.outcome.diagnosis == "auth_wrong_password"
    assert runner.calls[0][0] == "check_outgoing"
    turns = session.transcript().to_dict()["turns"]
    dumped = json.dumps({"turns": turns, "state": session.to_dict()})
    assert "Hunter2-secret" not in dumped
    assert {"role": "user", "text": None, "redacted": True} in turns
    probe_turn = next(t for t in turns if t["role"] == "probe")
    assert "password" not in probe_turn["params"]


async def test_secret_given_in_context_skips_consent_and_reaches_the_runner(flows: Path) -> None:
    seen: list[Mapping[str, str]] = []

    class Spy(RecordedProbeRunner):
        async def run(self, name: str, params: Mapping[str, str],
                      observer: ProbeObserver | None = None, *, call: ProbeCall) -> ProbeReport:
            seen.append(dict(params))
            return report(name, "ok")

    engine = Engine.load(flows, runner=Spy())
    session = engine.start({"message": "cannot send email", "email": "bob@example.test",
                            "client": "outlook", "outgoing_port": "465",
                            "outgoing_security": "ssl", "password": "pw-from-desk"})
    await session.open()
    assert session.question is not None and session.question.slot == "login_ok"
    await session.send("yes")
    assert seen[0]["password"] == "pw-from-desk"
    assert "pw-from-desk" not in json.dumps(session.to_dict())


async def test_unknown_takes_the_unknown_branch_and_finish_reaches_an_outcome(
    flows: Path,
) -> None:
    engine, runner = engine_with(flows, report("check_outgoing", "ok"))
    session = engine.start({"message": "cannot send email"})
    await session.open()
    await session.send("bob@example.test")
    await session.send("outlook")
    reply = await session.send("I don't know")  # the port: `unknown` returns at once
    assert reply.question is not None and reply.question.slot == "login_ok"
    assert "outgoing_port" not in session.slots
    reply = await session.finish()  # "not sure" is never consent: the `no` path
    assert reply.outcome is not None and reply.outcome.status == "resolved"
    assert runner.calls and "password" not in runner.calls[0][1]


async def test_numbered_reprompts_then_a_person_is_offered(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start({"message": "cannot send email"})
    await session.open()
    first = await session.send("purple")
    assert "(1/3)" in first.text and "e-mail address" in first.text
    assert first.question is not None and first.question.slot == "email"
    second = await session.send("banana@")
    assert "(2/3)" in second.text
    third = await session.send("???!!")
    assert "pass you to a person" in third.text
    handed = await session.send("yes")
    assert handed.outcome is not None and handed.outcome.status == "handoff"
    package = handed.messages[-1].handoff
    assert package is not None and package.symptom == "outbox_stuck"


async def test_declining_the_person_goes_back_to_the_question(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start({"message": "cannot send email"})
    await talk(session, "x", "y", "z")
    reply = await session.send("no")
    assert reply.question is not None and reply.question.slot == "email"
    reply = await session.send("bob@example.test")
    assert reply.question is not None and reply.question.slot == "client"


async def test_go_back_re_asks_the_previous_question_and_forgets_its_answer(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start({"message": "cannot send email"})
    await talk(session, "bob@example.test", "outlook")
    assert session.question is not None and session.question.slot == "outgoing_port"
    reply = await session.send("go back")
    assert reply.question is not None and reply.question.slot == "client"
    assert "client" not in session.slots and session.slots["email"] == "bob@example.test"
    reply = await session.send("back")
    assert reply.question is not None and reply.question.slot == "email"
    reply = await session.send("carol@example.test")
    assert reply.question is not None and reply.question.slot == "client"


async def test_start_over_and_talk_to_a_person(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start()
    await talk(session, "cannot send email", "bob@example.test")
    reply = await session.send("start over")
    assert reply.question is not None and reply.question.slot == "message"
    assert session.slots == {} and session.symptom is None
    await session.send("it keeps asking for my password")
    assert session.symptom == "auth_failed"
    reply = await session.send("talk to a person")
    assert reply.outcome is not None and reply.outcome.status == "handoff"
    assert reply.outcome.symptom == "auth_failed"


async def test_a_changed_symptom_mid_flow_is_offered_as_a_switch(flows: Path) -> None:
    engine, _ = engine_with(flows, report("check_incoming", "ok"))
    session = engine.start({"message": "cannot send email"})
    await session.open()
    reply = await session.send("actually it keeps asking for my password")
    assert "The password is rejected" in reply.text
    assert reply.question is not None and reply.question.type == "yesno"
    reply = await session.send("yes")
    assert session.symptom == "auth_failed"
    assert reply.question is not None and reply.question.slot == "incoming_protocol"
    reply = await session.send("2")  # numbers pick choices
    assert reply.outcome is not None and reply.outcome.symptom == "auth_failed"


async def test_clarify_and_not_an_email_problem(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start()
    await session.open()
    reply = await session.send("what is the weather like in Paris")
    assert "does not sound like an e-mail problem" in reply.text
    assert reply.question is not None and reply.question.slot == "message"
    reply = await session.finish()
    assert reply.outcome is not None and reply.outcome.status == "abandoned"


@pytest.mark.parametrize("line", [
    "", "   ", "\x00\x1b[31mred\x07", "🙂🙂🙂", "メールが送れません", "x" * 100_000,
    "DROP TABLE users; --", "{provider.name} {email}", "\ud800",
])
async def test_any_line_gets_a_reply_and_the_session_stays_usable(flows: Path, line: str) -> None:
    engine, _ = engine_with(flows)
    session = engine.start({"message": "cannot send email"})
    await session.open()
    reply = await session.send(line)
    assert reply.messages and reply.question is not None
    if len(line) > 2000:
        assert "first 2000 characters" in reply.text
    reply = await session.send("bob@example.test")
    assert reply.question is not None and reply.question.slot == "client"


async def test_save_and_restore_in_a_fresh_engine_continues(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start({"message": "cannot send email"})
    await talk(session, "bob@example.test", "outlook", "587")
    state = json.loads(json.dumps(session.to_dict()))
    fresh, runner = engine_with(flows, report("check_outgoing", "port_blocked",
                                              working_port="465", working_security="ssl"))
    restored = fresh.restore(state)
    assert restored.question is not None and restored.question.slot == "outgoing_security"
    await restored.send("starttls")
    reply = await restored.send("no")
    assert reply.outcome is not None and reply.outcome.diagnosis == "port_blocked"
    assert restored.turns[: len(session.turns)] == session.turns
    assert runner.calls[0][1]["outgoing_port"] == "587"


async def test_same_inputs_and_probe_results_give_the_same_turns(flows: Path) -> None:
    async def run_once() -> list[dict[str, object]]:
        engine, _ = engine_with(flows, report("check_outgoing", "port_blocked",
                                              working_port="465", working_security="ssl"))
        session = engine.start()
        await talk(session, "my mail is stuck in the outbox", "bob@example.test", "outlook",
                   "I don't know", "no")
        return session.turns

    assert await run_once() == await run_once()


async def test_a_second_message_waits_for_a_running_probe(flows: Path) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    class Slow(RecordedProbeRunner):
        async def run(self, name: str, params: Mapping[str, str],
                      observer: ProbeObserver | None = None, *, call: ProbeCall) -> ProbeReport:
            started.set()
            await release.wait()
            finished.append(name)
            return report(name, "ok")

    engine = Engine.load(flows, runner=Slow())
    session = engine.start({"message": "cannot send email", "email": "bob@example.test",
                            "client": "outlook", "outgoing_port": "465",
                            "outgoing_security": "ssl"})
    await session.open()
    first = asyncio.create_task(session.send("no"))
    await started.wait()
    second = asyncio.create_task(session.send("hello again"))
    await asyncio.sleep(0)
    assert not second.done()
    release.set()
    one, two = await asyncio.gather(first, second)
    assert finished == ["check_outgoing"]
    assert one.outcome is not None and one.outcome.diagnosis == "ok"
    assert "has ended" in two.text


async def test_observer_hears_each_check(flows: Path) -> None:
    events: list[str] = []

    class Listener:
        def check_started(self, probe: str, target: str) -> None:
            events.append(f"start {probe} {target}")

        def check_finished(self, check: Check) -> None:
            events.append(f"end {check.probe} {check.status}")

    engine, _ = engine_with(flows, report("check_outgoing", "ok"))
    session = engine.start({"message": "cannot send email", "email": "bob@example.test",
                            "client": "outlook", "outgoing_port": "465",
                            "outgoing_security": "ssl"})
    await session.open()
    await session.send("no", observer=Listener())
    assert events == ["start tcp smtp.example.test:587", "end tcp ok"]


async def test_step_limit_names_flow_and_node(tmp_path: Path) -> None:
    looping = """\
    id: large_mailbox
    title: Big mailbox
    match: {phrases: ["my mailbox is full"], keywords: {mailbox: 5, full: 5}}
    start: probe_a
    nodes:
      probe_a:
        probe: lookup_provider
        on: {found: spin, not_found: spin}
      spin:
        branch:
          - when: {known: [password]}
            goto: done
          - else: probe_a
      done: {resolve: ok}
    """
    engine, _ = engine_with(write_flows(tmp_path, **{"large_mailbox.yaml": looping}))
    session = engine.start({"message": "my mailbox is full"})
    with pytest.raises(EngineError) as caught:
        await session.open()
    assert caught.value.flow_id == "large_mailbox"
    assert caught.value.node in ("probe_a", "spin")
    assert "without asking the user" in str(caught.value)


async def test_turn_shapes_are_json_for_transcripts(flows: Path) -> None:
    engine, _ = engine_with(flows, report("check_outgoing", "ok"))
    session = engine.start({"message": "cannot send email"})
    await talk(session, "bob@example.test", "outlook", "465", "ssl", "no")
    turns = json.loads(json.dumps(session.transcript().to_dict()["turns"]))
    roles = {t["role"] for t in turns}
    assert roles == {"user", "bot", "probe"}
    for turn in turns:
        if turn["role"] == "bot":
            assert set(turn) == {"role", "text", "kind", "flow", "node"}
            assert turn["kind"] in ("text", "question", "result", "handoff")
        if turn["role"] == "probe":
            assert set(turn) == {"role", "name", "target", "params", "report", "flow", "node",
                                 "vantage", "stack", "login"}
            assert ProbeReport.from_dict(turn["report"]).outcome == "ok"
            assert turn["vantage"] == "local"  # the engine's vantage: this computer
    result = [t for t in turns if t["role"] == "bot" and t["kind"] == "result"]
    assert result[-1]["flow"] == "outbox_stuck" and result[-1]["node"] == "all_good"
    assert [Turn.from_dict(t) for t in turns] == session.turns  # the typed turns round-trip


async def test_subflow_nodes_are_recorded_under_the_subflow(flows: Path) -> None:
    engine, _ = engine_with(flows)
    session = engine.start({"message": "cannot send email"})
    await talk(session, "bob@example.test", "outlook")
    last = session.turns[-1]
    assert (last.flow, last.node) == ("collect_outgoing", "ask_port")


TIMEOUT = """\
id: connection_timeout
title: The server cannot be reached
match: {phrases: ["the connection times out"], keywords: {connection: 6, times: 6}}
start: check
nodes:
  check:
    probe: check_outgoing
    on: {ok: fine, other: where}
  where:
    branch:
      - when: {vantage: server, evidence: port_blocked}
        goto: from_server
      - when: {evidence: [port_blocked, port_closed]}
        goto: blocked
      - else: person
  from_server:
    handoff: "From the help desk's server the port looks blocked; your network may differ."
  blocked: {resolve: port_blocked, say: "Port blocked on {provider.outgoing.host|your server}."}
  fine: {resolve: ok}
  person: {handoff: "A person will look."}
"""


@pytest.mark.parametrize(("vantage", "status"), [("local", "resolved"), ("server", "handoff")])
async def test_vantage_changes_greeting_and_branches(
    tmp_path: Path, vantage: str, status: str,
) -> None:
    folder = write_flows(tmp_path, **{"connection_timeout.yaml": TIMEOUT})
    blocked = report("check_outgoing", "port_blocked", working_port="465",
                     working_security="ssl")
    engine = Engine.load(folder, runner=RecordedProbeRunner([blocked]),
                         vantage=vantage)  # type: ignore[arg-type]
    session = engine.start({"message": "the connection times out"})
    reply = await session.open()
    where = "the help desk's server" if vantage == "server" else "this computer"
    assert f"from {where}" in reply.messages[0].text
    assert reply.outcome is not None and reply.outcome.status == status
    if status == "resolved":
        assert reply.outcome.diagnosis == "port_blocked"
        assert "Port blocked on smtp.example.test." in reply.text


async def test_resolve_without_evidence_records_no_diagnosis(tmp_path: Path) -> None:
    unproven = TIMEOUT.replace("- when: {evidence: [port_blocked, port_closed]}",
                               "- when: {known: [email]}")
    engine, _ = engine_with(write_flows(tmp_path, **{"connection_timeout.yaml": unproven}),
                            report("check_outgoing", "server_unreachable"))
    session = engine.start({"message": "the connection times out", "email": "a@example.test"})
    reply = await session.open()
    assert reply.outcome is not None
    assert (reply.outcome.status, reply.outcome.diagnosis) == ("resolved", None)


async def test_one_machine_per_flow_is_shared_and_holds_no_session(flows: Path) -> None:
    engine, _ = engine_with(flows, *[report("check_outgoing", "ok") for _ in range(50)])
    machine = engine.compiled("outbox_stuck").machine
    for _ in range(50):
        session = engine.start({"message": "cannot send email", "email": "bob@example.test",
                                "client": "outlook", "outgoing_port": "465",
                                "outgoing_security": "ssl"})
        await session.open()
        await session.send("no")
        assert session.outcome is not None and session.outcome.diagnosis == "ok"
    assert engine.compiled("outbox_stuck").machine is machine
    assert machine.models == []  # nothing pinned per session
