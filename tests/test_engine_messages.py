"""Structured replies: the engine says typed parts; interfaces lay them out without parsing text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine import BotMessage, Engine, Reply
from bot.interfaces.http.serialize import reply_json
from bot.interfaces.plain import render_reply
from bot.probes.runners import RecordedProbeRunner
from tests.test_engine import report, write_flows


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    runner = RecordedProbeRunner([report("check_outgoing", "port_blocked", working_port="465",
                                         working_security="ssl")])
    return Engine.load(write_flows(tmp_path), runner=runner)


def _only(reply: Reply, kind: str) -> BotMessage:
    (message,) = [m for m in reply.messages if m.kind == kind]
    return message


async def _to_the_fix(engine: Engine) -> Reply:
    session = engine.start({"message": "my mail is stuck in the outbox"})
    await session.open()
    for line in ("bob@example.test", "Outlook 2016", "25", "STARTTLS"):
        await session.send(line)
    return await session.send("no")


async def test_a_choice_question_is_its_words_and_typed_choices(engine: Engine) -> None:
    session = engine.start()
    await session.open()
    reply = await session.send("my email is not working")  # the test flows' matcher asks
    asked = _only(reply, "question")
    assert asked.question is not None and asked.question.type == "choice"
    labels = [c.label for c in asked.question.choices]
    assert labels and labels[-1] == "Something else"
    assert asked.body == asked.question.prompt  # the words alone: no numbered list in them
    assert asked.text.splitlines()[1:] == [f"  {n}. {label}" for n, label in
                                           enumerate(labels, 1)]


async def test_a_fix_carries_headline_proof_settings_and_outcome(engine: Engine) -> None:
    reply = await _to_the_fix(engine)
    fix = _only(reply, "result")
    assert fix.outcome == reply.outcome and fix.outcome is not None
    assert fix.headline is not None and fix.headline.diagnosis == "port_blocked"
    assert fix.headline.label == "What's wrong"
    assert [c.diagnosis for c in fix.proof] == ["port_blocked"]
    assert fix.settings and fix.settings[0].port == 465
    assert "The settings to use" not in fix.body and "port 465" in fix.text  # table in text only


async def test_plain_chat_shows_the_headline_then_the_fix_and_the_outcome(
    engine: Engine,
) -> None:
    shown = render_reply(await _to_the_fix(engine))
    assert "\n  [check] check_outgoing: port_blocked\n    fail    tcp smtp.example.test" in shown
    assert "What's wrong: Your network blocks the port your mail app uses.\nPort 25" in shown
    assert shown.endswith("[outcome: resolved, symptom outbox_stuck, diagnosis port_blocked]\n")


async def test_http_messages_keep_kind_and_text_and_add_the_parts(engine: Engine) -> None:
    body = json.loads(json.dumps(reply_json(await _to_the_fix(engine))))
    (fix,) = [m for m in body["messages"] if m["kind"] == "result"]
    assert fix["text"].startswith(fix["body"]) and "The settings to use:" in fix["text"]
    assert fix["headline"] == "Your network blocks the port your mail app uses."
    assert fix["headline_label"] == "What's wrong"
    assert fix["proof"][0]["diagnosis"] == "port_blocked"
    assert fix["settings"][0]["port"] == 465
    assert fix["outcome"] == body["outcome"] == {
        "status": "resolved", "symptom": "outbox_stuck", "diagnosis": "port_blocked",
        "basis": "probe"}
