"""One loader for every command, and a help desk's own folder over the bundled flows.

`deskbot flows check DIR`, `deskbot match --flows DIR`, `deskbot chat --flows DIR` and the
engine read a folder through bot.bundle, so they agree: a broken `_vocabulary.yaml` fails all
of them at the same FILE:LINE, a `.yml` flow is a flow for all of them. The folder adds to or
replaces the bundled flows, client steps and vocabulary by name, and may declare its own
symptom ids and diagnosis codes (docs/flow-language.md, "Your own flows").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot import bundle
from bot.engine import Engine
from bot.errors import FlowError
from bot.flows.bundled import default_flows_dir, flow_folders

DESKBOT = [sys.executable, "-m", "bot"]
SYMPTOMS = """\
    symptoms:
      autoreply_broken:
        summary: The out-of-office auto-reply does not go out.
    """
DIAGNOSES = """\
    diagnoses:
      autoreply_off:
        evidence: the customer says the auto-reply rule is switched off
        basis: reply
    """
AUTOREPLY = """\
    id: autoreply_broken
    title: The out-of-office auto-reply does not go out
    match:
      examples:
        - "my out of office reply is not working"
        - "the vacation responder does not answer people"
        - "autoreply not sent while I was away"
        - "people don't get my out of office message"
        - "my away message isn't going out"
        - "auto reply stopped working"
        - "vacation responder is broken"
        - "how do I fix my out of office"
    slots: [autoreply_on]
    start: ask_rule
    nodes:
      ask_rule:
        ask: autoreply_on
        type: yesno
        prompt: Is the auto-reply switched on in your webmail's settings?
        on: {yes: colleague, no: switch_on}
      switch_on:
        resolve: autoreply_off
        say: Switch the auto-reply on in your webmail's settings; it then answers at once.
      colleague:
        handoff: A colleague will look at the server's auto-reply for you.
    """


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DESKBOT, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def bundled_match_block(flow_file: str) -> str:
    """The `match:` block of a bundled flow, verbatim (whatever keys the matcher uses)."""
    text = (default_flows_dir() / flow_file).read_text(encoding="utf-8")
    block = re.search(r"^match:\n(?:(?:  .*)?\n)+", text, re.MULTILINE)
    assert block is not None
    return block.group(0)


@pytest.fixture
def broken_vocabulary(tmp_path: Path) -> Path:
    """A help desk's vocabulary whose synonym is not a list (line 3)."""
    return write(tmp_path / "desk", **{"_vocabulary.yaml": """\
        synonyms:
          autoreply:
            auto reply
        """})


def test_flows_check_catches_a_broken_vocabulary(broken_vocabulary: Path) -> None:
    done = run("flows", "check", str(broken_vocabulary))
    assert done.returncode == 1
    assert done.stdout.startswith(f"{broken_vocabulary / '_vocabulary.yaml'}:2: ")
    assert "synonyms.autoreply: expected a list" in done.stdout


@pytest.mark.parametrize("command", [["match", "cant send"], ["chat"]])
def test_match_and_chat_refuse_the_same_vocabulary_at_the_same_line(
    broken_vocabulary: Path, command: list[str]
) -> None:
    done = run(*command, "--flows", str(broken_vocabulary))
    assert done.returncode == 2
    assert f"{broken_vocabulary / '_vocabulary.yaml'}:2: " in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bundled_like_folder_with_a_broken_vocabulary_fails_everywhere(tmp_path: Path) -> None:
    """The case that used to get "10 flows OK" while `chat` refused to start."""
    folder = tmp_path / "flows"
    folder.mkdir()
    for file in default_flows_dir().glob("*.yaml"):
        (folder / file.name).write_bytes(file.read_bytes())
    vocabulary = (folder / "_vocabulary.yaml").read_text(encoding="utf-8")
    broken = vocabulary.replace("clarify_fallback: [", "clarify_fallback: outbox_stuck\n_was: [")
    (folder / "_vocabulary.yaml").write_text(broken, encoding="utf-8")
    problems = bundle.check([folder])
    assert problems and problems[0].file.endswith("_vocabulary.yaml")
    with pytest.raises(FlowError):
        Engine.load(folder)
    assert run("flows", "check", str(folder)).returncode == 1
    assert run("match", "--flows", str(folder), "cant send").returncode == 2


def test_a_yml_flow_is_a_flow_for_check_match_and_engine(tmp_path: Path) -> None:
    desk = write(tmp_path / "desk", **{"_symptoms.yaml": SYMPTOMS,
                                       "_diagnoses.yaml": DIAGNOSES,
                                       "autoreply_broken.yml": AUTOREPLY})
    check = run("flows", "check", str(desk))
    assert check.returncode == 0, check.stdout
    bundled = len(bundle.load(flow_folders()).flows)
    assert f"{bundled + 1} flows OK" in check.stderr
    flowset = bundle.load(flow_folders(desk))
    assert "autoreply_broken" in bundle.matcher_for(flowset).ids
    engine = Engine.load(flow_folders(desk))
    assert "autoreply_broken" in engine.flows and "outbox_stuck" in engine.flows


async def test_own_flow_runs_to_its_own_diagnosis(tmp_path: Path) -> None:
    desk = write(tmp_path / "desk", **{"_symptoms.yaml": SYMPTOMS,
                                       "_diagnoses.yaml": DIAGNOSES,
                                       "autoreply_broken.yaml": AUTOREPLY})
    engine = Engine.load(flow_folders(desk))
    session = engine.start()
    await session.open()
    reply = await session.send("the vacation responder is not working")
    assert "switched on" in " ".join(m.text for m in reply.messages)
    reply = await session.send("no")
    assert reply.outcome is not None
    assert (reply.outcome.symptom, reply.outcome.diagnosis) == ("autoreply_broken",
                                                               "autoreply_off")
    assert "Switch the auto-reply on" in " ".join(m.text for m in reply.messages)
    # CONTRACT.md: basis is null only without a diagnosis; the desk declared what establishes it
    assert reply.outcome.basis == "reply"
    assert session.transcript().to_dict()["outcome"]["basis"] == "reply"


def test_a_desks_own_code_must_say_what_establishes_it(tmp_path: Path) -> None:
    desk = write(tmp_path / "desk", **{
        "_symptoms.yaml": SYMPTOMS,
        "autoreply_broken.yaml": AUTOREPLY,
        "_diagnoses.yaml": """\
            diagnoses:
              autoreply_off:
                evidence: the customer says the auto-reply rule is switched off
              rule_missing:
                evidence: no auto-reply rule exists
                basis: hunch
              rule_expired:
                evidence: the rule's end date has passed
                basis: catalogue
            """,
    })
    problems = [str(p) for p in bundle.check(flow_folders(desk))]
    label = str(desk / "_diagnoses.yaml")
    assert (f"{label}:2: 'autoreply_off' needs `basis:` saying what establishes it: probe, "
            "reply, catalogue") in problems
    assert f"{label}:6: 'rule_missing': basis 'hunch' is not one of probe, reply, catalogue" \
        in problems
    assert not [p for p in problems if "rule_expired" in p]


def test_a_file_of_the_same_name_replaces_the_bundled_flow(tmp_path: Path) -> None:
    replacement = (
        "id: outbox_stuck\ntitle: Mail will not send (our own flow)\n"
        + bundled_match_block("outbox_stuck.yaml")
        + "start: desk\nnodes:\n  desk:\n    handoff: Please call our help desk on 555-0100.\n"
    )
    desk = write(tmp_path / "desk", **{"outbox_stuck.yaml": replacement})
    done = run("chat", "--flows", str(desk), stdin="my emails are stuck in the outbox\n")
    assert done.returncode == 0, done.stderr
    assert "Please call our help desk on 555-0100." in done.stdout
    assert "[outcome: handoff, symptom outbox_stuck" in done.stdout
    flowset = bundle.load(flow_folders(desk))
    assert flowset.flows["outbox_stuck"].file.endswith("desk/outbox_stuck.yaml")
    assert "auth_failed" in flowset.flows  # the rest of the bundled flows stay


def test_client_steps_and_vocabulary_merge_by_name(tmp_path: Path) -> None:
    desk = write(tmp_path / "desk", **{
        "_clients.yaml": """\
            aliases:
              our mail: ourmail
            ourmail:
              name: OurMail
              password: Open OurMail > Settings > Password.
            """,
        "_vocabulary.yaml": """\
            synonyms:
              outbox: [out tray]
            """,
    })
    flowset = bundle.load(flow_folders(desk))
    bundled = bundle.load(flow_folders())
    assert flowset.clients.resolve("our mail app") == "ourmail"
    assert flowset.clients.text_for("ourmail", "password").startswith("Open OurMail")
    assert flowset.clients.text_for("outlook", "password") == bundled.clients.text_for(
        "outlook", "password")
    assert flowset.vocabulary["synonyms"]["outbox"] == ["out tray"]
    assert set(bundled.vocabulary["synonyms"]) == set(flowset.vocabulary["synonyms"])
    matcher = bundle.matcher_for(flowset)
    assert matcher.match("my mail is stuck in the out tray").decision == "outbox_stuck"


def test_undeclared_ids_and_bad_declarations_are_file_line_problems(tmp_path: Path) -> None:
    desk = write(tmp_path / "desk", **{
        "autoreply_broken.yaml": AUTOREPLY,
        "_diagnoses.yaml": """\
            diagnoses:
              port_blocked: {evidence: already a shared code}
              Bad-Code: {evidence: not snake case}
              no_text: {}
              typo_field: {evidence: a field name misspelt, basis: probe, bassis: reply}
            """,
    })
    problems = [str(p) for p in bundle.check(flow_folders(desk))]
    label = str(desk / "_diagnoses.yaml")
    taken = "'port_blocked' is already a known diagnosis code; pick another id"
    assert f"{label}:2: {taken}" in problems
    assert any(p.startswith(f"{label}:3: 'Bad-Code' is not a valid id") for p in problems)
    assert f"{label}:4: 'no_text' needs `evidence:` text" in problems
    assert f"{label}:5: 'typo_field': unknown field(s) bassis; known: basis, evidence" \
        in problems
    flow = str(desk / "autoreply_broken.yaml")
    assert any(p.startswith(f"{flow}:1: unknown symptom id 'autoreply_broken'") for p in problems)
    assert f"{flow}:22: node 'switch_on': unknown diagnosis code 'autoreply_off'" in problems


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    done = run("match", "--flows", str(tmp_path / "nowhere"), "cant send")
    assert done.returncode == 2
    assert "nowhere:1: not a directory of flow files" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


async def test_serve_answers_with_the_help_desks_own_flow(tmp_path: Path) -> None:
    """`deskbot serve --flows DIR` builds its engine through the same loader."""
    httpx = pytest.importorskip("httpx")
    from bot.config import Config
    from bot.interfaces.http import create_app
    from bot.probes.runners import RecordedProbeRunner

    desk = write(tmp_path / "desk", **{"_symptoms.yaml": SYMPTOMS,
                                       "_diagnoses.yaml": DIAGNOSES,
                                       "autoreply_broken.yaml": AUTOREPLY})
    config_file = tmp_path / "serve.toml"
    config_file.write_text('[serve]\nsqlite_path = "sessions.db"\n')
    app = create_app(Config.load(config_file, serve_mode=True), flows_dir=desk,
                     runner=RecordedProbeRunner())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://deskbot") as client:
        created = await client.post("/v1/sessions", json={})
        assert created.status_code == 201
        url = f"/v1/sessions/{created.json()['id']}/messages"
        first = await client.post(url, json={"text": "the vacation responder is not working"})
        assert "switched on" in json.dumps(first.json())
        last = await client.post(url, json={"text": "no"})
    assert last.json()["outcome"]["diagnosis"] == "autoreply_off"
