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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.catalog.model import Security
from bot.diagnoses import Code
from bot.errors import DeskbotError
from bot.probes.endpoint import Endpoint, EndpointResult, Login, LoginResult, Stage
from bot.probes.model import Check, ProbeObserver, Status
from bot.probes.replies import meaning
from bot.probes.silence import greeting_deadline, silent_for
from bot.probes.tcp import RoundTrips, connect
from bot.probes.tls import TlsInfo, inspect
from bot.probes.wire import REFUSED, wire_unsafe
from bot.scrub import scrub_text


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


async def close_quietly(session: Session, timeout: float) -> None:
    """Say goodbye within the deadline; when the probe is being cancelled, hang up at once
    (a customer who pressed Ctrl-C must not wait for a slow server's QUIT reply)."""
    task = asyncio.current_task()
    grace = 0.0 if task is not None and task.cancelling() else timeout
    with contextlib.suppress(Exception):
        async with asyncio.timeout(grace):
            await session.close()


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
             diagnosis: Code | None = None, ms: float | None = None) -> None:
        elapsed = (time.perf_counter() - self._started) * 1000 if ms is None else ms
        check = Check(probe, self.endpoint.target, status, evidence, diagnosis, elapsed, outcome)
        self.checks.append(check)
        if self.observer is not None:
            self.observer.check_finished(check)


Action = Callable[[Session, tuple[str, ...]], Awaitable[LoginResult]]


def login_action(login: Login) -> Action:
    """The usual final step: exactly one login attempt."""

    def scrub(text: str) -> str:  # a server may echo the command (quoted, base64) back
        return scrub_text(text, [login.password])

    async def act(session: Session, caps: tuple[str, ...]) -> LoginResult:
        if wire_unsafe(login.username, login.password):
            return LoginResult("unsafe", f"the username or password was {REFUSED}",
                               "" if wire_unsafe(login.username) else login.username)
        try:
            result = await session.login(login, caps)
        except StepFailed as exc:
            raise StepFailed(exc.kind, scrub(exc.detail)) from None
        # a password typed as the username must not come back as "login as <password>"
        return replace(result, reply=scrub(result.reply), username=scrub(result.username),
                       what=scrub(result.what))

    return act


async def probe_endpoint(
    endpoint: Endpoint,
    factory: SessionFactory,
    ctx: ssl.SSLContext,
    timeout: float,
    login: Login | None = None,
    observer: ProbeObserver | None = None,
    action: Action | None = None,
    rtts: RoundTrips | None = None,
) -> EndpointResult:
    """Probe one endpoint as a client set up that way would use it; never raises for outcomes.

    The last step is one login attempt with `login`, or `action` (e.g. the relay check).
    """
    if action is None and login is not None:
        action = login_action(login)
    rec = _Recorder(endpoint, observer)
    rec.start("tcp")
    tcp = await connect(endpoint.ip, endpoint.port, timeout, rtts, endpoint.host)
    status: Status = "ok" if tcp.open else "fail"
    rec.done("tcp", status, f"{endpoint.host} → {tcp.detail}", tcp.outcome, ms=tcp.ms)
    if tcp.sock is None:
        return EndpointResult(endpoint, "tcp", tuple(rec.checks), tcp=tcp.outcome)
    session = factory(endpoint.host, ctx, timeout)
    try:
        return await _converse(rec, session, tcp.sock, ctx, timeout, action, factory, tcp.ms)
    finally:
        await close_quietly(session, timeout)


async def _converse(rec: _Recorder, session: Session, sock: socket.socket, ctx: ssl.SSLContext,
                    timeout: float, action: Action | None, factory: SessionFactory,
                    connect_ms: float = 0.0) -> EndpointResult:
    ep = rec.endpoint
    proto = session.protocol
    base: dict[str, Any] = {"tcp": "open"}
    implicit = ep.security == "ssl"
    rec.start(proto)  # one running row: TLS first when implicit, then the greeting
    opened = await _hedged_open(session, sock, implicit, ep, factory, ctx, timeout, connect_ms)
    error, hedge = opened.error, opened.hedge
    if isinstance(error, TlsFailed):
        return await _tls_open_failed(rec, error.info, factory, ctx, timeout, base, hedge)
    if error is not None:
        failure = _as_step(error, "greeting", timeout)
        if implicit and session.ssl_object() is None:  # the handshake itself never finished
            info = TlsInfo("timeout" if failure.kind == "timeout" else "not_tls",
                           f"{ep.host}: no TLS handshake ({failure.detail})")
            return await _tls_open_failed(rec, info, factory, ctx, timeout, base, hedge)
        return await _greeting_failed(rec, failure, factory, ctx, timeout, base, hedge,
                                      opened.spoke)
    greeting = opened.greeting
    tls: TlsInfo | None = None
    if implicit:
        tls = inspect(session.ssl_object(), ep.host)
        rec.done("tls", "ok" if tls.ok else "fail", tls.detail, tls.outcome, tls.diagnosis)
        if not tls.ok:
            rec.done(proto, "skipped", "greeting not used: the certificate is not acceptable",
                     "skipped")
            return _result(rec, "tls", base, tls=tls, diagnosis=tls.diagnosis)
    rec.done(proto, "ok", f"greeting: {greeting[:200]}", "ok")
    base.update(greeting=greeting, tls=tls)
    return await _after_greeting(rec, session, timeout, action, base)


async def _read_caps(rec: _Recorder, session: Session, timeout: float, base: dict[str, Any],
                     stage: Stage) -> tuple[str, ...] | EndpointResult:
    """The capabilities, or the failed result to return when the server does not list them."""
    try:
        async with asyncio.timeout(timeout):
            return await session.capabilities()
    except (StepFailed, TimeoutError) as exc:
        what = "capabilities" if stage == "greeting" else "capabilities after STARTTLS"
        failure = _as_step(exc, what, timeout)
        named = meaning(failure.detail) if failure.kind == "refused" else None
        if named is not None:  # e.g. EHLO answered 421 "too many connections"
            rec.done(session.protocol, "fail", f"{failure.detail} ({named.explanation})",
                     failure.kind, named.diagnosis)
            return _result(rec, stage, base, problem=failure.kind, reply=failure.detail,
                           diagnosis=named.diagnosis)
        rec.done(session.protocol, "fail", failure.detail, failure.kind)
        return _result(rec, stage, base, problem=failure.kind)


async def _after_greeting(rec: _Recorder, session: Session, timeout: float,
                          action: Action | None, base: dict[str, Any]) -> EndpointResult:
    ep, proto = rec.endpoint, session.protocol
    caps = await _read_caps(rec, session, timeout, base, "greeting")
    if isinstance(caps, EndpointResult):
        return caps
    rec.done(proto, "ok", f"capabilities: {_list(caps)}", "capabilities", ms=0.0)
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
        caps = await _read_caps(rec, session, timeout, base, "starttls")
        if isinstance(caps, EndpointResult):
            return caps
    mechanisms = session.mechanisms(caps)
    base.update(mechanisms=mechanisms)
    if ep.security == "none" and session.plaintext_refused(caps):
        # diagnoses.yaml: security none + a server refusing without encryption is
        # encryption_required (LOGINDISABLED, no USER in CAPA, no AUTH before STARTTLS)
        detail = (f"{ep.target} takes no password without encryption"
                  + (" (it offers STARTTLS)" if offers else ""))
        rec.done(proto, "fail", detail, "plaintext_refused", "encryption_required")
        return _result(rec, "starttls", base, speaks="starttls" if offers else None,
                       diagnosis="encryption_required")
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
        "needs the provider's sign-in (OAuth2)", "locked": "refused: the mailbox is in use by "
        "another session", "plaintext_refused": "refused without encryption",
        "unsupported": "impossible: no password mechanism offered", "error": "failed",
        "unsafe": "not tried",
        "refused": "refused",
    }
    what = result.what or (f"login as {result.username}" if result.username else "login")
    evidence = f"{what} {words[result.outcome]}: {result.reply}"[:300]
    named: dict[str, Code] = {
        "oauth_required": "auth_oauth_required", "locked": "mailbox_locked",
        "unsupported": "auth_mechanism_unsupported", "plaintext_refused": "encryption_required",
    }
    diagnosis = result.diagnosis or named.get(result.outcome)
    if result.quota is not None:
        used, limit = result.quota
        full = limit > 0 and used >= limit
        if full and diagnosis is None:
            diagnosis, status = "mailbox_over_quota", "fail"
        evidence = (f"{evidence[:200]}; quota: {_kib(used)} used of {_kib(limit)}"
                    + (" (full)" if full else ""))
    rec.done(proto, status, evidence, f"login_{result.outcome}", diagnosis)
    return _result(rec, "done" if result.outcome == "ok" else "login", base, login=result,
                   reply=result.reply, diagnosis=diagnosis)


def _kib(kib: int) -> str:
    """A quota size (RFC 9208 STORAGE counts KiB) in the units people read."""
    if kib >= 1024 * 1024:
        return f"{kib / 1024 / 1024:.1f} GB"
    if kib >= 1024:
        return f"{kib / 1024:.1f} MB"
    return f"{kib} KB"


async def _tls_open_failed(rec: _Recorder, info: TlsInfo, factory: SessionFactory,
                           ctx: ssl.SSLContext, timeout: float, base: dict[str, Any],
                           hedge: asyncio.Task[Security | None] | None = None) -> EndpointResult:
    ep = rec.endpoint
    proto = factory(ep.host, ctx, timeout).protocol
    if info.outcome not in ("not_tls", "timeout"):
        _cancel(hedge)
        rec.done("tls", "fail", info.detail, info.outcome, info.diagnosis)
        rec.done(proto, "skipped", "no greeting: the TLS handshake failed", "skipped")
        return _result(rec, "tls", base, tls=info, diagnosis=info.diagnosis)
    # No handshake: maybe the port speaks plain text (STARTTLS or nothing).
    speaks = await hedge if hedge is not None else await _other_mode(ep, True, factory, ctx,
                                                                     timeout)
    if speaks is None:
        rec.done("tls", "fail", info.detail, info.outcome)
        rec.done(proto, "skipped", "no greeting: the TLS handshake failed", "skipped")
        return _result(rec, "tls", base, tls=info, problem=info.outcome)
    words = "STARTTLS" if speaks == "starttls" else "no encryption"
    rec.done("tls", "fail", f"{info.detail}; the port greets in plain text ({words}): set "
             f"security to {words}", "not_tls", "tls_mode_mismatch")
    rec.done(proto, "skipped", "no greeting over TLS: the port speaks plain text", "skipped")
    return _result(rec, "tls", base, tls=info, speaks=speaks, diagnosis="tls_mode_mismatch")


@dataclass(frozen=True)
class _Opened:
    """How opening a session went: the greeting, or the error plus the still-running check
    of the other security mode (None if it was not started)."""

    greeting: str = ""
    error: StepFailed | TlsFailed | TimeoutError | None = None
    hedge: asyncio.Task[Security | None] | None = None
    spoke: bool = False  # the port sent bytes first: it speaks plain text, not implicit TLS


async def _hedged_open(session: Session, sock: socket.socket, implicit: bool, ep: Endpoint,
                       factory: SessionFactory, ctx: ssl.SSLContext, timeout: float,
                       connect_ms: float = 0.0) -> _Opened:
    """Open the session (TLS handshake first when implicit) and read the greeting.

    A plain-text client (STARTTLS or none) whose port has said nothing at all by
    `greeting_deadline(connect_ms)` asks a second connection at once whether the port speaks
    implicit TLS (bot.probes.silence); a completed handshake there ends the wait for a
    greeting that will never come. A port that has sent a byte speaks plain text and is
    never sent a ClientHello. An implicit-TLS client whose handshake has not finished
    within half the deadline checks the plain-text modes the same way, so a silent port or a
    wrong security setting costs one deadline, not two. Cancelled, every task this started
    is cancelled too."""
    start = time.perf_counter()
    hedge: asyncio.Task[Security | None] | None = None
    spoke = False
    if not implicit:
        quiet_after = min(greeting_deadline(connect_ms), timeout / 2)
        spoke = not await silent_for(sock, quiet_after)
        if not spoke:
            hedge = asyncio.ensure_future(
                _other_mode(ep, implicit, factory, ctx, timeout - quiet_after))
    greet = asyncio.ensure_future(
        _bounded(session.open(sock, implicit), timeout - (time.perf_counter() - start)))
    try:
        if implicit:
            done, _ = await asyncio.wait({greet}, timeout=timeout / 2)
            if not done:
                hedge = asyncio.ensure_future(
                    _other_mode(ep, implicit, factory, ctx, timeout / 2))
        if hedge is not None and not implicit:
            proven = await _other_mode_first(greet, hedge)
            if proven is not None:
                waited = time.perf_counter() - start
                return _Opened(error=StepFailed("timeout", _SILENT.format(s=waited)),
                               hedge=hedge)
        greeting = await greet
    except (StepFailed, TlsFailed, TimeoutError) as exc:
        return _Opened(error=exc, hedge=hedge, spoke=spoke)
    except BaseException:
        greet.cancel()
        _cancel(hedge)
        raise
    _cancel(hedge)
    return _Opened(greeting=greeting)


_SILENT = ("no greeting after {s:.1f} s, while a second connection completed a TLS handshake "
           "at once (implicit TLS, RFC 8314)")


async def _other_mode_first(greet: asyncio.Future[str],
                            hedge: asyncio.Task[Security | None]) -> Security | None:
    """The other mode, when the second connection proves it before any greeting arrives
    (the greeting is then cancelled); None when the greeting came first or nothing was
    proven."""
    both: set[asyncio.Future[Any]] = {greet, hedge}
    done, _ = await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
    if greet in done:
        return None
    speaks = hedge.result()
    if speaks is None:
        return None
    greet.cancel()
    await asyncio.wait({greet})  # its session is closed by the caller (probe_endpoint)
    return speaks


def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is not None and not task.done():
        task.cancel()


async def _other_mode(ep: Endpoint, implicit: bool, factory: SessionFactory,
                      ctx: ssl.SSLContext, timeout: float) -> Security | None:
    """What the port speaks when the configured mode got nothing: for an implicit-TLS
    client the plain-text mode (starttls/none), for a plain client "ssl"; None if neither."""
    if implicit:
        return await _plain_mode(ep, factory, ctx, timeout)
    return "ssl" if await _speaks_tls(ep, factory, ctx, timeout) else None


async def _bounded(coro: Awaitable[str], timeout: float) -> str:
    async with asyncio.timeout(timeout):
        return await coro


async def _greeting_failed(rec: _Recorder, failure: StepFailed, factory: SessionFactory,
                           ctx: ssl.SSLContext, timeout: float, base: dict[str, Any],
                           hedge: asyncio.Task[Security | None] | None = None,
                           spoke: bool = False) -> EndpointResult:
    ep = rec.endpoint
    proto = factory(ep.host, ctx, timeout).protocol
    named = meaning(failure.detail) if failure.kind == "refused" else None
    if named is not None:  # a greeting that refuses and says why (blocklist, 421 too many)
        _cancel(hedge)
        rec.done(proto, "fail", f"{failure.detail} ({named.explanation})", failure.kind,
                 named.diagnosis)
        return _result(rec, "greeting", base, problem=failure.kind, reply=failure.detail,
                       diagnosis=named.diagnosis)
    if ep.security == "ssl" or spoke:
        # TLS worked but the greeting did not, or the port spoke first (plain text, so
        # not implicit TLS): no other mode to try
        _cancel(hedge)
        rec.done(proto, "fail", failure.detail, failure.kind)
        return _result(rec, "greeting", base, problem=failure.kind, reply=failure.detail)
    speaks = await hedge if hedge is not None else await _other_mode(ep, False, factory, ctx,
                                                                     timeout)
    if speaks == "ssl":
        rec.done(proto, "fail", f"{failure.detail}; the port speaks implicit TLS (SSL/TLS): "
                 "set security to SSL/TLS", failure.kind, "tls_mode_mismatch")
        return _result(rec, "greeting", base, speaks="ssl", diagnosis="tls_mode_mismatch",
                       problem=failure.kind)
    rec.done(proto, "fail", failure.detail, failure.kind)
    return _result(rec, "greeting", base, problem=failure.kind, reply=failure.detail)


async def _plain_mode(ep: Endpoint, factory: SessionFactory, ctx: ssl.SSLContext,
                      timeout: float) -> Security | None:
    """What a second, plain-text connection finds: starttls, none, or no greeting (None)."""
    async with _second_connection(ep, factory, ctx, timeout) as conn:
        if conn is None:
            return None
        session, sock = conn
        try:
            async with asyncio.timeout(timeout):
                await session.open(sock, False)
                caps = await session.capabilities()
        except (StepFailed, TlsFailed, TimeoutError):
            return None
        return "starttls" if session.offers_starttls(caps) else "none"


async def _speaks_tls(ep: Endpoint, factory: SessionFactory, ctx: ssl.SSLContext,
                      timeout: float) -> bool:
    """True when a second connection completes a TLS handshake (whatever the certificate)."""
    async with _second_connection(ep, factory, ctx, timeout) as conn:
        if conn is None:
            return False
        session, sock = conn
        try:
            async with asyncio.timeout(timeout):
                await session.open(sock, True)
        except TlsFailed as exc:
            return exc.info.diagnosis is not None  # a certificate was presented: it is TLS
        except (StepFailed, TimeoutError):
            return session.ssl_object() is not None  # handshake done, greeting odd: still TLS
        return True


@contextlib.asynccontextmanager
async def _second_connection(ep: Endpoint, factory: SessionFactory, ctx: ssl.SSLContext,
                             timeout: float) -> AsyncIterator[tuple[Session, socket.socket] | None]:
    """Another connection to the same endpoint (None when it is not accepted), closed after."""
    tcp = await connect(ep.ip, ep.port, timeout)
    if tcp.sock is None:
        yield None
        return
    session = factory(ep.host, ctx, timeout)
    try:
        yield session, tcp.sock
    finally:
        await close_quietly(session, timeout)


def _as_step(exc: BaseException, what: str, timeout: float) -> StepFailed:
    if isinstance(exc, StepFailed):
        return exc
    return StepFailed("timeout", f"no {what} answer within {timeout:g} s")


def _result(rec: _Recorder, stage: Stage, base: dict[str, Any], **extra: Any) -> EndpointResult:
    fields = {**base, **extra}
    result = EndpointResult(rec.endpoint, stage, tuple(rec.checks))
    return replace(result, **fields)


def _list(caps: tuple[str, ...]) -> str:
    text = ", ".join(caps) or "none advertised"
    return text if len(text) <= 160 else text[:157] + "..."
