"""TCP connect probe: open / refused / filtered (timeout) / unreachable, to one exact address."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from dataclasses import dataclass
from typing import Literal

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


async def connect(ip: str, port: int, timeout: float) -> TcpResult:
    """Connect to ip:port within `timeout`; the caller owns (and closes) `sock` when open."""
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
            await asyncio.get_running_loop().sock_connect(sock, (ip, port))
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
