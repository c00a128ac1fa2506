"""The matcher is generic: knowledge lives in flow files and the shared vocabulary."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.interfaces.cmd_match import default_flows_dir
from bot.matcher import Matcher, MatchSpec, Vocabulary

AUTOREPLY_FLOW = """\
id: autoreply_broken
title: "The out-of-office auto-reply does not go out"
match:
  phrases:
    - "my out of office reply is not working"
    - "the vacation responder does not answer people"
  keywords:
    out of office: 4.5
    autoreply: 4.5
    vacation responder: 4.5
    vacation: 1.5
start: todo
nodes:
  todo: {handoff: "Not written yet."}
"""


@pytest.fixture
def flows_with_an_eleventh(tmp_path: Path) -> Path:
    for file in default_flows_dir().glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    (tmp_path / "autoreply_broken.yaml").write_text(AUTOREPLY_FLOW, encoding="utf-8")
    vocabulary = yaml.safe_load((tmp_path / "_vocabulary.yaml").read_text(encoding="utf-8"))
    vocabulary["synonyms"]["autoreply"] = ["auto reply", "auto-reply", "automatic reply"]
    (tmp_path / "_vocabulary.yaml").write_text(yaml.safe_dump(vocabulary), encoding="utf-8")
    return tmp_path


def test_an_eleventh_flow_is_matched_without_code_change(flows_with_an_eleventh: Path) -> None:
    matcher = Matcher.from_flows_dir(flows_with_an_eleventh)
    assert "autoreply_broken" in matcher.ids
    # typo, a vocabulary variant, and a word ("vacation") the shared list calls off-topic
    assert matcher.match("my out of ofice auto-reply stopped").decision == "autoreply_broken"
    assert matcher.match("the vacation responder on my email is broken").decision == (
        "autoreply_broken"
    )
    # the ten bundled flows still work beside it
    assert matcher.match("emails stuck in my outbox").decision == "outbox_stuck"


def test_without_the_new_flow_the_same_text_is_not_routed() -> None:
    matcher = Matcher.from_flows_dir(default_flows_dir())
    assert matcher.match("my out of office reply is not working").decision in ("none", "clarify")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"phrases": "cannot send"}, "match.phrases: expected a list"),
        ({"phrases": ["ok", 3]}, "match.phrases[1]"),
        ({"keywords": ["outbox"]}, "match.keywords: expected a mapping"),
        ({"keywords": {"outbox": "high"}}, "match.keywords.outbox: weight must be a number"),
        ({"keywords": {"outbox": 50}}, "outside -10..10"),
        ({"phrase": []}, "unknown key(s) phrase"),
    ],
)
def test_malformed_match_blocks_say_what_is_wrong(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        MatchSpec.from_mapping(raw, title="t")


def test_a_match_block_keeps_its_data() -> None:
    spec = MatchSpec.from_mapping(
        {"phrases": ["mail stuck"], "keywords": {"outbox": 4, "bounce": -2}}, title="Outbox"
    )
    assert spec.title == "Outbox"
    assert spec.phrases == ("mail stuck",)
    assert dict(spec.keywords) == {"outbox": 4.0, "bounce": -2.0}


def test_vocabulary_repairs_spelling_but_leaves_real_words_alone() -> None:
    matcher = Matcher.from_flows_dir(default_flows_dir())
    assert matcher.normalize("I cant recieve e-mails") == ["i", "not", "receive", "mail"]
    assert "certificate" in matcher.normalize("certifcate")
    assert "send" not in matcher.normalize("how much did I spend")
    assert "relay" not in matcher.normalize("a related question")


def test_malformed_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="quote the word"):
        Vocabulary.from_mapping({"synonyms": {"not": [False]}})
    with pytest.raises(ValueError, match=r"synonyms\.mail"):
        Vocabulary.from_mapping({"synonyms": {"mail": "email"}})
    with pytest.raises(ValueError, match=r"offtopic\.bank"):
        Vocabulary.from_mapping({"offtopic": {"bank": "lots"}})
