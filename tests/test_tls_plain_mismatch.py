"""A security setting that does not match the port, recognised from what the port does rather
than by waiting out a timeout (RFC 8314 §3: implicit TLS ports say nothing before the client's
TLS ClientHello; plain-text mail servers greet first).

Real peers: aiosmtpd on its implicit-TLS and STARTTLS ports, Dovecot's imaps/pop3s/imap/pop3,
trustme certificates. The probe timeout is set far above what any answer needs, so the
evidence shows whether the verdict came from the second connection's handshake or from the
deadline; no test times anything.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.probes.endpoint import Endpoint, EndpointResult
from bot.probes.imap import ImapSession
from bot.probes.pop3 import Pop3Session
from bot.probes.session import SessionFactory, probe_endpoint
from bot.probes.smtp import SmtpSession
from bot.probes.tls import client_context
from tests.peers import MailWorld
from tests.peers.faults import MisbehavingServer

HOSTS = {"smtp": ("smtp.example.test", "127.0.0.1"), "imap": ("imap.example.test", "127.0.0.2"),
         "pop3": ("pop.example.test", "127.0.0.2")}
SESSIONS: dict[str, SessionFactory] = {"smtp": SmtpSession, "imap": ImapSession,
                                       "pop3": Pop3Session}
LONG = 20.0  # the probe deadline: a verdict that waited for it says "within 20 s"
HANG_GUARD = 60.0  # not a timing assertion: only stops a hung probe from hanging the suite


async def _probe(world: MailWorld, protocol: str, port: int, security: str,
                 timeout: float = LONG) -> EndpointResult:
    host, ip = HOSTS[protocol]
    endpoint = Endpoint(protocol, host, port, security, ip)  # type: ignore[arg-type]
    async with asyncio.timeout(HANG_GUARD):
        return await probe_endpoint(endpoint, SESSIONS[protocol],
                                    client_context(world.ca_file), timeout)


@pytest.mark.parametrize(("protocol", "port", "security"), [
    ("smtp", "smtps", "starttls"), ("smtp", "smtps", "none"),
    ("imap", "imaps", "starttls"), ("imap", "imaps", "none"),
    ("pop3", "pop3s", "starttls"), ("pop3", "pop3s", "none"),
])
async def test_plain_client_on_an_implicit_tls_port_is_told_without_waiting(
        world: MailWorld, protocol: str, port: str, security: str) -> None:
    result = await _probe(world, protocol, world.ports[port], security)
    assert result.diagnosis == "tls_mode_mismatch" and result.speaks == "ssl"
    evidence = result.checks[-1].evidence
    # decided by a completed TLS handshake on a second connection, not by the deadline
    assert "a second connection completed a TLS handshake" in evidence, evidence
    assert f"within {LONG:g} s" not in evidence
    assert "set security to SSL/TLS" in evidence


@pytest.mark.parametrize(("protocol", "port"), [
    ("smtp", "submission"), ("imap", "imap"), ("pop3", "pop3"),
])
async def test_implicit_tls_client_on_a_plain_port_fails_at_the_greeting(
        world: MailWorld, protocol: str, port: str) -> None:
    result = await _probe(world, protocol, world.ports[port], "ssl")
    assert result.diagnosis == "tls_mode_mismatch" and result.speaks == "starttls"
    tls = next(c for c in result.checks if c.probe == "tls")
    # the server's plain greeting broke the handshake: no deadline was involved
    assert tls.outcome == "not_tls", tls
    assert "within" not in tls.evidence and "plain text" in tls.evidence


async def test_a_slow_plain_greeting_is_never_sent_a_tls_hello(world: MailWorld) -> None:
    # A server whose greeting has begun speaks plain text: no second connection is opened
    # (one could read as pre-greeting traffic to anti-spam front ends such as postscreen).
    slow = MisbehavingServer("127.0.0.1", "slow", slow_delay=0.2)
    await slow.start()
    try:
        result = await _probe(world, "smtp", slow.port, "starttls", timeout=1.5)
    finally:
        await slow.stop()
    assert result.diagnosis is None and result.problem == "timeout"
    assert slow.connections == 1


async def test_a_silent_port_that_speaks_no_tls_either_is_no_mismatch(world: MailWorld) -> None:
    result = await _probe(world, "smtp", world.ports["silent"], "starttls", timeout=1.5)
    assert result.diagnosis is None and result.speaks is None
    assert result.problem == "timeout"
