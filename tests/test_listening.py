"""What the customer types is evidence: stated settings are not asked again, a pasted reply
steers and can stand alone, choices are read in their own words (issue 11's failing inputs).

Every run is a real `deskbot chat` with no network at all (DNS at a dead loopback port), the
situation in which only what the customer said, and the catalogue, can help.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml


def chat(tmp: Path, stdin: str = "", answers: dict[str, str] | None = None
         ) -> tuple[str, dict[str, Any]]:
    config = tmp / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n',
                      encoding="utf-8")
    args = [sys.executable, "-m", "bot", "chat", "--config", str(config),
            "--transcript", str(tmp / "t.json")]
    if answers is not None:
        (tmp / "answers.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
        args += ["--answers", str(tmp / "answers.yaml")]
    run = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout, json.loads((tmp / "t.json").read_text(encoding="utf-8"))


def questions(transcript: dict[str, Any]) -> list[str]:
    return [str(t["text"]) for t in transcript["turns"]
            if t.get("role") == "bot" and t.get("kind") == "question"]


CENTURYLINK = ("Thunderbird on my PC, CenturyLink account. Receiving is fine but sending times "
               "out; outgoing server smtp.centurylink.net, port 25, no encryption.")


def test_given_settings_are_not_asked_and_the_catalogue_answers_when_offline(
        tmp_path: Path) -> None:
    out, transcript = chat(tmp_path, f"{CENTURYLINK}\njohn@centurylink.net\n")
    asked = " ".join(questions(transcript))
    for given in ("Which mail app", "receiving, when sending", "outgoing (SMTP) server",
                  "Which port", "security"):
        assert given not in asked
    assert "Also noticed" in out
    assert "port 25 with no encryption" in out
    assert re.search(r"Outgoing \(SMTP\): server smtp\.centurylink\.net, port 587, "
                     r"security STARTTLS, username john@centurylink\.net", out)


def test_a_pasted_bounce_answers_the_bounce_question(tmp_path: Path) -> None:
    out, transcript = chat(tmp_path, "I got this back: 550 5.7.1 Relaying denied\n"
                                     "ann@example.com\nThunderbird\n")
    assert not any("bounce or error message say" in q for q in questions(transcript))
    assert "Relaying denied" in out


@pytest.mark.parametrize(("first", "answer", "expect"), [
    ("my emails bounce back", "mailbox full", "comes from the recipient's server"),
    ("my emails bounce back", "it says blacklisted", "Shall I test the login?"),
    ("my mail app keeps asking for my password", "when checking for new mail",
     "POP3 or IMAP"),
])
def test_an_answer_in_own_words_is_an_answer_not_a_new_problem(
        tmp_path: Path, first: str, answer: str, expect: str) -> None:
    out, _ = chat(tmp_path, f"{first}\nann@example.com\nThunderbird\n{answer}\n")
    assert "different problem" not in out
    assert expect in out


def test_a_decisive_pasted_reply_stands_alone_when_nothing_can_be_tested(
        tmp_path: Path) -> None:
    message = ("Microsoft 365 on our own domain, bob@acme-widgets.example. Outlook shows: 535 "
               "5.7.139 Authentication unsuccessful, basic authentication is disabled. I tried "
               "my normal password and also an app password, both failed.")
    out, transcript = chat(tmp_path, answers={"message": message})
    assert transcript["outcome"]["diagnosis"] == "auth_oauth_required"
    # nothing was reachable: the diagnosis rests on the pasted reply, and the outcome says so
    assert transcript["outcome"]["basis"] == "reply"
    assert "Your app's error says “535 5.7.139 Authentication unsuccessful" in out
    assert not re.search(r"(create|use|generate|make) an app password", out, re.IGNORECASE)


def test_a_value_named_with_doubt_gets_one_short_confirm_question(tmp_path: Path) -> None:
    _, transcript = chat(tmp_path, "my emails are stuck in the outbox, the outgoing server is "
                                   "smtp.example.com with port 25 or 26\nann@example.com\n"
                                   "Thunderbird\n")
    assert any(q.startswith("You mentioned 25 or 26") for q in questions(transcript))
