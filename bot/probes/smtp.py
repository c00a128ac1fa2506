"""SMTP probe session on aiosmtplib: greeting, EHLO, STARTTLS, AUTH (one attempt), relay check.

aiosmtplib's exceptions are translated here and nowhere else. Traps handled (TEST-PEERS.md):
`login()` would try PLAIN then LOGIN (two failures on the server), so exactly one of
`auth_plain`/`auth_login` is called; its timeouts are per read, so the pipeline wraps every
step in a wall-clock deadline; and it is handed the already-connected socket, so the
certificate is checked against the mail host name while talking to the validated address.
The relay check stops at RCPT and never sends DATA.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
from dataclasses import dataclass

import aiosmtplib

from bot.diagnoses import Code
from bot.probes.endpoint import Login, LoginOutcome, LoginResult
from bot.probes.replies import meaning
from bot.probes.session import Action, Session, StepFailed, TlsFailed
from bot.probes.tls import classify_error
from bot.probes.wire import REFUSED, wire_unsafe

RELAY_RECIPIENT = "deskbot-relay-check@example.com"  # a domain no mail server is local for
PASSWORD_MECHANISMS = ("PLAIN", "LOGIN")
OAUTH_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")


@dataclass(frozen=True)
class ReplyMeaning:
    """A reply code's diagnosis (if any) and what it means in plain words."""

    diagnosis: Code | None
    explanation: str


# SMTP-only readings (basic code or None, enhanced code or None, text pattern or None) →
# meaning, tried after the cross-protocol table of bot.probes.replies; first match wins.
_REPLIES: tuple[tuple[int | None, str | None, str | None, ReplyMeaning], ...] = (
    (535, None, None, ReplyMeaning(
        "auth_wrong_password", "the server rejected the username or password")),
    (504, "5.5.4", None, ReplyMeaning(
        "auth_mechanism_unsupported", "the server does not offer that login method")),
    (530, None, None, ReplyMeaning(
        "smtp_auth_required", "the server sends mail only for clients that log in first "
        "(turn on 'my outgoing server requires authentication')")),
    (None, "5.7.57", None, ReplyMeaning(
        "smtp_auth_required", "the client is not authenticated: turn on outgoing "
        "authentication")),
    (None, "5.7.0", r"auth", ReplyMeaning(
        "smtp_auth_required", "the server demands a login before sending")),
    (550, "5.7.1", None, ReplyMeaning(
        "smtp_auth_required", "the server refuses to relay mail for a client that did not "
        "log in (turn on outgoing authentication)")),
    (554, "5.7.1", None, ReplyMeaning(
        "smtp_auth_required", "the server refuses to relay mail for a client that did not "
        "log in")),
    (None, None, r"relay", ReplyMeaning(
        "smtp_auth_required", "the server refuses to relay mail without a login")),
)
_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def explain(code: int, message: str) -> ReplyMeaning:
    """The meaning of an SMTP reply (code plus text, with or without an enhanced code)."""
    named = meaning(f"{code} {message}")
    if named is not None:
        return ReplyMeaning(named.diagnosis, named.explanation)
    found = _ENHANCED.search(message)
    enhanced = found.group(1) if found else None
    for basic, enh, pattern, row in _REPLIES:
        if basic is not None and basic != code:
            continue
        if enh is not None and enh != enhanced:
            continue
        if pattern is not None and not re.search(pattern, message, re.IGNORECASE):
            continue
        return row
    if 200 <= code < 400:
        return ReplyMeaning(None, "accepted")
    return ReplyMeaning(None, f"the server answered {code} {message}".strip())


def _step_failed(exc: BaseException, what: str) -> StepFailed:
    """Translate an aiosmtplib exception into the pipeline's StepFailed."""
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError | aiosmtplib.SMTPReadTimeoutError):
        return StepFailed("timeout", f"no {what} within the deadline")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return StepFailed("closed", f"the server closed the connection ({what})")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code == -1:
            return StepFailed("garbage", f"not an SMTP {what}: {exc.message[:80]}")
        kind = "refused" if exc.code >= 400 else "garbage"
        return StepFailed(kind, f"{what}: {exc.code} {exc.message}"[:200])
    return StepFailed("closed", f"{what} failed: {exc}")


class SmtpSession(Session):
    """One SMTP connection through aiosmtplib."""

    protocol = "smtp"

    def __init__(self, host: str, ctx: ssl.SSLContext, timeout: float) -> None:
        super().__init__(host, ctx, timeout)
        self.client: aiosmtplib.SMTP | None = None

    def _smtp(self) -> aiosmtplib.SMTP:
        if self.client is None:
            raise StepFailed("closed", "not connected")
        return self.client

    async def open(self, sock: socket.socket, implicit_tls: bool) -> str:
        self.client = aiosmtplib.SMTP(
            hostname=self.host, sock=sock, use_tls=implicit_tls, start_tls=False,
            tls_context=self.ctx, timeout=self.timeout, local_hostname="deskbot.invalid",
        )
        try:
            reply = await self.client.connect()
        except ssl.SSLError as exc:
            raise TlsFailed(classify_error(exc, self.host)) from exc
        except aiosmtplib.SMTPConnectError as exc:
            cause = exc.__cause__
            if implicit_tls and isinstance(cause, ssl.SSLError | ConnectionError | EOFError):
                raise TlsFailed(classify_error(cause, self.host)) from exc
            if implicit_tls and isinstance(exc, aiosmtplib.SMTPConnectTimeoutError):
                raise TimeoutError from exc
            raise _step_failed(exc, "greeting") from exc
        except aiosmtplib.SMTPException as exc:
            raise _step_failed(exc, "greeting") from exc
        return f"{reply.code} {reply.message}"

    async def capabilities(self) -> tuple[str, ...]:
        smtp = self._smtp()
        try:
            await smtp.ehlo()
        except aiosmtplib.SMTPException as exc:
            raise _step_failed(exc, "EHLO reply") from exc
        return tuple(k.upper() for k in smtp.esmtp_extensions)

    def offers_starttls(self, caps: tuple[str, ...]) -> bool:
        return "STARTTLS" in caps

    async def starttls(self) -> None:
        smtp = self._smtp()
        try:
            await smtp.starttls(server_hostname=self.host, tls_context=self.ctx)
        except ssl.SSLError as exc:
            raise TlsFailed(classify_error(exc, self.host)) from exc
        except aiosmtplib.SMTPException as exc:
            cause = exc.__cause__
            if isinstance(cause, ssl.SSLError):
                raise TlsFailed(classify_error(cause, self.host)) from exc
            raise _step_failed(exc, "STARTTLS") from exc

    def ssl_object(self) -> ssl.SSLObject | None:
        if self.client is None or self.client.transport is None:
            return None
        obj = self.client.transport.get_extra_info("ssl_object")
        return obj if isinstance(obj, ssl.SSLObject) else None

    def mechanisms(self, caps: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(m.upper() for m in self._smtp().server_auth_methods)

    def plaintext_refused(self, caps: tuple[str, ...]) -> bool:
        # A submission port that wants STARTTLS first advertises no AUTH before it.
        return "STARTTLS" in caps and not self.mechanisms(caps)

    async def login(self, login: Login, caps: tuple[str, ...]) -> LoginResult:
        smtp, mechs = self._smtp(), self.mechanisms(caps)
        if not mechs:
            return LoginResult("unsupported", "the server offers no AUTH at all",
                               login.username)
        if not any(m in mechs for m in PASSWORD_MECHANISMS):
            oauth = all(m in OAUTH_MECHANISMS for m in mechs)
            offered = " ".join(mechs)
            return LoginResult("oauth_required" if oauth else "unsupported",
                               f"AUTH offers only {offered}", login.username)
        auth = smtp.auth_plain if "PLAIN" in mechs else smtp.auth_login
        try:
            reply = await auth(login.username, login.password)
        except aiosmtplib.SMTPResponseException as exc:
            return self._judge(exc.code, exc.message, login.username)
        except aiosmtplib.SMTPException as exc:
            raise _step_failed(exc, "AUTH reply") from exc
        accepted = LoginResult("ok", f"{reply.code} {reply.message}", login.username)
        return await self._envelope(login, accepted) if login.sender else accepted

    async def _envelope(self, login: Login, accepted: LoginResult) -> LoginResult:
        """After an accepted login: MAIL FROM and RCPT TO the customer's own address, then
        RSET, never DATA. A blocklisted address or a full mailbox is refused only here."""
        smtp = self._smtp()
        if wire_unsafe(login.sender):
            return accepted  # never put a value holding CR/LF/NUL on the wire
        what = f"login as {login.username}, then MAIL FROM/RCPT TO {login.sender} (no DATA)"
        try:
            await smtp.mail(login.sender)
            await smtp.rcpt(login.sender)
        except aiosmtplib.SMTPResponseException as exc:
            read = explain(exc.code, exc.message)
            text = f"{exc.code} {exc.message} ({read.explanation})"
            if read.diagnosis in ("sender_blocklisted", "mailbox_over_quota",
                                  "too_many_connections"):
                return LoginResult("refused", text, login.username, diagnosis=read.diagnosis,
                                   what=what)
            return accepted  # other envelope refusals are not about this account's login
        except aiosmtplib.SMTPException:
            return accepted
        with contextlib.suppress(aiosmtplib.SMTPException):
            await smtp.rset()
        return accepted

    @staticmethod
    def _judge(code: int, message: str, username: str) -> LoginResult:
        read = explain(code, message)
        outcomes: dict[str, LoginOutcome] = {
            "auth_oauth_required": "oauth_required", "auth_wrong_password": "rejected",
            "encryption_required": "plaintext_refused",
            "auth_mechanism_unsupported": "unsupported",
        }
        outcome = outcomes.get(read.diagnosis or "", "refused" if read.diagnosis else "error")
        diagnosis = read.diagnosis if outcome == "refused" else None
        return LoginResult(outcome, f"{code} {message} ({read.explanation})", username,
                           diagnosis=diagnosis)

    async def relay(self, sender: str) -> LoginResult:
        """MAIL FROM and RCPT TO a foreign domain without logging in; RSET, never DATA."""
        smtp = self._smtp()
        if wire_unsafe(sender):
            return LoginResult("unsafe", f"the sender address was {REFUSED}",
                               what=f"relay without login (→ {RELAY_RECIPIENT})")
        what = f"relay without login ({sender} → {RELAY_RECIPIENT})"
        try:
            await smtp.mail(sender)
            reply = await smtp.rcpt(RELAY_RECIPIENT)
        except aiosmtplib.SMTPResponseException as exc:
            read = explain(exc.code, exc.message)
            text = f"{exc.code} {exc.message} ({read.explanation})"
            if read.diagnosis is not None:  # relay refused, blocklisted, STARTTLS first ...
                return LoginResult("rejected", text, diagnosis=read.diagnosis, what=what)
            return LoginResult("error", text, what=what)
        except aiosmtplib.SMTPException as exc:
            raise _step_failed(exc, "relay reply") from exc
        with contextlib.suppress(aiosmtplib.SMTPException):
            await smtp.rset()
        return LoginResult("ok", f"{reply.code} {reply.message} (accepted without a login)",
                           what=what)

    async def close(self) -> None:
        if self.client is None:
            return
        try:
            if self.client.is_connected:
                await self.client.quit()
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            self.client.close()


def relay_action(sender: str) -> Action:
    """The pipeline's last step for the relay check."""

    async def act(session: Session, caps: tuple[str, ...]) -> LoginResult:
        assert isinstance(session, SmtpSession)
        return await session.relay(sender)

    return act
