"""One endpoint at a time against real peers: TCP classes, TLS faults, greetings, logins."""

from __future__ import annotations

import asyncio

import pytest

from bot.probes.endpoint import Endpoint, EndpointResult, Login
from bot.probes.imap import ImapSession
from bot.probes.pop3 import Pop3Session
from bot.probes.session import SessionFactory, probe_endpoint
from bot.probes.smtp import SmtpSession, explain
from bot.probes.tcp import connect
from bot.probes.tls import client_context
from tests.conftest import WorldFactory
from tests.peers import MailWorld

HOSTS = {"smtp": ("smtp.example.test", "127.0.0.1"), "imap": ("imap.example.test", "127.0.0.2"),
         "pop3": ("pop.example.test", "127.0.0.2")}
HANG_GUARD = 10.0  # not a timing assertion: only stops a hung probe from hanging the suite
SESSIONS: dict[str, SessionFactory] = {"smtp": SmtpSession, "imap": ImapSession,
                                       "pop3": Pop3Session}


async def _probe(world: MailWorld, protocol: str, port: str, security: str,
                 login: Login | None = None, timeout: float = 1.0) -> EndpointResult:
    host, ip = HOSTS[protocol]
    endpoint = Endpoint(protocol, host, world.ports[port], security, ip)  # type: ignore[arg-type]
    return await probe_endpoint(endpoint, SESSIONS[protocol], client_context(world.ca_file),
                                timeout, login)


async def test_tcp_open_refused_filtered(world: MailWorld) -> None:
    opened = await connect("127.0.0.1", world.ports["submission"], 1.0)
    refused = await connect("127.0.0.1", world.ports["refused"], 1.0)
    filtered = await connect("127.0.0.1", world.ports["filtered"], 0.3)
    assert opened.outcome == "open" and opened.sock is not None
    opened.sock.close()
    assert refused.outcome == "refused"
    assert filtered.outcome == "filtered" and "no answer within 0.3 s" in filtered.detail


@pytest.mark.parametrize(("protocol", "port", "security"), [
    ("smtp", "submission", "starttls"), ("smtp", "smtps", "ssl"),
    ("imap", "imaps", "ssl"), ("imap", "imap", "starttls"),
    ("pop3", "pop3s", "ssl"), ("pop3", "pop3", "starttls"),
])
async def test_good_login_on_every_protocol_and_mode(world: MailWorld, protocol: str, port: str,
                                                     security: str) -> None:
    result = await _probe(world, protocol, port, security, Login(world.email, world.password))
    assert result.healthy, result.checks
    assert result.tls is not None and result.tls.version.startswith("TLS")
    assert result.login is not None and result.login.outcome == "ok"


@pytest.mark.parametrize(("kind", "code"), [
    ("expired", "certificate_expired"), ("unknown_ca", "certificate_untrusted"),
    ("wrong_name", "certificate_name_mismatch"),
])
async def test_certificate_faults_stop_before_the_password(world: MailWorld, kind: str,
                                                           code: str) -> None:
    world.set_smtp_cert(kind)  # type: ignore[arg-type]
    result = await _probe(world, "smtp", "submission", "starttls",
                          Login(world.email, world.password))
    assert result.diagnosis == code
    assert result.login is None and world.smtp.auth_attempts == []
    if kind == "wrong_name":
        assert "www.other.test" in result.tls.names  # type: ignore[union-attr]


async def test_ca_file_is_what_makes_the_chain_trusted(world: MailWorld) -> None:
    endpoint = Endpoint("smtp", "smtp.example.test", world.ports["smtps"], "ssl", "127.0.0.1")
    result = await probe_endpoint(endpoint, SmtpSession, client_context(None), 1.0)
    assert result.diagnosis == "certificate_untrusted"


async def test_starttls_client_on_implicit_tls_port(world: MailWorld) -> None:
    async with asyncio.timeout(HANG_GUARD):
        result = await _probe(world, "smtp", "smtps", "starttls")
    assert result.diagnosis == "tls_mode_mismatch" and result.speaks == "ssl"


async def test_ssl_client_on_starttls_port(world: MailWorld) -> None:
    result = await _probe(world, "imap", "imap", "ssl")
    assert result.diagnosis == "tls_mode_mismatch" and result.speaks == "starttls"


async def test_plaintext_login_refused_means_encryption_required(world: MailWorld) -> None:
    # diagnoses.yaml: security "none" and a server that takes no password without TLS
    pop = await _probe(world, "pop3", "pop3", "none", Login(world.email, world.password))
    imap = await _probe(world, "imap", "imap", "none", Login(world.email, world.password))
    assert pop.diagnosis == imap.diagnosis == "encryption_required"
    assert pop.speaks == imap.speaks == "starttls"  # the fix: turn STARTTLS on
    assert pop.login is None and imap.login is None  # no password went out in clear text


@pytest.mark.parametrize("port", ["silent", "garbage", "slow"])
async def test_silent_garbage_slow_end_in_a_clear_diagnosis(world: MailWorld, port: str) -> None:
    # the slow port dribbles a greeting that per-read timeouts never notice
    async with asyncio.timeout(HANG_GUARD):
        result = await _probe(world, "smtp", port, "starttls", timeout=0.6)
    assert result.stage == "greeting" and result.diagnosis is None
    last = result.checks[-1]
    if port == "garbage":
        assert result.problem == last.outcome == "garbage"
        assert "not an SMTP greeting" in last.evidence
    else:
        assert result.problem == last.outcome == "timeout"
        assert "no greeting answer within 0.6 s" in last.evidence


async def test_implicit_tls_client_on_a_silent_port(world: MailWorld) -> None:
    async with asyncio.timeout(HANG_GUARD):
        result = await _probe(world, "smtp", "silent", "ssl", timeout=0.6)
    assert result.stage == "tls" and result.problem == "timeout" and result.speaks is None
    assert any(c.probe == "tls" and c.outcome == "timeout" for c in result.checks)


async def test_wrong_password_is_one_attempt(world: MailWorld) -> None:
    result = await _probe(world, "smtp", "submission", "starttls", Login(world.email, "nope"))
    assert result.login is not None and result.login.outcome == "rejected"
    assert "535 5.7.8" in result.login.reply
    assert world.smtp.auth_attempts == [world.email]
    assert "nope" not in repr(result)


async def test_locked_pop3_mailbox(mail_world: WorldFactory) -> None:
    world = mail_world(pop3_locked=True)
    result = await _probe(world, "pop3", "pop3s_locked", "ssl",
                          Login(world.email, world.password))
    assert result.diagnosis == "mailbox_locked"
    assert "[IN-USE]" in result.reply


def test_smtp_reply_codes_explained() -> None:
    assert explain(535, "5.7.8 Authentication credentials invalid").diagnosis == \
        "auth_wrong_password"
    assert explain(535, "5.7.139 Authentication unsuccessful, basic authentication is "
                   "disabled").diagnosis == "auth_oauth_required"
    assert explain(530, "5.7.0 Authentication required").diagnosis == "smtp_auth_required"
    assert explain(550, "5.7.1 Relaying denied").diagnosis == "smtp_auth_required"
    assert explain(554, "5.7.1 <x@y>: Relay access denied").diagnosis == "smtp_auth_required"
    # failing input 1: Gmail's 534 5.7.9 is an app-password refusal, not OAuth-only
    assert explain(534, "5.7.9 Application-specific password required").diagnosis == \
        "auth_app_password_required"
    assert explain(550, "5.7.30 Basic authentication is not supported for Client "
                   "Submission").diagnosis == "auth_oauth_required"
    assert explain(554, "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                   "zen.spamhaus.org").diagnosis == "sender_blocklisted"
    assert explain(552, "5.2.2 Mailbox full").diagnosis == "mailbox_over_quota"
    assert explain(421, "4.7.0 Too many concurrent SMTP connections").diagnosis == \
        "too_many_connections"
    assert explain(530, "Must issue a STARTTLS command first").diagnosis == \
        "encryption_required"
    assert "relay" in explain(550, "5.7.1 Relaying denied").explanation
