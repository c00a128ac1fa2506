"""`deskbot match` as a help-desk script drives it (CONTRACT.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def deskbot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "match", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_one_text_gives_one_json_line() -> None:
    run = deskbot("my", "emails", "are", "stuck", "in", "the", "outbox")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["text"] == "my emails are stuck in the outbox"
    assert data["decision"] == "outbox_stuck"
    assert data["candidates"][0]["id"] == "outbox_stuck"


def test_an_argument_that_is_not_utf8_still_gives_a_valid_utf8_json_line() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "match", b"mail \xff stuck in the outbox"],
        capture_output=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout.decode("utf-8"))
    assert data["text"] == "mail \ufffd stuck in the outbox"
    assert data["decision"] == "outbox_stuck"


def test_an_ascii_only_output_and_a_terminals_control_sequences() -> None:
    """Where stdout holds only ASCII the JSON escapes what it cannot hold (no traceback); a
    control sequence pasted with a line ("\\x1b[K") is no word of it."""
    run = subprocess.run(
        [sys.executable, "-m", "bot", "match", "café: my mail won't\x1b[K send"],
        capture_output=True, timeout=60, check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout.decode("ascii"))
    assert data["text"] == "café: my mail won't send"
    assert data["decision"] == "outbox_stuck"


def test_stdin_gives_one_line_per_utterance_in_order_skipping_blanks() -> None:
    stdin = "cant send mail\n\n   \nwhat's the weather like\nemail problem\n"
    first = deskbot(stdin=stdin)
    assert first.returncode == 0, first.stderr
    results = [json.loads(line) for line in first.stdout.splitlines()]
    assert [r["text"] for r in results] == [
        "cant send mail",
        "what's the weather like",
        "email problem",
    ]
    assert [r["decision"] for r in results] == ["outbox_stuck", "none", "clarify"]
    assert deskbot(stdin=stdin).stdout == first.stdout  # deterministic across processes


def test_explain_names_the_words_that_decided() -> None:
    run = deskbot("--explain", "autentication failed")
    assert run.returncode == 0, run.stderr
    first, *explanation = run.stdout.splitlines()
    assert json.loads(first)["decision"] == "auth_failed"
    text = "\n".join(explanation)
    assert "authentication fail" in text  # the repaired words
    assert re.search(r"auth_failed: evidence [0-9.]+; terms [^;]*authentication \+[0-9.]+", text)
    assert "closest example" in text


def test_explain_says_a_clarify_comes_from_two_troubles_told() -> None:
    run = deskbot("--explain", "my mail bounces and also thunderbird warns about a certificate")
    assert run.returncode == 0, run.stderr
    first, *explanation = run.stdout.splitlines()
    assert json.loads(first)["decision"] == "clarify"
    assert ("  two troubles told (which one?): outgoing_rejected, certificate_warning"
            in explanation or "  two troubles told (which one?): certificate_warning, "
            "outgoing_rejected" in explanation)


def test_eval_prints_accuracy_per_label_and_confusions(tmp_path: Path) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text(
        "- {text: 'my outbox is full of unsent mail', expect: outbox_stuck}\n"
        "- {text: 'relay access denied', expect: outgoing_rejected}\n"
        "- {text: 'tell me a joke', expect: none}\n"
        "- {text: 'tell me a joke', expect: auth_failed}\n",
        encoding="utf-8",
    )
    run = deskbot("--eval", str(labelled))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "outbox_stuck" in out and "1/1" in out
    assert "auth_failed" in out and "0/1" in out
    assert "overall" in out and "3/4" in out and "75.0%" in out
    assert "auth_failed -> none: 'tell me a joke'" in out


def test_unreadable_eval_file_is_a_one_line_error(tmp_path: Path) -> None:
    run = deskbot("--eval", str(tmp_path / "missing.yaml"))
    assert run.returncode != 0
    assert "missing.yaml" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_bad_eval_set_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    """Broken YAML (with its line), a label that is no decision (with the valid ones), a
    text that is not a string, an empty set, a file that is not text: one line, exit 2."""
    cases = {
        "broken.yaml": ("- {text: 'x', expect: [unclosed\n", r"broken\.yaml:2: not valid YAML"),
        "label.yaml": ("- {text: 'mail stuck', expect: outbox}\n",
                       r"entry 1: 'outbox' is not a decision; use one of .*outbox_stuck"),
        "number.yaml": ("- {text: 123, expect: none}\n", r"entry 1: 'text' and 'expect' must"),
        "empty.yaml": ("[]\n", r"expected a non-empty list"),
        "tag.yaml": ("- !!python/object:os.system {text: x}\n", r"not valid YAML"),
        "blank.yaml": ("- {text: '  ', expect: none}\n", r"entry 1: .*the text not empty"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        run = deskbot("--eval", str(tmp_path / name))
        assert run.returncode == 2, name
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
        assert re.search(message, run.stderr), run.stderr
    # a pipe or /dev/zero would be read forever: only a regular file is read
    for special in (tmp_path, Path("/dev/zero")):
        run = deskbot("--eval", str(special))
        assert (run.returncode, run.stderr.strip()) == (
            2, f"deskbot match: {special}: not a regular file")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00\xd7garbage")
    run = deskbot("--eval", str(tmp_path / "binary.yaml"))
    assert (run.returncode, run.stderr.strip()) == (
        2, f"deskbot match: cannot read {tmp_path / 'binary.yaml'}: not UTF-8 text")


def test_a_text_with_eval_or_cv_is_refused_not_ignored(tmp_path: Path) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text("- {text: 'relay access denied', expect: outgoing_rejected}\n",
                        encoding="utf-8")
    for args in (("--eval", str(labelled), "mail stuck"), ("--cv", "5", "mail stuck"),
                 ("--eval", str(labelled), "--explain")):
        run = deskbot(*args)
        assert (run.returncode, run.stderr.strip()) == (
            2, "deskbot match: give a text (and --explain) or --eval/--cv, not both")


def test_a_broken_match_block_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    """A help desk's own flow, complete but for its match block (--flows overlays)."""
    (tmp_path / "_symptoms.yaml").write_text(
        "symptoms:\n  autoreply_broken: {summary: The auto-reply does not go out.}\n",
        encoding="utf-8",
    )
    (tmp_path / "autoreply_broken.yaml").write_text(
        "id: autoreply_broken\ntitle: Auto-reply\nmatch: {keywords: {outbox: high}}\n"
        "start: todo\nnodes:\n  todo: {handoff: Not written yet.}\n", encoding="utf-8"
    )
    run = deskbot("--flows", str(tmp_path), "cant send")
    assert run.returncode == 2
    assert "autoreply_broken.yaml:3:" in run.stderr and "weight must be a number" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def write_two_flows(folder: Path) -> None:
    """Two small flows of a help desk's own, replacing the bundled ones of the same id
    (`--flows` lays the folder over the bundled flows)."""
    outbox = ["mail stuck in the outbox", "cannot send mail", "sending fails", "outbox is full",
              "my messages never go out", "send button does nothing"]
    quota = ["mailbox full", "over my storage quota", "mailbox is over its limit",
             "quota exceeded", "no space left in my mailbox", "storage almost full"]
    for flow_id, examples in (("outbox_stuck", outbox), ("large_mailbox", quota)):
        lines = "".join(f"    - {e!r}\n" for e in examples)
        (folder / f"{flow_id}.yaml").write_text(
            f"id: {flow_id}\ntitle: {flow_id}\nmatch:\n  examples:\n{lines}"
            "start: desk\nnodes:\n  desk: {handoff: Our help desk takes it from here.}\n",
            encoding="utf-8",
        )


def test_cv_reports_each_flow_and_the_confusions(tmp_path: Path) -> None:
    write_two_flows(tmp_path)
    run = deskbot("--flows", str(tmp_path), "--cv", "3")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert re.match(r"3-fold cross-validation over \d+ examples of 10 flows", out)
    assert re.search(r"^large_mailbox +\d+/6 ", out, re.MULTILINE)
    assert re.search(r"^outbox_stuck +\d+/6 ", out, re.MULTILINE)
    assert re.search(r"^overall +\d+/\d+ ", out, re.MULTILINE)
    assert deskbot("--flows", str(tmp_path), "--cv", "3").stdout == out  # deterministic


def test_cv_needs_two_folds(tmp_path: Path) -> None:
    write_two_flows(tmp_path)
    for folds in ("1", "1000000"):  # a million folds would run for hours, mostly empty
        run = deskbot("--flows", str(tmp_path), "--cv", folds)
        assert run.returncode == 2
        assert re.fullmatch(rf"deskbot match: --cv needs 2 to \d+ folds \(the examples of the "
                            rf"largest flow\), not {folds}", run.stderr.strip()), run.stderr


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`deskbot match --cv 5 | head -1`: the reader closes the pipe after one line."""
    reader = subprocess.Popen(
        ["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert reader.stdin is not None
    writer = subprocess.run(
        [sys.executable, "-m", "bot", "match"],
        input="my mail wont send\n" * 3000,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    reader.stdin.close()
    assert reader.stdout is not None
    first = reader.stdout.read()
    reader.stdout.close()
    reader.wait(timeout=60)
    assert json.loads(first)["decision"] == "outbox_stuck"
    assert "Traceback" not in writer.stderr
    assert writer.stderr == ""
    assert writer.returncode == 141


def test_bytes_that_are_not_utf8_on_stdin_give_valid_utf8_json() -> None:
    """A pasted binary log: the bad byte reads as U+FFFD, so the output stays UTF-8 JSON."""
    run = subprocess.run([sys.executable, "-m", "bot", "match"], input=b"mail \xff send\n",
                         capture_output=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout.decode("utf-8"))
    assert data["text"] == "mail \ufffd send"


def test_a_password_written_into_the_line_is_not_printed() -> None:
    run = deskbot("--explain", "my password is Km01-fakepw and outlook rejects it")
    assert run.returncode == 0, run.stderr
    assert "Km01-fakepw" not in run.stdout
    assert json.loads(run.stdout.splitlines()[0])["decision"] == "auth_failed"
