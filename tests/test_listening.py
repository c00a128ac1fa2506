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
    """Issue 11, failing input 1: "Thunderbird on my PC, CenturyLink account. Receiving is fine
    but sending times out; outgoing server smtp.centurylink.net, port 25, no encryption." with
    no internet: nothing given is asked again, and CenturyLink's settings are shown."""
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
    """Issue 11, failing input 2: a first line pasting "550 5.7.1 Relaying denied"; the bot
    must not ask what the bounce says."""
    out, transcript = chat(tmp_path, "I got this back: 550 5.7.1 Relaying denied\n"
                                     "ann@example.com\nThunderbird\n")
    assert not any("bounce or error message say" in q for q in questions(transcript))
    assert "Relaying denied" in out


@pytest.mark.parametrize(("first", "answer", "expect"), [
    ("my emails bounce back", "relaying denied", "requires authentication"),
    ("my emails bounce back", "mailbox full", "comes from the recipient's server"),
    ("my emails bounce back", "it says blacklisted", "Shall I test the login?"),
    ("my mail app keeps asking for my password", "when checking for new mail",
     "POP3 or IMAP"),
])
def test_an_answer_in_own_words_is_an_answer_not_a_new_problem(
        tmp_path: Path, first: str, answer: str, expect: str) -> None:
    """Issue 11, failing input 3: at the bounce-kind choice "relaying denied", "it says
    blacklisted", "mailbox full"; at "receiving, sending or both?" "when checking for new
    mail": answers, never a new problem."""
    out, _ = chat(tmp_path, f"{first}\nann@example.com\nThunderbird\n{answer}\n")
    assert "different problem" not in out
    assert expect in out


def test_a_decisive_pasted_reply_stands_alone_when_nothing_can_be_tested(
        tmp_path: Path) -> None:
    """Issue 11, failing input 4: a Microsoft 365 account at its own domain, no DNS, first
    line "... 535 5.7.139 Authentication unsuccessful, basic authentication is disabled ...
    I tried my normal password and also an app password, both failed." → auth_oauth_required
    from the reply itself (basis reply), no app-password advice."""
    message = ("Microsoft 365 on our own domain, bob@acme-widgets.example. Outlook shows: 535 "
               "5.7.139 Authentication unsuccessful, basic authentication is disabled. I tried "
               "my normal password and also an app password, both failed.")
    out, transcript = chat(tmp_path, answers={"message": message})
    assert transcript["outcome"]["diagnosis"] == "auth_oauth_required"
    # nothing was reachable: the diagnosis rests on the pasted reply, and the outcome says so
    assert transcript["outcome"]["basis"] == "reply"
    assert "Your app's error says “535 5.7.139 Authentication unsuccessful" in out
    assert not re.search(r"(create|use|generate|make) an app password", out, re.IGNORECASE)


@pytest.mark.parametrize("first", [
    "Outlook keeps asking for my password when I send",
    "my mail app is asking for my password when checking mail",
    "Thunderbird asks for my password every time I open the app",
])
def test_the_side_in_the_first_line_is_not_asked_again(tmp_path: Path, first: str) -> None:
    """Input "…asking for my password when I send" (and "when checking mail", "when I open the
    app"): the side stated in the line fills the slot; "When does it ask?" is not asked."""
    _, transcript = chat(tmp_path, f"{first}\nann@example.com\nThunderbird\n")
    assert transcript["outcome"]["symptom"] == "auth_failed"
    assert not any("When does it ask" in q for q in questions(transcript))


def test_a_value_named_with_doubt_gets_one_short_confirm_question(tmp_path: Path) -> None:
    _, transcript = chat(tmp_path, "my emails are stuck in the outbox, the outgoing server is "
                                   "smtp.example.com with port 25 or 26\nann@example.com\n"
                                   "Thunderbird\n")
    assert any(q.startswith("You mentioned 25 or 26") for q in questions(transcript))
