"""The probe pipeline every mail protocol shares: connect, TLS, greeting, STARTTLS, login.

Each protocol module supplies a `Session` (one connection speaking that protocol) and
translates its own foreign exceptions into `StepFailed`/`TlsFailed`, which never leave this
package. Every stage runs under a wall-clock deadline (`asyncio.timeout`), because per-read
timeouts never notice a server that dribbles bytes. The pipeline stops at the first failing
stage; when the configured security looks wrong (no greeting on a plain connect, no TLS
handshake on an implicit-TLS connect) it opens one more connection in the other mode to
prove what the port speaks (`tls_mode_mismatch`).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.catalog.model import Security
from bot.errors import DeskbotError
from bot.probes.endpoint import Endpoint, EndpointResult, Login, LoginResult, Stage
from bot.probes.model import Check, ProbeObserver, Status
from bot.probes.tcp import connect
from bot.probes.tls import TlsInfo, classify_error, inspect

MAX_LINE = 8192


class StepFailed(DeskbotError):
    """A protocol step did not get a usable answer (internal to bot.probes)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind  # timeout | garbage | closed | refused
        self.detail = detail
        super().__init__(detail)


class TlsFailed(DeskbotError):
    """A TLS handshake failed or the certificate is not acceptable (internal)."""

    def __init__(self, info: TlsInfo) -> None:
        self.info = info
        super().__init__(info.detail)


class Session(abc.ABC):
    """One connection speaking one mail protocol (SMTP, POP3, IMAP)."""

    protocol: str = ""

    def __init__(self, host: str, ctx: ssl.SSLContext, timeout: float) -> None:
        self.host, self.ctx, self.timeout = host, ctx, timeout

    @abc.abstractmethod
    async def open(self, sock: socket.socket, implicit_tls: bool) -> str:
        """Take over a connected socket (TLS first if implicit) and return the greeting."""

    @abc.abstractmethod
    async def capabilities(self) -> tuple[str, ...]:
        """What the server advertises now (EHLO keywords, CAPA, CAPABILITY)."""

    @abc.abstractmethod
    def offers_starttls(self, caps: tuple[str, ...]) -> bool: ...

    @abc.abstractmethod
    async def starttls(self) -> None:
        """Upgrade the connection; raise TlsFailed on a bad certificate."""

    @abc.abstractmethod
    def ssl_object(self) -> ssl.SSLObject | ssl.SSLSocket | None: ...

    @abc.abstractmethod
    def mechanisms(self, caps: tuple[str, ...]) -> tuple[str, ...]:
        """The login mechanisms offered (for the report and auth_mechanism_unsupported)."""

    @abc.abstractmethod
    def plaintext_refused(self, caps: tuple[str, ...]) -> bool:
        """True when the server says it takes no password before TLS."""

    @abc.abstractmethod
    async def login(self, login: Login, caps: tuple[str, ...]) -> LoginResult:
        """Exactly one login attempt."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Say goodbye if possible, then drop the connection (never raises)."""


SessionFactory = Callable[[str, ssl.SSLContext, float], Session]


@dataclass
class _Recorder:
    """Collects the checks of one endpoint probe and tells the observer."""

    endpoint: Endpoint
    observer: ProbeObserver | None
    checks: list[Check] = field(default_factory=list)
    _started: float = 0.0

    def start(self, probe: str) -> None:
        self._started = time.perf_counter()
        if self.observer is not None:
            self.observer.check_started(probe, self.endpoint.target)

    def done(self, probe: str, status: Status, evidence: str, outcome: str,
             diagnosis: str | None = None, ms: float | None = None) -> None:
        elapsed = (time.perf_counter() - self._started) * 1000 if ms is None else ms
        check = Check(probe, self.endpoint.target, status, evidence, diagnosis, elapsed, outcome)
        self.checks.append(check)
        if self.observer is not None:
            self.observer.check_finished(check)


Action = Callable[[Session, tuple[str, ...]], Awaitable[LoginResult]]


def login_action(login: Login) -> Action:
    """The usual final step: exactly one login attempt."""

    async def act(session: Session, caps: tuple[str, ...]) -> LoginResult:
        return await session.login(login, caps)

    return act


async def probe_endpoint(
    endpoint: Endpoint,
    factory: SessionFactory,
    ctx: ssl.SSLContext,
    timeout: float,
    login: Login | None = None,
    observer: ProbeObserver | None = None,
    action: Action | None = None,
) -> EndpointResult:
    """Probe one endpoint as a client set up that way would use it; never raises for outcomes.

    The last step is one login attempt with `login`, or `action` (e.g. the relay check).
    """
    if action is None and login is not None:
        action = login_action(login)
    rec = _Recorder(endpoint, observer)
    rec.start("tcp")
    tcp = await connect(endpoint.ip, endpoint.port, timeout)
    status: Status = "ok" if tcp.open else "fail"
    rec.done("tcp", status, f"{endpoint.host} → {tcp.detail}", tcp.outcome, ms=tcp.ms)
    if tcp.sock is None:
        return EndpointResult(endpoint, "tcp", tuple(rec.checks), tcp=tcp.outcome)
    session = factory(endpoint.host, ctx, timeout)
    try:
        return await _converse(rec, session, tcp.sock, ctx, timeout, action, factory)
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                await session.close()


async def _converse(rec: _Recorder, session: Session, sock: socket.socket, ctx: ssl.SSLContext,
                    timeout: float, action: Action | None,
                    factory: SessionFactory) -> EndpointResult:
    ep = rec.endpoint
    proto = session.protocol
    base: dict[str, Any] = {"tcp": "open"}
    implicit = ep.security == "ssl"
    rec.start("tls" if implicit else proto)
    try:
        if implicit:
            async with asyncio.timeout(timeout):
                greeting = await session.open(sock, implicit)
        else:
            greeting = await _hedged_greeting(session, sock, ep, factory, ctx, timeout)
    except TlsFailed as exc:
        return await _tls_open_failed(rec, exc.info, factory, ctx, timeout, base)
    except (StepFailed, TimeoutError) as exc:
        failure = _as_step(exc, "greeting", timeout)
        hedge = getattr(exc, "hedge", None)
        return await _greeting_failed(rec, failure, factory, ctx, timeout, base, hedge)
    tls: TlsInfo | None = None
    if implicit:
        tls = inspect(session.ssl_object(), ep.host)
        rec.done("tls", "ok" if tls.ok else "fail", tls.detail, tls.outcome, tls.diagnosis)
        if not tls.ok:
            return _result(rec, "tls", base, tls=tls, diagnosis=tls.diagnosis)
        rec.start(proto)
    rec.done(proto, "ok", f"greeting: {greeting[:200]}", "ok")
    base.update(greeting=greeting, tls=tls)
    return await _after_greeting(rec, session, timeout, action, base)


async def _after_greeting(rec: _Recorder, session: Session, timeout: float,
                          action: Action | None, base: dict[str, Any]) -> EndpointResult:
    ep, proto = rec.endpoint, session.protocol
    try:
        async with asyncio.timeout(timeout):
            caps = await session.capabilities()
    except (StepFailed, TimeoutError) as exc:
        failure = _as_step(exc, "capabilities", timeout)
        rec.done(proto, "fail", failure.detail, failure.kind)
        return _result(rec, "greeting", base, problem=failure.kind)
    offers = session.offers_starttls(caps)
    base.update(starttls_offered=offers)
    if ep.security == "starttls":
        if not offers:
            rec.done(proto, "fail", f"{ep.target} does not offer STARTTLS: this port speaks "
                     "no encryption", "no_starttls", "tls_mode_mismatch")
            return _result(rec, "starttls", base, speaks="none", diagnosis="tls_mode_mismatch")
        rec.start("tls")
        try:
            async with asyncio.timeout(timeout):
                await session.starttls()
        except TlsFailed as exc:
            info = exc.info
            rec.done("tls", "fail", f"STARTTLS: {info.detail}", info.outcome, info.diagnosis)
            return _result(rec, "tls", base, tls=info, diagnosis=info.diagnosis)
        except (StepFailed, TimeoutError) as exc:
            failure = _as_step(exc, "STARTTLS", timeout)
            rec.done("tls", "fail", failure.detail, failure.kind)
            return _result(rec, "starttls", base, problem=failure.kind, reply=failure.detail)
        tls = inspect(session.ssl_object(), ep.host)
        rec.done("tls", "ok" if tls.ok else "fail", f"STARTTLS: {tls.detail}", tls.outcome,
                 tls.diagnosis)
        base.update(tls=tls)
        if not tls.ok:
            return _result(rec, "tls", base, diagnosis=tls.diagnosis)
        try:
            async with asyncio.timeout(timeout):
                caps = await session.capabilities()
        except (StepFailed, TimeoutError) as exc:
            failure = _as_step(exc, "capabilities after STARTTLS", timeout)
            rec.done(proto, "fail", failure.detail, failure.kind)
            return _result(rec, "starttls", base, problem=failure.kind)
    mechanisms = session.mechanisms(caps)
    base.update(mechanisms=mechanisms)
    if ep.security == "none" and session.plaintext_refused(caps):
        detail = (f"{ep.target} takes no password without encryption"
                  + (" (it offers STARTTLS)" if offers else ""))
        rec.done(proto, "fail", detail, "plaintext_refused", "tls_mode_mismatch")
        return _result(rec, "starttls", base, speaks="starttls" if offers else None,
                       diagnosis="tls_mode_mismatch")
    if action is None:
        return _result(rec, "done", base)
    return await _act(rec, session, timeout, action, caps, base)


async def _act(rec: _Recorder, session: Session, timeout: float, action: Action,
               caps: tuple[str, ...], base: dict[str, Any]) -> EndpointResult:
    proto = session.protocol
    rec.start(proto)
    try:
        async with asyncio.timeout(timeout):
            result = await action(session, caps)
    except (StepFailed, TimeoutError) as exc:
        failure = _as_step(exc, "login", timeout)
        result = LoginResult("error", failure.detail)
    status: Status = "ok" if result.outcome == "ok" else "fail"
    words = {
        "ok": "accepted", "rejected": "rejected", "oauth_required": "refused: this account "
        "needs OAuth2 or an app password", "locked": "refused: the mailbox is in use by "
        "another session", "plaintext_refused": "refused without encryption",
        "unsupported": "impossible: no password mechanism offered", "error": "failed",
    }
    what = result.what or f"login as {result.username}"
    evidence = f"{what} {words[result.outcome]}: {result.reply}"[:300]
    diagnosis = result.diagnosis or {
        "oauth_required": "auth_oauth_required", "locked": "mailbox_locked",
        "unsupported": "auth_mechanism_unsupported", "plaintext_refused": "tls_mode_mismatch",
    }.get(result.outcome)
    rec.done(proto, status, evidence, f"login_{result.outcome}", diagnosis)
    return _result(rec, "done" if result.outcome == "ok" else "login", base, login=result,
                   reply=result.reply, diagnosis=diagnosis)


async def _tls_open_failed(rec: _Recorder, info: TlsInfo, factory: SessionFactory,
                           ctx: ssl.SSLContext, timeout: float,
                           base: dict[str, Any]) -> EndpointResult:
    ep = rec.endpoint
    if info.outcome not in ("not_tls", "timeout"):
        rec.done("tls", "fail", info.detail, info.outcome, info.diagnosis)
        return _result(rec, "tls", base, tls=info, diagnosis=info.diagnosis)
    # No handshake: maybe the port speaks plain text (STARTTLS or nothing).
    speaks = await _plain_mode(ep, factory, ctx, timeout)
    if speaks is None:
        rec.done("tls", "fail", info.detail, info.outcome)
        return _result(rec, "tls", base, tls=info, problem=info.outcome)
    words = "STARTTLS" if speaks == "starttls" else "no encryption"
    rec.done("tls", "fail", f"{info.detail}; the port greets in plain text ({words}): set "
             f"security to {words}", "not_tls", "tls_mode_mismatch")
    return _result(rec, "tls", base, tls=info, speaks=speaks, diagnosis="tls_mode_mismatch")


async def _hedged_greeting(session: Session, sock: socket.socket, ep: Endpoint,
                           factory: SessionFactory, ctx: ssl.SSLContext, timeout: float) -> str:
    """Wait for a plain-text greeting; if none came within half the deadline, start finding
    out (on a second connection) whether the port speaks implicit TLS, so a silent port or a
    STARTTLS client on an SSL port costs one deadline, not two. Returns the greeting; on
    failure the still-running TLS check is attached to the exception as `hedge`."""
    greet = asyncio.ensure_future(_bounded(session.open(sock, False), timeout))
    done, _ = await asyncio.wait({greet}, timeout=timeout / 2)
    hedge = None if done else asyncio.ensure_future(_speaks_tls(ep, factory, ctx, timeout / 2))
    try:
        greeting = await greet
    except (StepFailed, TimeoutError) as exc:
        exc.hedge = hedge  # type: ignore[union-attr]
        raise
    if hedge is not None:
        hedge.cancel()
        with contextlib.suppress(BaseException):
            await hedge
    return greeting


async def _bounded(coro: Awaitable[str], timeout: float) -> str:
    async with asyncio.timeout(timeout):
        return await coro


async def _greeting_failed(rec: _Recorder, failure: StepFailed, factory: SessionFactory,
                           ctx: ssl.SSLContext, timeout: float, base: dict[str, Any],
                           hedge: asyncio.Task[bool] | None = None) -> EndpointResult:
    ep = rec.endpoint
    proto = factory(ep.host, ctx, timeout).protocol
    speaks_tls = await hedge if hedge is not None else await _speaks_tls(ep, factory, ctx,
                                                                         timeout)
    if speaks_tls:
        rec.done(proto, "fail", f"{failure.detail}; the port speaks implicit TLS (SSL/TLS): "
                 "set security to SSL/TLS", failure.kind, "tls_mode_mismatch")
        return _result(rec, "greeting", base, speaks="ssl", diagnosis="tls_mode_mismatch",
                       problem=failure.kind)
    rec.done(proto, "fail", failure.detail, failure.kind)
    return _result(rec, "greeting", base, problem=failure.kind, reply=failure.detail)


async def _plain_mode(ep: Endpoint, factory: SessionFactory, ctx: ssl.SSLContext,
                      timeout: float) -> Security | None:
    """What a second, plain-text connection finds: starttls, none, or no greeting (None)."""
    tcp = await connect(ep.ip, ep.port, timeout)
    if tcp.sock is None:
        return None
    session = factory(ep.host, ctx, timeout)
    try:
        async with asyncio.timeout(timeout):
            await session.open(tcp.sock, False)
            caps = await session.capabilities()
        return "starttls" if session.offers_starttls(caps) else "none"
    except (StepFailed, TlsFailed, TimeoutError):
        return None
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                await session.close()


async def _speaks_tls(ep: Endpoint, factory: SessionFactory, ctx: ssl.SSLContext,
                      timeout: float) -> bool:
    """True when a second connection completes a TLS handshake (whatever the certificate)."""
    tcp = await connect(ep.ip, ep.port, timeout)
    if tcp.sock is None:
        return False
    session = factory(ep.host, ctx, timeout)
    try:
        async with asyncio.timeout(timeout):
            await session.open(tcp.sock, True)
        return True
    except TlsFailed as exc:
        return exc.info.diagnosis is not None  # a certificate was presented: it is TLS
    except StepFailed:
        return session.ssl_object() is not None  # handshake done, greeting odd: still TLS
    except TimeoutError:
        return session.ssl_object() is not None
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                await session.close()


def _as_step(exc: BaseException, what: str, timeout: float) -> StepFailed:
    if isinstance(exc, StepFailed):
        return exc
    return StepFailed("timeout", f"no {what} answer within {timeout:g} s")


def _result(rec: _Recorder, stage: Stage, base: dict[str, Any], **extra: Any) -> EndpointResult:
    fields = {**base, **extra}
    result = EndpointResult(rec.endpoint, stage, tuple(rec.checks))
    return replace(result, **fields)


class LineStream:
    """CRLF line I/O over asyncio streams (POP3 and IMAP), with STARTTLS."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, sock: socket.socket, ctx: ssl.SSLContext | None, host: str,
                   timeout: float) -> LineStream:
        """Wrap a connected socket; with `ctx` the TLS handshake happens first."""
        try:
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=ctx, server_hostname=host if ctx else None,
                ssl_handshake_timeout=timeout if ctx else None, limit=MAX_LINE,
            )
        except (ssl.SSLError, ConnectionError, EOFError) as exc:
            sock.close()
            raise TlsFailed(classify_error(exc, host)) from exc
        except TimeoutError:
            sock.close()
            raise
        return cls(reader, writer)

    async def readline(self) -> str:
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise StepFailed("garbage", f"unexpected reply {_show(exc.partial)}") from exc
            raise StepFailed("closed", "the server closed the connection") from exc
        except asyncio.LimitOverrunError as exc:
            raise StepFailed("garbage", "the server sent a line too long for a mail "
                             "protocol") from exc
        except (ConnectionError, ssl.SSLError) as exc:
            raise StepFailed("closed", f"connection lost ({exc})") from exc
        return line.decode("utf-8", errors="replace").rstrip("\r\n")

    async def send(self, line: str) -> None:
        try:
            self.writer.write(line.encode("utf-8") + b"\r\n")
            await self.writer.drain()
        except (ConnectionError, ssl.SSLError) as exc:
            raise StepFailed("closed", f"connection lost ({exc})") from exc

    async def start_tls(self, ctx: ssl.SSLContext, host: str, timeout: float) -> None:
        try:
            await self.writer.start_tls(ctx, server_hostname=host,
                                        ssl_handshake_timeout=timeout)
        except (ssl.SSLError, ConnectionError, EOFError) as exc:
            raise TlsFailed(classify_error(exc, host)) from exc

    def ssl_object(self) -> ssl.SSLObject | None:
        obj = self.writer.get_extra_info("ssl_object")
        return obj if isinstance(obj, ssl.SSLObject) else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


def _show(data: bytes) -> str:
    return repr(data[:60].decode("latin-1"))
