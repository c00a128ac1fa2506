"""SMTP test peers (aiosmtpd): submission with STARTTLS, implicit TLS, and a port-25 style relay.

One `SmtpSettings` object is shared by every listener and read on each new connection, so a
test may flip a fault between two probes. The server never delivers anything; it only counts
DATA commands so tests can prove the probes never send one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

logging.getLogger("mail.log").setLevel(logging.CRITICAL)

UserForm = Literal["address", "localpart"]
RelayPolicy = Literal["550", "530", "open"]
ALL_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2")
BASIC_AUTH_DISABLED = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
# Gmail's reply to a correct password on an account with 2-step verification
APP_PASSWORD_REQUIRED = ("534 5.7.9 Application-specific password required. Learn more at "
                         "https://support.google.com/mail/?p=InvalidSecondFactor")
# a server over its per-client connection limit (Postfix smtpd_client_connection_count_limit)
TOO_MANY = "421 4.7.0 Too many concurrent SMTP connections from this IP; try again later"
# Postfix `reject_rbl_client zen.spamhaus.org` as seen by a listed client
DNSBL_REPLY = ("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
               "zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1")


@dataclass
class SmtpSettings:
    """What the SMTP peers accept; change fields at any time (thread-safe enough for tests)."""

    email: str = "alice@example.test"
    password: str = "correct horse"
    user_form: UserForm = "address"  # which username form AUTH accepts
    relay: RelayPolicy = "550"  # reply to an unauthenticated relay attempt
    mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN")  # AUTH mechanisms advertised
    basic_auth_disabled: bool = False  # every password login gets 535 5.7.139
    app_password_required: bool = False  # the correct password gets 534 5.7.9 (Gmail)
    blocklisted: bool = False  # MAIL FROM gets a DNSBL refusal (Postfix + Spamhaus)
    relay_starttls: bool = True  # the relay (port 25 style) listener offers STARTTLS
    too_many: bool = False  # EHLO answered 421 4.7.0 too many connections (aiosmtpd EHLO hook)
    local_domain: str = "example.test"
    greeting_host: str = "smtp.example.test"  # the name in the 220 greeting and EHLO reply
    echo_auth: bool = False  # a failed AUTH's 535 quotes the login back (base64 PLAIN blob)
    auth_attempts: list[str] = field(default_factory=list)  # usernames tried, in order
    mail_commands: list[str] = field(default_factory=list)  # MAIL FROM addresses, in order
    data_commands: int = 0  # how many DATA commands arrived (the probes must send none)

    @property
    def username(self) -> str:
        """The one username AUTH accepts."""
        return self.email if self.user_form == "address" else self.email.split("@")[0]


class _Handler:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        s = self.settings
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode(errors="replace")
        s.auth_attempts.append(login)
        if s.basic_auth_disabled:
            return AuthResult(success=False, handled=False, message=BASIC_AUTH_DISABLED)
        if s.app_password_required and data.password.decode(errors="replace") == s.password:
            return AuthResult(success=False, handled=False, message=APP_PASSWORD_REQUIRED)
        if login == s.username and data.password.decode(errors="replace") == s.password:
            return AuthResult(success=True, auth_data=data)
        if s.echo_auth:  # like a verbose server: the credentials as the client sent them
            blob = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
            return AuthResult(success=False, handled=False,
                              message=f"535 5.7.8 Authentication failed for PLAIN {blob}")
        return AuthResult(success=False, handled=False)

    # Offered only when listed in settings.mechanisms; a password never passes these.
    async def auth_CRAM__MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        await server.challenge_auth("PDEyMzQ1QGV4YW1wbGUudGVzdD4=")
        self.settings.auth_attempts.append("<cram-md5>")
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        self.settings.auth_attempts.append("<xoauth2>")
        return AuthResult(success=False, handled=False, message="535 5.7.3 Bad token")

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        # aiosmtpd's documented EHLO hook: a server over its per-IP connection limit
        if self.settings.too_many:
            return [TOO_MANY]
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.settings.mail_commands.append(address)
        if self.settings.blocklisted:
            return DNSBL_REPLY
        if self.settings.relay == "530" and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local = address.lower().endswith("@" + self.settings.local_domain)
        if session.authenticated or local or self.settings.relay == "open":
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return "550 5.7.1 Relaying denied: authenticate first"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.settings.data_commands += 1
        return "554 5.7.0 test peer accepts no mail"


@dataclass
class SmtpPorts:
    submission: int = 0  # STARTTLS required before MAIL/AUTH (587 style)
    smtps: int = 0  # implicit TLS (465 style)
    relay: int = 0  # plain with optional STARTTLS (25 style)


class SmtpPeers:
    """The three SMTP listeners on one host, sharing settings and one TLS context."""

    def __init__(self, settings: SmtpSettings, tls: ssl.SSLContext, host: str = "127.0.0.1"):
        self.settings, self.tls, self.host = settings, tls, host
        self.ports = SmtpPorts()
        self._servers: list[asyncio.Server] = []
        self._handler = _Handler(settings)

    def _factory(self, **kwargs: Any) -> SMTP:
        excluded = [m for m in ALL_MECHANISMS if m not in self.settings.mechanisms]
        kwargs.setdefault("tls_context", self.tls)
        return SMTP(
            self._handler, hostname=self.settings.greeting_host,
            authenticator=self._handler.authenticate, auth_exclude_mechanism=excluded,
            timeout=30, **kwargs,
        )

    async def _listen(self, ssl_ctx: ssl.SSLContext | None, **kwargs: Any) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: self._factory(**kwargs), self.host, 0, ssl=ssl_ctx
        )
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.ports.submission = await self._listen(None, require_starttls=True)
        # Implicit TLS: aiosmtpd cannot see the TLS layer, so AUTH must not demand it.
        self.ports.smtps = await self._listen(
            self.tls, auth_require_tls=False, tls_context=None
        )
        # port-25 style; without STARTTLS when settings.relay_starttls is off (old servers)
        self.ports.relay = await self._listen(
            None, **({} if self.settings.relay_starttls else {"tls_context": None}))

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)
