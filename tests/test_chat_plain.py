"""`deskbot chat` without a terminal (CONTRACT.md): stdin lines, --answers, --transcript, exits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WorldFactory
from tests.test_engine import write_flows


def chat(*args: str, stdin: str | None = None, cwd: Path | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args], input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    return write_flows(folder)


def test_answers_and_no_stdin_run_to_a_proven_diagnosis_against_real_peers(
    mail_world: WorldFactory, flows: Path, tmp_path: Path,
) -> None:
    world = mail_world(dovecot=False)
    answers = world.write_answers(
        message="my mail is stuck in the outbox", client="Outlook 2016",
        outgoing_port=world.ports["filtered"], outgoing_security="starttls",
    )
    transcript = tmp_path / "t.json"
    done = chat("--answers", str(answers), "--config", str(world.config_path),
                "--flows", str(flows), "--transcript", str(transcript))
    assert done.returncode == 0, done.stderr
    assert f"Port {world.ports['filtered']} is blocked" in done.stdout
    assert "\x1b[" not in done.stdout
    document = json.loads(transcript.read_text(encoding="utf-8"))
    assert document["outcome"] == {"status": "resolved", "symptom": "outbox_stuck",
                                   "diagnosis": "port_blocked", "basis": "probe"}
    probe = next(t for t in document["turns"] if t["role"] == "probe")
    assert probe["name"] == "check_outgoing" and probe["report"]["outcome"] == "port_blocked"
    assert probe["vantage"] == "local"  # the chat's probes ran on this computer
    assert world.password not in transcript.read_text(encoding="utf-8")


def test_typed_lines_from_a_pipe_reach_an_outcome(
    mail_world: WorldFactory, flows: Path, tmp_path: Path,
) -> None:
    world = mail_world(dovecot=False)
    transcript = tmp_path / "t.json"
    lines = "\n".join([
        "my mail is stuck in the outbox", world.email, "thunderbird",
        str(world.ports["submission"]), "STARTTLS", "yes", world.password,
    ]) + "\n"
    done = chat("--config", str(world.config_path), "--flows", str(flows),
                "--transcript", str(transcript), stdin=lines)
    assert done.returncode == 0, done.stderr
    assert "Sending works from here." in done.stdout
    document = json.loads(transcript.read_text(encoding="utf-8"))
    assert document["outcome"]["diagnosis"] == "ok"
    assert {"role": "user", "text": None, "redacted": True} in document["turns"]
    assert world.password not in transcript.read_text(encoding="utf-8")
    assert world.smtp.auth_attempts  # the login really was tested


def test_input_ending_early_counts_as_i_dont_know(flows: Path) -> None:
    done = chat("--flows", str(flows), stdin="it keeps asking for my password\n")
    assert done.returncode == 0, done.stderr
    assert "Does your app use POP3 or IMAP?" in done.stdout
    assert "[outcome: " in done.stdout.splitlines()[-1]


def test_two_troubles_and_input_ending_early_start_the_first_offered(
    flows: Path, tmp_path: Path
) -> None:
    """An unanswered "which one?" counts as "I don't know", as an unanswered flow question
    does (CONTRACT.md): the first offered flow runs to an outcome, not "abandoned"."""
    offline = tmp_path / "offline.toml"
    offline.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    done = chat("--config", str(offline), "--flows", str(flows),
                stdin="my outlook keeps asking for my password, and also mails bounce back\n")
    assert done.returncode == 0, done.stderr
    assert "Which of these is closest to your problem?" in done.stdout
    assert "[outcome: abandoned" not in done.stdout
    assert "[outcome: " in done.stdout.splitlines()[-1]


def test_both_at_the_two_troubles_question_takes_them_one_at_a_time(tmp_path: Path) -> None:
    """"both" picks the two troubles the line told: the first runs now, and the customer is
    told to come back for the second. On a vague line's list of usual suspects "both" picks
    nothing."""
    offline = tmp_path / "offline.toml"
    offline.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    done = chat("--config", str(offline),  # the bundled flows
                stdin="my outlook keeps asking for my password, and also mails bounce back\n"
                      "both of them\n")
    assert done.returncode == 0, done.stderr
    assert ("Let's take them one at a time, starting with: The server rejects your password or "
            "login. When we are done, start a new conversation for: Sent mail bounces or is "
            "rejected.") in done.stdout
    assert "Sorry, I didn't understand" not in done.stdout
    assert "What is the e-mail address" in done.stdout
    vague = chat("--config", str(offline), stdin="my email is not working\nboth\n")
    assert "one at a time" not in vague.stdout
    assert "Sorry, I didn't understand" in vague.stdout


def test_which_of_these_is_answered_in_the_customers_own_words(tmp_path: Path) -> None:
    """"receiving" or "the sending one" chooses among the offered flows, though it is too
    little to start a flow as a first line."""
    offline = tmp_path / "offline.toml"
    offline.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    for answer, title in (("receiving", "New mail does not arrive"),
                          ("the sending one", "Mail stays in the Outbox or will not send")):
        done = chat("--config", str(offline), stdin=f"I can't send or receive email\n{answer}\n")
        assert done.returncode == 0, done.stderr
        assert "Which of these is closest to your problem?" in done.stdout
        assert f"Let's look at this: {title}." in done.stdout
        assert "Sorry, I didn't understand" not in done.stdout


def test_a_server_name_answers_can_you_read_me_the_server(tmp_path: Path) -> None:
    """Asked whether they can read the outgoing server, customers type it: that is a yes and
    the server, not another problem ("the right settings to set up an account")."""
    offline = tmp_path / "offline.toml"
    offline.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    done = chat("--config", str(offline),
                stdin="my mail is stuck in the outbox\nme@gmail.com\nthunderbird\nsmtp.gmail.com\n")
    assert done.returncode == 0, done.stderr
    assert "read me its outgoing (SMTP) server?" in done.stdout
    assert "It sounds like a different problem" not in done.stdout
    assert "Which port does it use for outgoing mail" in done.stdout


def test_not_an_email_problem_ends_abandoned(flows: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "t.json"
    done = chat("--flows", str(flows), "--transcript", str(transcript),
                stdin="what's the weather in Paris\n")
    assert done.returncode == 0
    assert "does not sound like an e-mail problem" in done.stdout
    assert json.loads(transcript.read_text())["outcome"]["status"] == "abandoned"


def test_bad_config_is_one_line_on_stderr_and_non_zero(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[probes]\ntimeout = -1\n", encoding="utf-8")
    done = chat("--config", str(config))
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "timeout" in done.stderr


@pytest.mark.parametrize("content", [None, "[not, a, mapping", "pasword: x\n"])
def test_unreadable_answers_are_one_line_errors(tmp_path: Path, content: str | None) -> None:
    answers = tmp_path / "answers.yaml"
    if content is not None:
        answers.write_text(content, encoding="utf-8")
    done = chat("--answers", str(answers))
    assert done.returncode != 0
    assert done.stdout == "" and done.stderr.strip().count("\n") == 0
    assert str(answers) in done.stderr


def test_undecodable_bytes_and_control_characters_never_crash(flows: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "t.json"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--flows", str(flows), "--transcript",
         str(transcript)],
        input=b"\xff\xfe\x00garbage\x1b[2J\nmy mail is stuck in the outbox\n\xc3\n",
        capture_output=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert json.loads(transcript.read_text(encoding="utf-8"))["outcome"]["status"] in (
        "resolved", "handoff")


def test_a_line_in_another_language_is_answered_in_english_with_a_person_offered(
    tmp_path: Path,
) -> None:
    config = tmp_path / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    done = chat("--config", str(config), stdin="no puedo enviar correos desde mi cuenta\nyes\n")
    assert done.returncode == 0, done.stderr
    assert "I can only help in English (Spanish detected)" in done.stdout
    assert "pass you to a person" in done.stdout


def test_after_the_english_only_reply_the_problem_told_in_english_is_heard(
    tmp_path: Path,
) -> None:
    """The line after "I can only help in English" is neither yes nor no: it is the problem
    told again, and starts its flow (it used to be taken as "no" and lost)."""
    config = tmp_path / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    for problem in ("my mail is stuck in the outbox", "I can't send email",
                    "no, my emails are stuck in the outbox"):  # a "no" in it is no answer
        done = chat("--config", str(config), stdin=f"mi correo no envía mensajes\n{problem}\n")
        assert done.returncode == 0, done.stderr
        assert "I can only help in English (Spanish detected)" in done.stdout
        assert "Let's look at this: Mail stays in the Outbox" in done.stdout, problem
        assert "trouble understanding" not in done.stdout


def test_a_greeting_is_asked_for_the_problem_without_a_miss(tmp_path: Path) -> None:
    config = tmp_path / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    done = chat("--config", str(config), stdin="hi\nhello?\nmy mail is stuck in the outbox\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Hello! Tell me what you notice") == 2
    assert "does not sound like an e-mail problem" not in done.stdout
    assert "Let's look at this: Mail stays in the Outbox" in done.stdout
    # only greeting, over and over, leads to the offer of a person as other misses do
    done = chat("--config", str(config), stdin="hi\nhi\nhi\nyes\n")
    assert "Would you like me to pass you to a person?" in done.stdout
    assert "[outcome: handoff" in done.stdout


def test_only_empty_lines_lead_to_the_offer_of_a_person(tmp_path: Path) -> None:
    """A customer who only presses Enter is offered a person after three empty lines, as
    after three lines the bot cannot read (it used to say "I didn't get any text" forever)."""
    config = tmp_path / "offline.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    done = chat("--config", str(config), stdin="\n\n\nyes\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("I didn't get any text.") == 2
    assert "Would you like me to pass you to a person?" in done.stdout
    assert "[outcome: handoff" in done.stdout
