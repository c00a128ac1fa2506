"""DNS probe: A/AAAA/MX/SRV through the configured nameservers, outcomes told apart.

Outcomes: `ok` (records found), `nxdomain` (the name does not exist), `no_answer` (the name
exists but has no record of that type), `timeout` (no server answered in time), `error`
(anything else, e.g. SERVFAIL or no nameserver configured). dnspython's exceptions are
translated here and nowhere else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from bot.config import Config

log = logging.getLogger(__name__)

DnsOutcome = Literal["ok", "nxdomain", "no_answer", "timeout", "error"]


@dataclass(frozen=True)
class DnsAnswer:
    """What one DNS question got back."""

    name: str
    rdtype: str
    outcome: DnsOutcome
    records: tuple[str, ...] = ()
    ms: float = 0.0
    detail: str = ""  # plain-language reason for a non-ok outcome

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def make_resolver(config: Config) -> dns.asyncresolver.Resolver:
    """A resolver that asks `config.nameservers` (host:port) or, if none, the system's."""
    if not config.nameservers:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            # No /etc/resolv.conf: lookups then fail as `error`, not at construction.
            resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.lifetime = config.timeout
        return resolver
    resolver = dns.asyncresolver.Resolver(configure=False)
    # dnspython keeps one port for plain addresses; per-server ports need Nameserver objects.
    resolver.nameservers = [
        dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in config.nameservers
    ]
    resolver.timeout = config.timeout
    resolver.lifetime = config.timeout
    return resolver


def _host(name: object) -> str:
    return str(name).rstrip(".") or "."


def _text(rdtype: str, rdata: object) -> str:
    if rdtype == "MX":
        return f"{getattr(rdata, 'preference')} {_host(getattr(rdata, 'exchange'))}"  # noqa: B009
    if rdtype == "SRV":
        prio, weight, port = (getattr(rdata, k) for k in ("priority", "weight", "port"))
        return f"{prio} {weight} {port} {_host(getattr(rdata, 'target'))}"  # noqa: B009
    return _host(rdata) if rdtype in ("CNAME", "NS", "PTR") else str(rdata)


async def lookup(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, timeout: float
) -> DnsAnswer:
    """Ask one question; never raises for DNS outcomes (they are values).

    Records are strings: A/AAAA the address, MX `"pref host"`, SRV
    `"prio weight port target"` (target `.` means the service is not offered, RFC 6186).
    """
    start = time.perf_counter()

    def answer(outcome: DnsOutcome, records: tuple[str, ...] = (), detail: str = "") -> DnsAnswer:
        ms = (time.perf_counter() - start) * 1000
        return DnsAnswer(name, rdtype, outcome, records, ms, detail)

    try:
        async with asyncio.timeout(timeout):
            result = await resolver.resolve(name, rdtype, lifetime=timeout, search=False)
    except dns.resolver.NXDOMAIN:
        return answer("nxdomain", detail=f"{name} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return answer("no_answer", detail=f"{name} exists but has no {rdtype} record")
    except (dns.exception.Timeout, TimeoutError):
        return answer("timeout", detail=f"no DNS answer for {name} within {timeout:g} s")
    except dns.resolver.NoNameservers as exc:
        return answer("error", detail=f"DNS servers failed to answer for {name}: {exc}")
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        log.debug("dns lookup %s %s failed: %r", name, rdtype, exc)
        return answer("error", detail=f"DNS lookup of {name} failed: {exc}")
    records = tuple(_text(rdtype, r) for r in result)
    return answer("ok", records)


async def resolve_host(
    resolver: dns.asyncresolver.Resolver, host: str, timeout: float
) -> DnsAnswer:
    """A then AAAA for a host name; an IP literal answers itself."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return DnsAnswer(host, "A", "ok", (host,))
    a = await lookup(resolver, host, "A", timeout)
    if a.outcome in ("ok", "nxdomain", "timeout"):
        return a
    aaaa = await lookup(resolver, host, "AAAA", timeout)
    return aaaa if aaaa.ok else a
