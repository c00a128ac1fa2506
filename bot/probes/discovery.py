"""Find a domain's mail settings the way Thunderbird does, each step shown to the user.

Order: the catalogue; the provider's own autoconfig URLs (autoconfig.<domain>, then
<domain>/.well-known); the MX host mapped back to a catalogue provider; RFC 6186 SRV records;
then guessing host names, confirmed by connecting. The network steps (autoconfig, MX, SRV) run
concurrently so an offline machine waits one timeout, not four; the first success in that order
wins and the later steps are dropped from the report, so the outcome never depends on timing.
Guessing connects to many ports, so it runs only when everything else found nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

import dns.asyncresolver

from bot.catalog.autoconfig import MAX_BYTES, parse_bytes
from bot.catalog.catalog import Catalog, fill_domain
from bot.catalog.model import Protocol, Provider, Security, ServerSettings
from bot.config import Config
from bot.errors import CatalogError
from bot.probes.dns import DnsAnswer, lookup, make_resolver, resolve_host
from bot.probes.fetch import allowed, https_get, https_url
from bot.probes.model import Check, ProbeObserver, ProbeReport

PortProbe = Callable[[str, int], Awaitable[bool]]

AUTOCONFIG_PATHS = (
    ("autoconfig.{domain}", "/mail/config-v1.1.xml"),
    ("{domain}", "/.well-known/autoconfig/mail/config-v1.1.xml"),
)
# RFC 6186 service labels; RFC 8314 prefers implicit TLS, so those come first.
SRV_SERVICES: tuple[tuple[str, Protocol, Security], ...] = (
    ("_imaps", "imap", "ssl"), ("_imap", "imap", "starttls"),
    ("_pop3s", "pop3", "ssl"), ("_pop3", "pop3", "starttls"),
    ("_submissions", "smtp", "ssl"), ("_submission", "smtp", "starttls"),
)
# Thunderbird's guesses: host prefixes per protocol, then ports in order of preference.
GUESS_HOSTS: dict[Protocol, tuple[str, ...]] = {
    "imap": ("imap.", "mail.", ""),
    "pop3": ("pop3.", "pop.", "mail.", ""),
    "smtp": ("smtp.", "mail.", ""),
}
GUESS_PORTS: dict[Protocol, tuple[tuple[int, Security], ...]] = {
    "imap": ((993, "ssl"), (143, "starttls")),
    "pop3": ((995, "ssl"), (110, "starttls")),
    "smtp": ((465, "ssl"), (587, "starttls"), (25, "starttls")),
}
# Every guess at once (23 at most): filtered ports then cost one timeout, not three.
GUESS_CONCURRENCY = 24
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


@dataclass(frozen=True)
class Discovery:
    """Where a domain's settings came from: the provider (or None) and every step taken."""

    email: str
    domain: str
    provider: Provider | None
    steps: tuple[Check, ...]

    @property
    def found_by(self) -> str | None:
        """The step that found the provider (`catalogue`, `autoconfig`, `mx`, `srv`, `guess`)."""
        return self.steps[-1].probe if self.provider and self.steps else None

    def as_report(self, name: str = "lookup_provider") -> ProbeReport:
        """The `lookup_provider` probe's answer: outcome `found` or `not_found`."""
        facts = {"domain": self.domain}
        if self.provider is not None:
            facts |= {
                "found_by": self.found_by or "", "provider_name": self.provider.name,
                "oauth_only": "true" if self.provider.oauth_only else "false",
            }
        return ProbeReport(
            name=name, target=self.domain, outcome="found" if self.provider else "not_found",
            checks=self.steps, facts=facts, provider=self.provider,
        )


@dataclass(frozen=True)
class _Step:
    check: Check
    provider: Provider | None = None


async def discover(
    email: str,
    catalog: Catalog,
    config: Config,
    *,
    probe_port: PortProbe | None = None,
    resolver: dns.asyncresolver.Resolver | None = None,
    observer: ProbeObserver | None = None,
    https_port: int = 443,
) -> Discovery:
    """Find the provider for `email`'s domain; never raises for network outcomes.

    `probe_port(host, port) -> bool` confirms guessed servers (default: a TCP connect through
    the configured resolver). `observer` is told as each step starts and ends (steps dropped
    because an earlier one succeeded end as `skipped`). `https_port` is for tests that cannot
    bind 443.
    """
    record = _Recorder(observer)
    domain = mail_domain(email)
    if "@" not in email or domain is None:
        record.start("catalogue", email)
        record.finish(Check("catalogue", email, "fail", f"{email!r} is not an e-mail address",
                            outcome="invalid"))
        return Discovery(email, "", None, tuple(record.steps))
    record.start("catalogue", domain)
    found = catalog.lookup(domain)
    record.finish(_catalogue_check(domain, found))
    if found:
        return Discovery(email, domain, found, tuple(record.steps))
    resolver = resolver or make_resolver(config)
    ctx = _Context(domain, catalog, config, resolver, https_port)
    step = await _first_success(record, [
        *(("autoconfig", https_url(h.format(domain=domain), p, https_port),
           _autoconfig(ctx, h, p)) for h, p in AUTOCONFIG_PATHS),
        ("mx", domain, _mx(ctx)),
        ("srv", domain, _srv(ctx)),
    ])
    if step is None:
        record.start("guess", domain)
        guess = await _guess(ctx, probe_port or tcp_port_probe(config, resolver))
        record.finish(guess.check)
        step = guess if guess.provider else None
    return Discovery(email, domain, step.provider if step else None, tuple(record.steps))


def mail_domain(email: str) -> str | None:
    """The ASCII (IDNA) domain of an address, or None when it is no valid host name.

    The domain ends up in DNS questions and in an HTTP Host header, so nothing else passes.
    """
    domain = email.rpartition("@")[2].strip().rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return domain if _DOMAIN.fullmatch(domain) else None


@dataclass
class _Recorder:
    """The steps shown to the user, and the observer told about each."""

    observer: ProbeObserver | None
    steps: list[Check] = field(default_factory=list)

    def start(self, probe: str, target: str) -> None:
        if self.observer is not None:
            self.observer.check_started(probe, target)

    def finish(self, check: Check, *, shown: bool = True) -> None:
        if shown:
            self.steps.append(check)
        if self.observer is not None:
            self.observer.check_finished(check)


@dataclass(frozen=True)
class _Context:
    domain: str
    catalog: Catalog
    config: Config
    resolver: dns.asyncresolver.Resolver
    https_port: int


def _catalogue_check(domain: str, provider: Provider | None) -> Check:
    if provider is None:
        return Check("catalogue", domain, "fail", f"{domain} is not in the catalogue",
                     outcome="not_found")
    origin = "a configured provider file" if provider.source == "config file" else (
        f"curated from {provider.extra['source_url']}{_third_party(provider)}"
        if provider.extra.get("curated") else "the bundled catalogue")
    return Check("catalogue", domain, "ok", f"{domain} is {provider.name} ({origin})")


def _third_party(provider: Provider) -> str:
    # Said out loud so nobody mistakes a public list for the ISP's own word.
    if provider.extra.get("source_kind") == "third_party":
        return ", a public provider list, not the ISP's own page"
    return ""


async def _first_success(
    record: _Recorder, steps: list[tuple[str, str, Coroutine[Any, Any, _Step]]]
) -> _Step | None:
    """Run concurrently, report in order up to the first success, cancel the rest."""
    for probe, target, _ in steps:
        record.start(probe, target)
    tasks = [asyncio.create_task(coro) for _, _, coro in steps]
    winner: _Step | None = None
    try:
        for (probe, target, _), task in zip(steps, tasks, strict=True):
            if winner is not None:
                task.cancel()
                record.finish(Check(probe, target, "skipped", "not needed: found already",
                                    outcome="skipped"), shown=False)
                continue
            step = await task
            record.finish(step.check)
            if step.provider is not None:
                winner = step
        return winner
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _elapsed(start: float) -> float:
    return (time.perf_counter() - start) * 1000


async def _autoconfig(ctx: _Context, host_form: str, path: str) -> _Step:
    host = host_form.format(domain=ctx.domain)
    got = await https_get(host, path, config=ctx.config, resolver=ctx.resolver,
                          max_bytes=MAX_BYTES, port=ctx.https_port)
    if not got.ok:
        return _Step(Check("autoconfig", got.url, "fail", got.detail, ms=got.ms,
                           outcome=got.outcome))
    try:
        provider = parse_bytes(got.body, got.url, source="autoconfig URL")
    except CatalogError as exc:
        return _Step(Check("autoconfig", got.url, "fail", str(exc), ms=got.ms,
                           outcome="invalid"))
    provider = fill_domain(provider, ctx.domain)
    evidence = f"{got.url} published settings for {provider.name}"
    if got.final_url != got.url:
        evidence += f" (redirected to {got.final_url})"
    return _Step(Check("autoconfig", got.url, "ok", evidence, ms=got.ms), provider)


async def _mx(ctx: _Context) -> _Step:
    start = time.perf_counter()
    answer = await lookup(ctx.resolver, ctx.domain, "MX", ctx.config.timeout)
    if not answer.ok:
        return _Step(Check("mx", ctx.domain, "fail", answer.detail, ms=_elapsed(start),
                           outcome=answer.outcome))
    hosts = [r.split()[1] for r in sorted(answer.records, key=lambda r: int(r.split()[0]))]
    if hosts == ["."]:  # RFC 7505 null MX
        return _Step(Check("mx", ctx.domain, "fail",
                           f"{ctx.domain} publishes a null MX: it receives no mail",
                           ms=_elapsed(start), outcome="null_mx"))
    for host in hosts:
        provider = ctx.catalog.provider_for_mx(host)
        if provider:
            provider = replace(fill_domain(provider, ctx.domain), source="mx")
            evidence = f"mail for {ctx.domain} goes to {host}, which is {provider.name}"
            return _Step(Check("mx", ctx.domain, "ok", evidence, ms=_elapsed(start)), provider)
    evidence = f"MX {', '.join(hosts)}: not a provider in the catalogue"
    return _Step(Check("mx", ctx.domain, "fail", evidence, ms=_elapsed(start),
                       outcome="not_found"))


async def _srv(ctx: _Context) -> _Step:
    start = time.perf_counter()
    names = [f"{label}._tcp.{ctx.domain}" for label, _, _ in SRV_SERVICES]
    answers = await asyncio.gather(
        *(lookup(ctx.resolver, n, "SRV", ctx.config.timeout) for n in names)
    )
    servers: list[ServerSettings] = []
    notes: list[str] = []
    for (label, protocol, security), answer in zip(SRV_SERVICES, answers, strict=True):
        offered = _srv_servers(answer.records, protocol, security) if answer.ok else []
        servers.extend(offered)
        if offered:
            notes.append(f"{label}: " + ", ".join(f"{s.host}:{s.port}" for s in offered))
        elif answer.ok:
            notes.append(f"{label}: not offered")
    ms = _elapsed(start)
    incoming = tuple(s for s in servers if s.protocol != "smtp")
    outgoing = tuple(s for s in servers if s.protocol == "smtp")
    if not servers:
        reasons = "; ".join(notes) or _srv_failure(answers, ctx.config.timeout)
        return _Step(Check("srv", ctx.domain, "fail", f"no RFC 6186 SRV records ({reasons})",
                           ms=ms, outcome="not_found"))
    provider = Provider(id=ctx.domain, name=ctx.domain, domains=(ctx.domain,),
                        incoming=incoming, outgoing=outgoing, source="srv")
    return _Step(Check("srv", ctx.domain, "ok", "; ".join(notes), ms=ms), provider)


def _srv_failure(answers: list[DnsAnswer], timeout: float) -> str:
    outcomes = {a.outcome for a in answers}
    if outcomes == {"timeout"}:
        return f"no DNS answer within {timeout:g} s"
    if outcomes == {"error"}:
        return answers[0].detail
    return "none published"


def _srv_servers(
    records: tuple[str, ...], protocol: Protocol, security: Security
) -> list[ServerSettings]:
    """SRV records, lowest priority then highest weight first; target "." = not offered."""
    parsed = []
    for record in records:
        prio, weight, port, target = record.split()
        if target != "." and int(port) > 0:
            parsed.append((int(prio), -int(weight), target.lower(), int(port)))
    return [
        ServerSettings(protocol=protocol, host=host, port=port, security=security)
        for _, _, host, port in sorted(parsed)
    ]


def tcp_port_probe(config: Config, resolver: dns.asyncresolver.Resolver) -> PortProbe:
    """A `probe_port` that resolves with our resolver and opens (then closes) a TCP connection."""

    async def probe(host: str, port: int) -> bool:
        try:
            async with asyncio.timeout(config.timeout):
                answer = await resolve_host(resolver, host, config.timeout)
                if not answer.ok or not allowed(answer.records[0], config):
                    return False
                _, writer = await asyncio.open_connection(answer.records[0], port)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    return probe


async def _guess(ctx: _Context, probe_port: PortProbe) -> _Step:
    start = time.perf_counter()
    candidates = [
        ServerSettings(protocol=proto, host=f"{prefix}{ctx.domain}", port=port, security=sec)
        for proto, prefixes in GUESS_HOSTS.items()
        for prefix in prefixes
        for port, sec in GUESS_PORTS[proto]
    ]
    hosts = sorted({c.host for c in candidates})
    answers = await asyncio.gather(
        *(resolve_host(ctx.resolver, h, ctx.config.timeout) for h in hosts)
    )
    existing = {h for h, a in zip(hosts, answers, strict=True) if a.ok}
    limit = asyncio.Semaphore(GUESS_CONCURRENCY)

    async def confirm(server: ServerSettings) -> bool:
        async with limit:
            try:
                return await probe_port(server.host, server.port)
            except (OSError, TimeoutError):
                return False

    live = [c for c in candidates if c.host in existing]
    results = await asyncio.gather(*(confirm(c) for c in live))
    answered = [c for c, ok in zip(live, results, strict=True) if ok]
    ms = _elapsed(start)
    if not answered:
        why = (f"none of {', '.join(hosts)} exists" if not existing
               else f"no mail port answered on {', '.join(sorted(existing))}")
        return _Step(Check("guess", ctx.domain, "fail", why, ms=ms, outcome="not_found"))
    provider = Provider(
        id=ctx.domain, name=ctx.domain, domains=(ctx.domain,), source="guess",
        incoming=tuple(c for c in answered if c.protocol != "smtp"),
        outgoing=tuple(c for c in answered if c.protocol == "smtp"),
    )
    evidence = "answered: " + ", ".join(f"{c.host}:{c.port}" for c in answered)
    return _Step(Check("guess", ctx.domain, "ok", evidence, ms=ms), provider)
