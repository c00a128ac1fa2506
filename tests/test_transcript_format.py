"""The transcript file: round trip, atomic writes, secrets scrubbed, clear errors on bad files."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from bot.errors import TranscriptError
from bot.transcripts import (
    FORMAT,
    Outcome,
    Transcript,
    Turn,
    find_transcripts,
    read_transcript,
    transcript_from_session,
    write_transcript,
)

SECRET = "Tr0ub4dor&3-format"

TURNS: list[dict[str, Any]] = [
    {"role": "bot", "text": "Hi! What is wrong?", "kind": "question", "flow": None, "node": None},
    {"role": "user", "text": "my mail is stuck in the outbox — ünïcode ✉"},
    {"role": "bot", "text": "What is your password?", "kind": "question",
     "flow": "outbox_stuck", "node": "ask_password"},
    {"role": "user", "text": None, "redacted": True},
    {"role": "probe", "name": "check_outgoing", "target": "smtp.example.test:587",
     "params": {"email": "me@example.test"},
     "report": {"name": "check_outgoing", "target": "smtp.example.test:587",
                "outcome": "port_blocked", "checks": [], "diagnoses": ["port_blocked"],
                "facts": {}, "notes": [], "provider": None},
     "flow": "outbox_stuck", "node": "probe", "vantage": "local", "stack": [],
     "login": False},
    {"role": "bot", "text": "Port 25 is blocked.", "kind": "result",
     "flow": "outbox_stuck", "node": "fix_port_blocked"},
]
OUTCOME = Outcome("resolved", "outbox_stuck", "port_blocked", "probe")


@dataclass
class _Session:
    """What the writer reads from an engine session: its transcript and the secrets it holds."""

    turns: list[Turn]
    outcome: Outcome | None
    context: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()

    def transcript(self) -> Transcript:
        return Transcript(turns=tuple(self.turns), outcome=self.outcome or Outcome("incomplete"),
                          flows_hash="abc123", deskbot="0.1.0", context=dict(self.context))

    def held_secrets(self) -> tuple[str, ...]:
        return self.secrets


def _session(secrets: tuple[str, ...] = (), **context: str) -> _Session:
    return _Session([Turn.from_dict(t) for t in TURNS], OUTCOME, dict(context), secrets)


def test_round_trip_keeps_every_turn_and_the_outcome(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.json", _session(email="me@example.test"))
    loaded = read_transcript(path)
    assert loaded.format == FORMAT
    assert [t.to_dict() for t in loaded.turns] == TURNS
    assert loaded.outcome == OUTCOME
    assert loaded.flows_hash == "abc123"
    assert loaded.deskbot  # the version that wrote it
    assert loaded.context == {"email": "me@example.test"}
    assert loaded.created.endswith("Z")


def test_file_is_pretty_utf8_json_with_the_contract_keys(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.json", _session())
    text = path.read_text(encoding="utf-8")
    assert "ünïcode ✉" in text  # readable, not \u escapes
    assert text.count("\n") > 20  # indented, one field a line
    data = json.loads(text)
    assert data["format"] == 1
    assert data["outcome"] == {"status": "resolved", "symptom": "outbox_stuck",
                               "diagnosis": "port_blocked", "basis": "probe"}
    assert all(t["role"] in {"user", "bot", "probe"} for t in data["turns"])
    assert [t["vantage"] for t in data["turns"] if t["role"] == "probe"] == ["local"]


def test_password_from_context_and_turns_never_reaches_disk(tmp_path: Path) -> None:
    session = _session((SECRET,), email="me@example.test")
    # a careless turn that echoes the secret: the final scrub must still catch it
    session.turns.append(Turn.bot(f"testing login with {SECRET} now", "text", "outbox_stuck",
                                  "x"))
    session.turns[4] = replace(session.turns[4], params={"email": "me@example.test",
                                                         "password": SECRET})
    path = write_transcript(tmp_path / "t.json", session)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    loaded = read_transcript(path)
    assert "password" not in loaded.turns[4].params


def test_explicit_secrets_are_scrubbed_from_a_transcript_object(tmp_path: Path) -> None:
    turns = (Turn.user(SECRET),)
    path = write_transcript(tmp_path / "t.json", Transcript(turns=turns), secrets=[SECRET])
    assert SECRET not in path.read_text(encoding="utf-8")


def test_write_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "t.json"
    write_transcript(target, _session())
    before = target.read_text(encoding="utf-8")
    broken = Transcript(turns=(Turn.user(object()),))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        write_transcript(target, broken)
    assert target.read_text(encoding="utf-8") == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_write_into_missing_folder_creates_it(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "a" / "b" / "t.json", _session())
    assert read_transcript(path).outcome.status == "resolved"


def test_transcript_from_session_without_outcome_is_incomplete() -> None:
    session = _Session([Turn.from_dict(t) for t in TURNS[:2]], None)
    transcript = transcript_from_session(session)
    assert transcript.outcome.status == "incomplete"
    assert transcript.to_dict()["outcome"] == {
        "status": "incomplete", "symptom": None, "diagnosis": None, "basis": None}


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "bad.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": 1, "turns": [{"role": "user", "text": "hi"}', "truncated"),
        ('{"format": 1, "turns": [}, "outcome": null}', "corrupt transcript"),
        ("[1, 2, 3]", "expected a JSON object, found list"),
        ('{"turns": []}', "no 'format' field"),
        ('{"format": 2, "turns": []}', "format 2 is newer than this deskbot reads"),
        ('{"format": "one", "turns": []}', "'format' must be a positive integer"),
        ('{"format": 1, "turns": [{"role": "robot"}]}', "turn 1 must be an object with role"),
        ('{"format": 1, "turns": [{"role": "probe", "name": "x"}]}', "no recorded 'report'"),
        ('{"format": 1, "turns": [{"role": "probe", "name": "x", "report": {"outcome": "ok"}}]}',
         "its 'report' lacks the field 'name'"),
        ('{"format": 1, "turns": [{"role": "probe", "name": "x", "report": '
         '{"name": "x", "outcome": "ok", "checks": null}}]}', "has the wrong shape"),
        ('{"format": 1, "turns": [], "outcome": {"status": "won"}}', "'outcome' must be"),
        ('{"format": 1, "turns": [], "outcome": {"status": "resolved", "basis": "gut"}}',
         "outcome 'basis' must be"),
        ("", "empty file"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_reader_rejects_bad_files_with_a_clear_message(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)  # says which file


def test_truncated_real_transcript_is_reported_as_truncated(tmp_path: Path) -> None:
    path = write_transcript(tmp_path / "t.json", _session())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(TranscriptError, match="truncated"):
        read_transcript(path)


def test_find_transcripts_walks_folders_and_refuses_missing_paths(tmp_path: Path) -> None:
    write_transcript(tmp_path / "b" / "2.json", _session())
    write_transcript(tmp_path / "a" / "1.json", _session())
    (tmp_path / "notes.txt").write_text("not a transcript", encoding="utf-8")
    found = find_transcripts([tmp_path])
    assert [p.name for p in found] == ["1.json", "2.json"]
    with pytest.raises(TranscriptError, match="no such transcript"):
        find_transcripts([tmp_path / "missing"])


def test_transcript_served_without_writing_is_scrubbed_too() -> None:
    # The HTTP service returns transcript_from_session(...).to_dict() straight to the client.
    session = _session((SECRET,), email="me@example.test")
    session.turns.append(Turn.bot(f"your password {SECRET} works", "text", "outbox_stuck", "x"))
    document = json.dumps(transcript_from_session(session).to_dict())
    assert SECRET not in document
    assert "your password [redacted] works" in document


def test_a_failed_rename_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write_transcript(tmp_path / "t.json", _session())
    before = target.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.transcripts.writer.os.replace", crash)
    with pytest.raises(TranscriptError, match="No space left on device"):
        write_transcript(target, _session(email="new@example.test"))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root")
def test_a_device_target_is_written_in_place_never_replaced(tmp_path: Path) -> None:
    """`--transcript /dev/null` must not rename a file over the device node (as root it would
    replace /dev/null for the whole machine); a node like it in tmp_path stands in for it."""
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    write_transcript(device, _session())
    assert device.is_char_device()
    assert not [p for p in tmp_path.iterdir() if p.name != "null"]  # no temp file left behind
