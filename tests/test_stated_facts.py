"""What the customer says steers the tests and the fix text (bot/data/stated_facts.yaml).

The rules: never repeat what the customer says they already tried, never tell someone whose
password works to reset it, test first what the customer's statement (or pasted error) points
to, and say back the statement where it shaped the answer. Pure checks of the table and of
`bot.engine.steer`, then whole conversations (`deskbot chat --answers`) against a loopback mail
world (tests/peers: aiosmtpd with a real AUTH exchange, DNS on loopback), sending side only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.steer import Steering
from bot.errors import FlowError
from bot.reading.stated import StatedTable, parse
from tests.peers import MailWorld, WorldOptions

ROOT = Path(__file__).resolve().parent.parent
RESET = ("reset it", "reset your password", "reset the password")
WRONG_PASSWORD_FIX = (
    "The outgoing server refused the password with every username form I tried, so the "
    "password itself is wrong (or was changed). Reset it on Example's website if you are not "
    "sure of it, then enter the new one in your app.\n\nIn Thunderbird:\n1. Open settings.")


def said(*facts: str) -> dict[str, str]:
    return {f"said.{fact}": "yes" for fact in facts}


def test_every_statement_the_reader_finds_has_a_sourced_rule() -> None:
    table = StatedTable.load()
    facts = {r.fact for r in table.rules}
    assert {"webmail_works", "two_step_on", "app_password_tried", "password_changed",
            "wifi_not_mobile", "new_device"} <= facts
    assert all(r.source.startswith("https://") and r.reason and r.said for r in table.rules)


def test_a_malformed_table_is_refused_with_every_problem() -> None:
    data = {"facts": {"no_such_fact": {"reason": "x", "source": "x", "said": "x"},
                      "webmail_works": {"reason": "x", "source": "x", "said": "x",
                                        "first": ["not_a_code"], "never": ["(unclosed"]}}}
    with pytest.raises(FlowError) as caught:
        parse(data, "stated_facts.yaml")
    text = str(caught.value)
    assert "unknown fact id" in text and "not_a_code" in text and "no regex" in text


def test_a_working_webmail_password_is_never_told_to_reset() -> None:
    steering = Steering.of(said("webmail_works"), "auth_failed", None)
    text = steering.shape(WRONG_PASSWORD_FIX, "auth_wrong_password", lambda t: t)
    assert text.startswith("You said it works on webmail, so the password you sign in with "
                           "there is right")
    assert not any(r in text.lower() for r in RESET)
    assert "IMAP/POP access" in text  # what is tested next instead
    assert steering.hypotheses(said("webmail_works"))[0] == "auth_username_format"


def test_an_app_password_already_tried_is_not_the_fix_again() -> None:
    steering = Steering.of(said("app_password_tried"), "auth_failed", "with_2sv")
    fix = ("Gmail does not accept your normal password from mail apps: it wants an app password."
           "\n\nCreate one in the security settings of your e-mail account, then enter it in "
           "your mail app instead of your normal password.")
    text = steering.shape(fix, "auth_app_password_required", lambda t: t)
    assert "already tried an app password" in text
    assert "Create one" not in text
    assert "Sign in with" in text  # the next step: OAuth, IMAP access


def test_a_changed_password_puts_updating_the_app_before_anything_else() -> None:
    steering = Steering.of(said("password_changed"), "auth_failed", None)
    text = steering.shape(WRONG_PASSWORD_FIX, "auth_wrong_password", lambda t: t)
    first = text.split("\n\n", 1)[0]
    assert "changed your password" in first and "First update the password saved" in first
    assert not any(r in text.lower() for r in RESET)


def test_two_step_verification_counts_only_where_the_provider_ties_app_passwords_to_it() -> None:
    slots = said("two_step_on")
    assert Steering.of(slots, "auth_failed", "with_2sv").hypotheses(slots)[0] == \
        "auth_app_password_required"
    assert Steering.of(slots, "auth_failed", None).hypotheses(slots) == ()


def test_wifi_but_not_mobile_tests_the_network_path_first() -> None:
    slots = said("wifi_not_mobile")
    assert Steering.of(slots, "outbox_stuck", None).hypotheses(slots)[:2] == (
        "port_blocked", "ipv6_path_broken")


def test_a_pasted_errors_hypotheses_come_before_the_statements() -> None:
    slots = {**said("new_device"), "pasted.error": "google_5_7_9_app_password"}
    order = Steering.of(slots, "auth_failed", None).hypotheses(slots)
    assert order[0] == "auth_app_password_required"
    assert order.index("tls_mode_mismatch") > 0


def test_a_statement_that_does_not_bear_on_the_answer_is_not_said() -> None:
    steering = Steering.of(said("new_device"), "outbox_stuck", None)
    fix = "The certificate of smtp.example.test has expired."
    assert steering.shape(fix, "certificate_expired", lambda t: t) == fix


# --------------------------------------------------------------- whole conversations


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    with MailWorld(WorldOptions(dovecot=False)) as running:
        yield running


def chat(world: MailWorld, tmp: Path, message: str, **slots: str) -> tuple[str, dict[str, Any]]:
    answers = {**world.answers(**slots), "message": message, "client": "Thunderbird"}
    for key in [k for k, v in slots.items() if v == ""]:
        answers.pop(key, None)
    (tmp / "answers.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--answers", str(tmp / "answers.yaml"),
         "--config", str(world.config_path), "--transcript", str(tmp / "t.json")],
        input="", capture_output=True, text=True, timeout=90, cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"}, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout, json.loads((tmp / "t.json").read_text(encoding="utf-8"))


def hypotheses_sent(transcript: dict[str, Any]) -> list[str]:
    return [str(t["params"].get("hypotheses", "")) for t in transcript["turns"]
            if t["role"] == "probe"]


def test_webmail_works_and_the_server_refuses_the_password(
        world: MailWorld, tmp_path: Path) -> None:
    """Input: "Thunderbird keeps asking for my password when I send. It works fine on webmail."
    with a password the loopback server refuses: the refusal is proven, but the answer does
    not tell the customer to reset a password that works on webmail."""
    out, transcript = chat(world, tmp_path, "Thunderbird keeps asking for my password when I "
                           "send. It works fine on webmail.", password="not the password")
    assert transcript["outcome"]["diagnosis"] == "auth_wrong_password"
    assert "You said it works on webmail, so the password you sign in with there is right" in out
    assert "the password itself is wrong" not in out  # code and text agree: the server refused
    assert not any(r in out.lower() for r in RESET)


def test_a_pasted_app_password_reply_is_tested_first_and_confirmed(
        world: MailWorld, tmp_path: Path) -> None:
    """Input: "Outlook says 534 5.7.9 Application-specific password required when I send",
    and the server refuses the password: the pasted reply's hypothesis goes to the sweep, which
    reads the refusal as that, and the answer says the test agrees with the pasted error."""
    out, transcript = chat(world, tmp_path, "Outlook says 534 5.7.9 Application-specific "
                           "password required when I send", password="not the password")
    assert transcript["outcome"]["diagnosis"] == "auth_app_password_required"
    assert transcript["outcome"]["basis"] == "probe"
    assert any(h.startswith("auth_app_password_required") for h in hypotheses_sent(transcript))
    assert "the test agrees with your app's error" in out


def test_a_changed_password_when_the_login_works_from_here(
        world: MailWorld, tmp_path: Path) -> None:
    """Input: "I changed my password yesterday and now Thunderbird keeps asking for it when I
    send", with the right password: the server takes it, so the app holds the old one."""
    out, transcript = chat(world, tmp_path, "I changed my password yesterday and now "
                           "Thunderbird keeps asking for it when I send")
    assert transcript["outcome"]["diagnosis"] == "ok"
    assert "You said you changed your password recently" in out
    assert out.index("First update the password saved") < out.index("accepts your username")
