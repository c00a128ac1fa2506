"""The faults of issue 12, each produced by a real peer: Dovecot (tests/peers/dovecot_faults)
and aiosmtpd (tests/peers/smtp), read through the sweep as `deskbot chat` would."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Config
from bot.probes.model import ProbeReport
from bot.probes.runners import LOCAL
from bot.probes.runners.live import LiveProbeRunner
from tests.conftest import WorldFactory
from tests.peers import MailWorld
from tests.peers.dovecot_faults import APPPW, BUSY, FULL


async def _run(world: MailWorld, name: str = "check_outgoing", **slots: Any) -> ProbeReport:
    runner = LiveProbeRunner(Config.load(world.config_path))
    return await runner.run(name, world.answers(**slots), call=LOCAL)


def _fault_imap(world: MailWorld, user: str, protocol: str = "imap") -> dict[str, Any]:
    port = world.ports["faults_imaps" if protocol == "imap" else "faults_pop3s"]
    return {"email": user, "username": user, "incoming_protocol": protocol,
            "incoming_server": "imap.example.test" if protocol == "imap" else "pop.example.test",
            "incoming_port": port, "incoming_security": "ssl"}


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_app_password_reply_on_incoming(mail_world: WorldFactory, protocol: str) -> None:
    world = mail_world(fault_dovecot=True)
    report = await _run(world, "check_incoming", **_fault_imap(world, APPPW, protocol))
    assert report.outcome == "auth_app_password_required"
    assert "Application-specific password required" in report.facts["server_reply"]
    assert "[ALERT]" in report.facts["server_reply"] or "[AUTH]" in report.facts["server_reply"]


async def test_app_password_reply_on_sending_gives_the_same_answer(
        mail_world: WorldFactory) -> None:
    """Input 1: "A Gmail account with 2-step verification ... `534-5.7.9 Application-specific
    password required` ... Asked about the sending side, the same account gets
    auth_oauth_required instead: one account, two answers." Now one answer on both sides."""
    world = mail_world(app_password_required=True, dovecot=False)
    report = await _run(world)
    assert report.outcome == "auth_app_password_required"
    assert report.facts["server_reply"].startswith("534 5.7.9 Application-specific password")
    assert world.smtp.auth_attempts == [world.email]  # a named refusal: no second form tried


async def test_full_mailbox_from_the_quota_report(mail_world: WorldFactory) -> None:
    world = mail_world(fault_dovecot=True)
    report = await _run(world, "check_incoming", **_fault_imap(world, FULL))
    assert report.outcome == "mailbox_over_quota"
    login = [c for c in report.checks if c.probe == "imap" and "quota" in c.evidence]
    assert login and "5 KB used of 1 KB (full)" in login[-1].evidence


async def test_too_many_connections(mail_world: WorldFactory) -> None:
    world = mail_world(fault_dovecot=True)
    report = await _run(world, "check_incoming", **_fault_imap(world, BUSY))
    assert report.outcome == "too_many_connections"
    assert "mail_max_userip_connections=2" in report.facts["server_reply"]


async def test_healthy_account_of_the_fault_server_is_ok(mail_world: WorldFactory) -> None:
    world = mail_world(fault_dovecot=True)
    report = await _run(world, "check_incoming", **_fault_imap(world, world.email))
    assert report.outcome == "ok"


async def test_plain_smtp_to_a_port_that_requires_starttls(mail_world: WorldFactory) -> None:
    world = mail_world(dovecot=False)
    report = await _run(world, outgoing_security="none")
    assert report.outcome == "encryption_required"
    assert report.facts["working_security"] == "starttls"
    assert world.smtp.auth_attempts == []  # the password never went out in clear text


async def test_plain_sending_without_login_to_a_starttls_port(mail_world: WorldFactory) -> None:
    world = mail_world(dovecot=False)
    report = await _run(world, outgoing_security="none", outgoing_auth="false")
    assert report.outcome == "encryption_required"
    assert world.smtp.data_commands == 0


@pytest.mark.parametrize("auth", ["true", "false"])
async def test_dnsbl_refusal_is_sender_blocklisted(mail_world: WorldFactory, auth: str) -> None:
    world = mail_world(blocklisted=True, dovecot=False)
    report = await _run(world, outgoing_auth=auth)
    assert report.outcome == "sender_blocklisted"
    assert "zen.spamhaus.org" in report.facts["server_reply"]
    assert world.smtp.data_commands == 0


async def test_refused_login_at_an_app_password_provider(mail_world: WorldFactory) -> None:
    """Input 3: "An AOL address: `NO [AUTHENTICATIONFAILED] LOGIN Invalid credentials` for a
    password that works on the web: the customer needs an app password, deskbot says reset."
    AOL's rule (with its source) makes the refusal auth_app_password_required."""
    world = mail_world()
    report = await _run(world, "check_incoming", email="someone@aol.com",
                        username="someone@aol.com")
    assert report.outcome == "auth_app_password_required"
    assert "[AUTHENTICATIONFAILED]" in report.facts["server_reply"]
    assert report.facts["app_password_url"].startswith("https://login.aol.com/")
    assert any("help.aol.com" in n for n in report.notes)


async def test_icloud_address_gets_the_app_specific_password_steps(
        mail_world: WorldFactory) -> None:
    """Input 2: "An iCloud address in a third-party app: iCloud always needs an app-specific
    password there; the catalogue does not know it, so a refused login reads as a wrong
    password." """
    world = mail_world(dovecot=False)
    report = await _run(world, email="bob@icloud.com", username="bob@icloud.com")
    assert report.outcome == "auth_app_password_required"
    assert report.facts["app_password_name"] == "app-specific password"
    assert "App-Specific Passwords" in report.facts["app_password_steps"]


async def test_outlook_com_is_oauth_only_without_trying_a_password(
        mail_world: WorldFactory) -> None:
    world = mail_world(dovecot=False)
    report = await _run(world, email="carol@outlook.com", username="carol@outlook.com")
    assert report.outcome == "auth_oauth_required"
    assert world.smtp.auth_attempts == []
    assert "app_password_url" not in report.facts
