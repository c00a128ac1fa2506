"""A conversation's saved state: one typed ConversationState that survives JSON and old stores."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.engine import ConversationState, Engine, Phase
from bot.errors import EngineError
from bot.flows.bundled import default_flows_dir
from bot.probes.runners import RecordedProbeRunner

VAGUE = "my email is not working"  # the bundled matcher asks which problem this is


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(default_flows_dir(), runner=RecordedProbeRunner([]))


async def _at_clarify(engine: Engine) -> dict[str, Any]:
    session = engine.start()
    await session.open()
    reply = await session.send(VAGUE)
    assert reply.question is not None and reply.question.slot == "symptom"
    assert session.phase is Phase.CLARIFY
    return json.loads(json.dumps(session.to_dict()))


async def test_saved_state_is_typed_json_that_restores_the_same_conversation(
    engine: Engine,
) -> None:
    state = await _at_clarify(engine)
    assert state["version"] == 2 and state["phase"] == "clarify" and state["candidates"]
    restored = engine.restore(state)
    assert restored.state == ConversationState.from_json(state)
    assert restored.to_dict() == state  # nothing lost or added on the way through JSON
    reply = await restored.send("1")  # the first symptom offered
    assert restored.phase is Phase.FLOW and restored.symptom == state["candidates"][0]
    assert reply.question is not None


async def test_a_version_1_state_from_an_older_store_still_continues(engine: Engine) -> None:
    state = await _at_clarify(engine)
    old = {k: v for k, v in state.items()
           if k not in ("candidates", "switch_to", "back_to")}
    old.update(version=1, pending={"candidates": state["candidates"]})
    restored = engine.restore(old)
    await restored.send("1")
    assert restored.symptom == state["candidates"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "saved session has version 99"),
        ({"version": None}, "saved session has version None"),
        ({"phase": "dancing"}, "saved session is malformed"),
        ({"turns": [{"role": "robot"}]}, "saved session is malformed"),
    ],
)
async def test_an_unusable_saved_state_is_refused_with_a_message(
    engine: Engine, change: dict[str, Any], message: str
) -> None:
    state = {**await _at_clarify(engine), **change}
    with pytest.raises(EngineError, match=message):
        engine.restore(state)


async def test_going_back_restores_the_waypoint_of_the_previous_question(engine: Engine) -> None:
    session = engine.start({"message": "my mail is stuck in the outbox"})
    await session.open()
    await session.send("bob@example.com")
    asked = session.question
    await session.send("Thunderbird")
    assert session.slots["client"] == "thunderbird"
    restored = engine.restore(json.loads(json.dumps(session.to_dict())))
    reply = await restored.send("go back")
    assert reply.question == asked and "client" not in restored.slots
