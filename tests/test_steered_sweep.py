"""The sweep tests first what the customer's evidence points to (`Sweep.hypotheses`).

A refused password looks the same whether it is wrong or the provider wants an app password
or OAuth (RFC 4954 535 / IMAP NO); the customer's pasted reply or a statement the provider's
rule makes decisive tells them apart. Real peers: aiosmtpd on loopback (tests/peers), DNS on
loopback; the provider rule is the bundled Gmail one (app password once 2-step verification
is on), applied to the loopback world's server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.catalog.model import Provider, ServerSettings
from bot.catalog.rules import RuleBook
from bot.config import Config
from bot.probes.dns import make_resolver
from bot.probes.policy import TargetPolicy
from bot.probes.sweep import Sweep, SweepResult
from bot.probes.tls import client_context
from tests.conftest import WorldFactory
from tests.peers import MailWorld

ROOT = Path(__file__).resolve().parent.parent


async def _sweep(world: MailWorld, password: str | None, hypotheses: tuple[str, ...],
                 rule_for: str | None = None) -> SweepResult:
    config = Config.load(world.config_path)
    provider = Provider(
        id="example.test", name="Example", domains=("example.test",), source="test",
        incoming=(), outgoing=(ServerSettings("smtp", "smtp.example.test",
                                              world.ports["submission"], "starttls"),))
    rule = RuleBook.load().for_address(rule_for) if rule_for else None
    sweep = Sweep(email=world.email, direction="outgoing", provider=provider, client=None,
                  password=password, resolver=make_resolver(config),
                  ctx=client_context(world.ca_file), timeout=config.timeout,
                  policy=TargetPolicy.from_config(config), rule=rule, hypotheses=hypotheses)
    return await sweep.run()


def _chat(world: MailWorld, tmp: Path, message: str) -> tuple[str, dict[str, Any]]:
    """`deskbot chat --answers` with the world's settings and this first message."""
    answers = {**world.answers(), "client": "Thunderbird", "message": message}
    (tmp / "answers.yaml").write_text(yaml.safe_dump(answers), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--answers", str(tmp / "answers.yaml"),
         "--config", str(world.config_path), "--transcript", str(tmp / "t.json")],
        input="", capture_output=True, text=True, timeout=90, cwd=ROOT, check=False,
        env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stderr
    return run.stdout, json.loads((tmp / "t.json").read_text(encoding="utf-8"))


async def test_two_step_on_at_a_with_2sv_provider_needs_no_login_to_answer(
        mail_world: WorldFactory) -> None:
    """Input: "2-step verification is on" at a Gmail-ruled provider, no password given: the
    servers answer, and the rule with the statement says app password (basis catalogue)."""
    world = mail_world(dovecot=False)
    steered = await _sweep(world, None, ("auth_app_password_required",), "x@gmail.com")
    assert steered.outcome == "auth_app_password_required"
    assert steered.facts["basis"] == "catalogue"
    plain = await _sweep(world, None, (), "x@gmail.com")
    # without the statement nothing says so; only the catalogue's settings were tested (no
    # client settings given), so that is no `ok` either (tests/test_honest_outcomes.py)
    assert plain.outcome == "recommended_ok"


async def test_a_refused_password_reads_as_the_pasted_replys_cause(
        mail_world: WorldFactory) -> None:
    """Input: a pasted 5.7.139 (OAuth required) and a password the server refuses."""
    world = mail_world(dovecot=False)
    oauth = await _sweep(world, "not the password", ("auth_oauth_required",))
    assert oauth.outcome == "auth_oauth_required"
    # a generic "authentication failed" paste lists a wrong password first: no steering
    generic = await _sweep(world, "not the password",
                           ("auth_wrong_password", "auth_app_password_required"))
    assert generic.outcome == "auth_wrong_password"


async def test_a_working_password_is_never_read_as_refused(mail_world: WorldFactory) -> None:
    """Hypotheses choose between readings of a refusal; an accepted login stays `ok`."""
    world = mail_world(dovecot=False)
    result = await _sweep(world, world.password, ("auth_oauth_required",))
    # accepted, not read as refused (the catalogue's settings, no client's: recommended_ok)
    assert result.outcome == "recommended_ok"


def test_an_app_password_already_tried_is_not_advised_again(
        mail_world: WorldFactory, tmp_path: Path) -> None:
    """Input: "Thunderbird keeps asking for my password when I send. I already tried an app
    password." against a server answering 534 5.7.9 (application-specific
    password required): the cause stands, the fix goes to the next steps."""
    world = mail_world(dovecot=False, app_password_required=True)
    out, transcript = _chat(world, tmp_path, "Thunderbird keeps asking for my password when I "
                            "send. I already tried an app password.")
    assert transcript["outcome"]["diagnosis"] == "auth_app_password_required"
    assert "You said you already tried an app password" in out
    assert "Create one" not in out
    assert "Sign in with" in out


def test_the_answer_says_when_the_test_contradicts_the_pasted_reply(
        mail_world: WorldFactory, tmp_path: Path) -> None:
    """Input: "Thunderbird says 535 5.7.8 Authentication credentials invalid when I send",
    while the server's certificate has expired: the pasted reply's hypotheses are tested first,
    the test proves something else, and the answer says the error pointed elsewhere."""
    world = mail_world(dovecot=False, smtp_cert="expired")
    out, transcript = _chat(world, tmp_path, "Thunderbird says 535 5.7.8 Authentication "
                            "credentials invalid when I send")
    assert transcript["outcome"]["diagnosis"] == "certificate_expired"
    sent = [t["params"].get("hypotheses", "") for t in transcript["turns"] if t["role"] == "probe"]
    assert sent and sent[0].startswith("auth_wrong_password")
    assert "pointed elsewhere, but the test shows this" in out


def test_wifi_but_not_mobile_data_points_at_the_network_path(
        mail_world: WorldFactory, tmp_path: Path) -> None:
    """Input: "my mail will not send on my phone, works on wifi but not on mobile data",
    tested from a network where everything passes: the answer names the mobile network's
    path (port block, IPv6), not the account."""
    world = mail_world(dovecot=False)
    out, transcript = _chat(world, tmp_path, "my mail will not send on my phone, works on wifi "
                            "but not on mobile data")
    assert transcript["outcome"]["diagnosis"] == "ok"
    assert "You said it works on Wi-Fi but not on mobile data" in out
    assert "mobile operators often block port 25" in out
    sent = [t["params"].get("hypotheses", "") for t in transcript["turns"] if t["role"] == "probe"]
    assert any(h.startswith("port_blocked,ipv6_path_broken") for h in sent)
