"""TCP connect probe: open / refused / filtered (timeout) / unreachable, to one exact address."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Literal

TcpOutcome = Literal["open", "refused", "filtered", "unreachable", "error"]

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}


@dataclass(frozen=True)
class TcpResult:
    """How one connect attempt ended; `sock` is the connected socket when open."""

    ip: str
    port: int
    outcome: TcpOutcome
    ms: float
    detail: str
    sock: socket.socket | None = None

    @property
    def open(self) -> bool:
        return self.outcome == "open"


# Adaptive deadline for a silent port once a sibling answered: a multiple of the measured
# connect time, but never before a SYN lost once would have been retried and answered (Linux's
# initial retransmission timeout is 1 s, RFC 6298 §2.1) plus a few round trips.
RTT_MULTIPLE = 8
LOST_SYN_FLOOR = 1.0  # seconds


@dataclass
class RoundTrips:
    """Connect times (ms) of the hosts one sweep reached, shared by all its connects.

    When a host has answered on one port (or one address family) within milliseconds, a
    connect to it that stays silent is called filtered after `deadline()` rather than after
    the whole timeout."""

    best_ms: dict[str, float] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def answered(self, host: str, ms: float) -> None:
        if ms < self.best_ms.get(host, float("inf")):
            self.best_ms[host] = ms
            self._changed.set()
            self._changed = asyncio.Event()

    def deadline(self, host: str) -> float | None:
        """Seconds a connect to `host` may stay silent, or None while no sibling answered."""
        ms = self.best_ms.get(host)
        if ms is None:
            return None
        rtt = ms / 1000
        return max(LOST_SYN_FLOOR + 2 * rtt, RTT_MULTIPLE * rtt)

    async def wait_change(self) -> None:
        await self._changed.wait()


async def connect(ip: str, port: int, timeout: float, rtts: RoundTrips | None = None,
                  host: str = "") -> TcpResult:
    """Connect to ip:port within `timeout`; the caller owns (and closes) `sock` when open.

    With `rtts`, a connect to `host` that is still silent after `rtts.deadline(host)` (a
    sibling port or address of the same host answered) ends early as filtered."""
    if rtts is None:
        return await _connect(ip, port, timeout, None, host)
    result = await _connect(ip, port, timeout, rtts, host)
    if result.open:
        rtts.answered(host, result.ms)
    return result


async def _connect(ip: str, port: int, timeout: float, rtts: RoundTrips | None,
                   host: str) -> TcpResult:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    start = time.perf_counter()

    def result(outcome: TcpOutcome, detail: str, keep: bool = False) -> TcpResult:
        ms = (time.perf_counter() - start) * 1000
        if not keep:
            sock.close()
        return TcpResult(ip, port, outcome, ms, detail, sock if keep else None)

    where = f"[{ip}]:{port}" if family == socket.AF_INET6 else f"{ip}:{port}"
    try:
        async with asyncio.timeout(timeout):
            early = await _until_connected(sock, ip, port, start, rtts, host)
        if early is not None:
            return result("filtered", f"{where}: no answer within {early:.1f} s while the "
                          "same server answered at once (filtered)")
    except TimeoutError:
        return result("filtered", f"{where}: no answer within {timeout:g} s (filtered?)")
    except ConnectionRefusedError:
        return result("refused", f"{where}: connection refused (nothing listening)")
    except OSError as exc:
        if exc.errno in _UNREACHABLE:
            return result("unreachable", f"{where}: unreachable ({exc.strerror})")
        return result("error", f"{where}: connect failed ({exc.strerror or exc})")
    except BaseException:
        sock.close()
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return result("open", f"{where}: connected", keep=True)


async def _until_connected(sock: socket.socket, ip: str, port: int, start: float,
                           rtts: RoundTrips | None, host: str) -> float | None:
    """Connect; None once connected, or the seconds waited when the adaptive deadline passed
    first (the connect is then abandoned). Errors propagate as from sock_connect."""
    task = asyncio.ensure_future(asyncio.get_running_loop().sock_connect(sock, (ip, port)))
    try:
        while True:
            deadline = rtts.deadline(host) if rtts is not None else None
            waited = time.perf_counter() - start
            if deadline is not None and waited >= deadline:
                return waited
            waiters: set[asyncio.Future[Any]] = {task}
            change = None
            if rtts is not None:
                change = asyncio.ensure_future(rtts.wait_change())
                waiters.add(change)
            done, _ = await asyncio.wait(
                waiters, timeout=None if deadline is None else deadline - waited,
                return_when=asyncio.FIRST_COMPLETED)
            if change is not None:
                change.cancel()
            if task in done:
                task.result()
                return None
    finally:
        if not task.done():
            task.cancel()
