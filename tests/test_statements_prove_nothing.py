"""A statement is evidence for the text, never proof of a code; a pasted reply proves the path.

Found by a fresh tester on the installed wheel:
- "2-step verification is on and I already tried an app password" with a password Dovecot
  refuses (`NO [AUTHENTICATIONFAILED]`, AUTH=PLAIN/LOGIN offered, no XOAUTH2) at a provider
  with no rule was answered auth_oauth_required "from the probe": nothing showed OAuth.
- "2-step verification is on" at such a provider got "the password itself is wrong … Reset
  it" with the statement never said back.
- A pasted "535 5.7.8" (or "works on webmail") with deskbot's own DNS dead got "restart your
  router", although the customer's app had just talked to the server.

Real peers: the loopback mail world (tests/peers: Dovecot IMAP, aiosmtpd, DNS); the dead-DNS
cases use a loopback port where nothing listens (no real name is ever resolved).
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

from bot.engine.listen import hear
from tests.peers import MailWorld, WorldOptions

ROOT = Path(__file__).resolve().parent.parent
DEAD_DNS = '[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 2.0\n'


@pytest.fixture(scope="module")
def world() -> Iterator[MailWorld]:
    with MailWorld(WorldOptions()) as running:
        yield running


def _chat(config: Path, tmp: Path, answers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    (tmp / "answers.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--answers", str(tmp / "answers.yaml"),
         "--config", str(config), "--transcript", str(tmp / "t.json")],
        input="", capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stderr
    return run.stdout, json.loads((tmp / "t.json").read_text(encoding="utf-8"))


def _incoming(world: MailWorld, tmp: Path, message: str) -> tuple[str, dict[str, Any]]:
    """Thunderbird checking mail over IMAPS with a password Dovecot refuses."""
    answers = {k: v for k, v in world.answers(password="not the password").items()
               if not k.startswith("outgoing")}
    return _chat(world.config_path, tmp, {**answers, "message": message})


def test_an_app_password_already_tried_proves_no_oauth(world: MailWorld, tmp_path: Path) -> None:
    out, transcript = _incoming(
        world, tmp_path, "Thunderbird keeps asking for my password when checking mail. 2-step "
        "verification is on and I already tried an app password.")
    assert transcript["outcome"]["diagnosis"] == "auth_wrong_password"  # every form refused
    assert "sign-in window" not in out and "no longer accepts a typed password" not in out
    assert "You said you already tried an app password" in out
    assert "mistyped" in out and "revoked" in out and "IMAP/POP access" in out
    assert "Reset it" not in out


def test_two_step_on_without_a_provider_rule_is_said_and_hedged(
        world: MailWorld, tmp_path: Path) -> None:
    out, transcript = _incoming(world, tmp_path, "Thunderbird keeps asking for my password "
                                "when checking mail. 2-step verification is on.")
    assert transcript["outcome"]["diagnosis"] == "auth_wrong_password"
    assert "You said 2-step verification is on" in out
    assert "does not prove your password is wrong" in out
    assert "the password itself is wrong" not in out and "Reset it" not in out


@pytest.mark.parametrize(("message", "diagnosis", "basis"), [
    ("Thunderbird cannot send from dan@outlook.com: 535 5.7.8 Authentication credentials "
     "invalid", "auth_oauth_required", "catalogue"),
    ("Thunderbird cannot send from dan@hotmail.com, it works on webmail", "auth_oauth_required",
     "catalogue"),
    ("Thunderbird cannot send from dan@gmail.com: 535 5.7.8 Authentication credentials invalid",
     None, None),
])
def test_a_server_reply_proves_the_customers_network_when_our_dns_fails(
        tmp_path: Path, message: str, diagnosis: str | None, basis: str | None) -> None:
    (tmp_path / "dead.toml").write_text(DEAD_DNS, encoding="utf-8")
    out, transcript = _chat(tmp_path / "dead.toml", tmp_path,
                            {"message": message, "client": "Thunderbird"})
    assert transcript["outcome"]["diagnosis"] == diagnosis
    assert transcript["outcome"]["basis"] == basis
    assert "I could not check the server from here" in out
    assert "restart your router" not in out.lower()


def test_without_a_reply_a_dead_dns_is_still_the_customers_network(tmp_path: Path) -> None:
    (tmp_path / "dead.toml").write_text(DEAD_DNS, encoding="utf-8")
    out, transcript = _chat(tmp_path / "dead.toml", tmp_path,
                            {"message": "Thunderbird cannot send from dan@gmail.com",
                             "client": "Thunderbird"})
    assert transcript["outcome"]["diagnosis"] == "dns_unavailable"
    assert "restart your router" in out.lower()


def test_a_refused_port_that_works_on_wifi_is_not_called_closed(tmp_path: Path) -> None:
    """Input: "my mail will not send on my phone, works on wifi, not on mobile data" with the
    app on a port the loopback server refuses: the answer says the statement back and does
    not claim nothing listens there (some operators refuse a blocked port)."""
    with MailWorld(WorldOptions(dovecot=False)) as world:
        answers = {**world.answers(outgoing_port=world.ports["refused"]), "client": "Thunderbird",
                   "message": "my mail will not send on my phone, works on wifi, not on mobile "
                   "data"}
        answers.pop("password")
        out, transcript = _chat(world.config_path, tmp_path, answers)
    assert transcript["outcome"]["diagnosis"] == "port_closed"
    assert "You said it works on Wi-Fi but not on mobile data" in out
    assert "nothing listens there" not in out
    assert f"port {world.ports['submission']}" in out  # the port that answers


def test_the_quoted_reply_ends_where_the_reply_ends() -> None:
    """Input: "Your app's error: 534-5.7.9 Application-specific password required. 2-step
    verification is on": the quote said back is the reply, not the customer's next words."""
    slots: dict[str, str] = {}
    hear(slots, "Thunderbird: 534-5.7.9 Application-specific password required. 2-step "
         "verification is on", {})
    assert slots["pasted.quote"] == "534-5.7.9 Application-specific password required"
    assert slots["said.two_step_on"] == "yes"
