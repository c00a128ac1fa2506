"""The safe runner: what the help-desk service lets a chat user make it probe.

The probes themselves refuse loopback/private/link-local/multicast addresses (unless
`allow_private`) and connect to the exact address they checked (bot/probes policy). This runner
adds what only the service knows: a target must be one of the servers published or discovered
for the session's own e-mail domain, on a mail port, and login attempts are rate limited per
conversation, per client address and per server address (the `ProbeCall` says which
conversation and client a call is for). A refusal is a value (a skipped check), never a crash.
Time spent in probes is added to the call's clock.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.errors import ProbeRefused
from bot.probes.model import Check, ProbeObserver, ProbeReport
from bot.probes.runners.base import ProbeCall, ProbeRunner

if TYPE_CHECKING:
    from bot.catalog.catalog import Catalog
    from bot.catalog.model import Provider

log = logging.getLogger(__name__)


class Counters(Protocol):
    """Where the login budget is counted (the service's session store: shared by workers)."""

    async def hit(self, key: str, window: float) -> int:
        """Count one event under `key`; the count within the last `window` seconds."""
        ...


MAIL_PORTS: frozenset[int] = frozenset({25, 465, 587, 2525, 110, 995, 143, 993})
HOST_PARAMS = ("incoming_server", "outgoing_server", "host", "server")
PORT_PARAMS = ("incoming_port", "outgoing_port", "port")
LOGIN_PROBES = frozenset({"check_outgoing", "check_incoming"})


@dataclass(frozen=True)
class SafetySettings:
    """The `[serve]` limits on probing."""

    mail_ports: frozenset[int] = MAIL_PORTS
    logins_per_session: int = 5
    logins_per_target: int = 30
    logins_per_client: int = 10  # per client address, across all its conversations
    login_window: float = 600.0
    provider_cache_seconds: float = 300.0


class SafeRunner:
    """A ProbeRunner that only lets through what a help-desk server may probe."""

    label = "safe"

    def __init__(
        self, inner: ProbeRunner, store: Counters, settings: SafetySettings | None = None,
        resolve: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.settings = settings or SafetySettings()
        self.resolve = resolve  # host → address, for the per-server login budget
        self._hosts: dict[str, tuple[float, frozenset[str]]] = {}
        self._first_hosts: dict[tuple[str, str], str] = {}  # (domain, side) → provider host

    async def run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None = None,
        *, call: ProbeCall,
    ) -> ProbeReport:
        """Run the probe if its targets are allowed; otherwise a skipped, explained report."""
        started = time.perf_counter()
        try:
            return await self._run(name, params, observer, call)
        finally:
            if call.clock is not None:
                call.clock.add_since(started)

    def provider(self, email: str, catalogue: Catalog | None) -> Provider | None:
        return self.inner.provider(email, catalogue)

    async def _run(
        self, name: str, params: Mapping[str, str], observer: ProbeObserver | None,
        call: ProbeCall,
    ) -> ProbeReport:
        refusal = await self._refusal(name, params, call)
        if refusal is not None:
            log.info("refused probe %s for session %s: %s", name, call.session, refusal)
            return _refused(name, params, refusal, observer)
        params, note = await self._login_budget(name, params, call)
        try:
            report = await self.inner.run(name, params, observer, call=call)
        except ProbeRefused as exc:  # the probes' own address/port policy said no
            log.info("probe %s refused by the target policy: %s", name, exc)
            return _refused(name, params, str(exc), observer)
        await self._charge_extra_logins(name, params, report, call)
        return dataclasses.replace(report, notes=(*report.notes, note)) if note else report

    async def _charge_extra_logins(
        self, name: str, params: Mapping[str, str], report: ProbeReport, call: ProbeCall
    ) -> None:
        """The budget counts LOGIN commands actually sent: one probe may try several username
        forms, and the first was charged before it ran."""
        if name not in LOGIN_PROBES or not params.get("password"):
            return
        sent = sum(1 for c in report.checks if c.outcome.startswith("login_")
                   and c.outcome != "login_unsafe")
        budgets = await self._budgets(name, params, call)
        for _ in range(sent - 1):
            for key, _limit, _which in budgets:
                await self.store.hit(key, self.settings.login_window)

    async def _budgets(self, name: str, params: Mapping[str, str],
                       call: ProbeCall) -> list[tuple[str, int, str]]:
        """(counter key, limit, what it protects) of one login: this conversation, this
        client address (new conversations do not reset it) and the server's resolved address
        (whatever name, or none, the customer typed)."""
        s = self.settings
        target = await self._login_target(name, params, call)
        client = call.client
        return [(f"login:s:{call.session}", s.logins_per_session, "this conversation"),
                (f"login:c:{client}", s.logins_per_client, f"this address ({client})"),
                (f"login:t:{target}", s.logins_per_target, target)]

    async def _login_target(self, name: str, params: Mapping[str, str], call: ProbeCall) -> str:
        key = "outgoing_server" if name == "check_outgoing" else "incoming_server"
        host = params.get(key, "").strip().lower().rstrip(".")
        if not host:  # no server named: the provider's own, which the sweep logs in to
            host = await self._provider_host(key, params.get("email", ""), call)
        if not host:
            return "-"
        address = await self.resolve(host) if self.resolve is not None else None
        return address or host

    async def _provider_host(self, key: str, email: str, call: ProbeCall) -> str:
        domain = email.rpartition("@")[2].strip().lower()
        if not domain:
            return ""
        cached = self._first_hosts.get((domain, key))
        if cached is None:
            report = await self.inner.run("lookup_provider", {"email": email}, call=call)
            p = report.provider
            servers = (p.outgoing if key == "outgoing_server" else p.incoming) if p else ()
            cached = servers[0].host.lower().rstrip(".") if servers else ""
            if len(self._first_hosts) >= 10_000:  # bounded: chat users choose the domains
                self._first_hosts.clear()
            self._first_hosts[(domain, key)] = cached
        return cached

    async def _refusal(self, name: str, params: Mapping[str, str],
                       call: ProbeCall) -> str | None:
        for key in PORT_PARAMS:
            port = params.get(key, "").strip()
            if port and (not port.isdigit() or int(port) not in self.settings.mail_ports):
                return f"port {port} is not a mail port"
        hosts = {params[k].strip().lower().rstrip(".") for k in HOST_PARAMS if params.get(k)}
        if not hosts or name == "lookup_provider":
            return None
        email = params.get("email", "")
        domain = email.rpartition("@")[2].strip().lower()
        if not domain:
            return "a server was named but no e-mail address, so its provider is unknown"
        allowed = await self._allowed_hosts(domain, email, call)
        for host in sorted(hosts):
            if host not in allowed:
                return f"{host} is not a server published or discovered for {domain}"
        return None

    async def _allowed_hosts(self, domain: str, email: str, call: ProbeCall) -> frozenset[str]:
        cached = self._hosts.get(domain)
        ttl = self.settings.provider_cache_seconds
        if cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1]
        report = await self.inner.run("lookup_provider", {"email": email}, call=call)
        provider = report.provider
        hosts = frozenset(
            s.host.lower().rstrip(".") for s in provider.incoming + provider.outgoing
        ) if provider is not None else frozenset()
        if len(self._hosts) >= 10_000:  # bounded: chat users choose the domains
            self._hosts.clear()
        self._hosts[domain] = (time.monotonic(), hosts)
        return hosts

    async def _login_budget(
        self, name: str, params: Mapping[str, str], call: ProbeCall
    ) -> tuple[Mapping[str, str], str | None]:
        if name not in LOGIN_PROBES or not params.get("password"):
            return params, None
        s = self.settings
        over = None
        for key, limit, which in await self._budgets(name, params, call):
            if await self.store.hit(key, s.login_window) > limit and over is None:
                over = which
        if over is None:
            return params, None
        which = over
        log.warning("login attempt limit reached for %s", which)
        # Probe everything else, but without trying the password again.
        kept = {k: v for k, v in params.items() if k != "password"}
        return kept, f"login not tried: too many login attempts for {which}; try again later"


def _refused(
    name: str, params: Mapping[str, str], reason: str, observer: ProbeObserver | None
) -> ProbeReport:
    target = next((params[k] for k in HOST_PARAMS if params.get(k)), params.get("email", ""))
    evidence = (
        f"not probed from the help-desk server: {reason.rstrip('.')}. "
        "The customer can run the check on their own computer: deskbot probe their@address"
    )
    check = Check(probe="policy", target=target, status="skipped", evidence=evidence,
                  outcome="refused")
    if observer is not None:
        observer.check_finished(check)
    return ProbeReport(name=name, target=target, outcome="inconclusive", checks=(check,),
                       notes=(evidence,))
