"""Both address families of a dual-stack server, the way happy-eyeballs clients meet them.

Phones and many mail apps try a host's IPv6 address first (RFC 8305) and hang when that path
is broken, while a probe that only uses IPv4 finds everything working. For the client's own
host the sweep therefore also looks up AAAA and connects to the first IPv6 address on the
client's port, with the adaptive deadline of `bot.probes.tcp.RoundTrips` (the IPv4 address of
the same host answering at once makes a silent IPv6 address a verdict within about a second).
"""

from __future__ import annotations

import dns.asyncresolver

from bot.probes.dns import lookup
from bot.probes.endpoint import Endpoint
from bot.probes.model import Check, ProbeObserver
from bot.probes.tcp import RoundTrips, TcpResult, connect


async def ipv6_address(resolver: dns.asyncresolver.Resolver, host: str,
                       timeout: float) -> str | None:
    """The host's first AAAA address, or None (no record, an IP literal, or no answer)."""
    if ":" in host or host.replace(".", "").isdigit():
        return None
    answer = await lookup(resolver, host, "AAAA", timeout)
    return answer.records[0] if answer.ok and answer.records else None


async def probe_ipv6(endpoint: Endpoint, ip6: str, timeout: float, rtts: RoundTrips,
                     observer: ProbeObserver | None = None) -> tuple[TcpResult, Check]:
    """One TCP connect to the endpoint's IPv6 address (closed again at once)."""
    if observer is not None:
        observer.check_started("tcp", endpoint.target)
    tcp = await connect(ip6, endpoint.port, timeout, rtts, endpoint.host)
    if tcp.sock is not None:
        tcp.sock.close()
    check = Check("tcp", endpoint.target, "ok" if tcp.open else "fail",
                  f"{endpoint.host} over IPv6 → {tcp.detail}", None, tcp.ms,
                  f"ipv6_{tcp.outcome}")
    if observer is not None:
        observer.check_finished(check)
    return tcp, check


def ipv6_broken(v6: TcpResult | None, v4_answered: bool) -> bool:
    """True when IPv4 reached the server but its IPv6 address did not answer at all."""
    return v6 is not None and v4_answered and v6.outcome in ("filtered", "unreachable")
