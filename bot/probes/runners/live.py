"""The live ProbeRunner: the named probes of the registry, run against the real network.

Params are slot values (CONTRACT.md). `check_outgoing`/`check_incoming` sweep the client's
settings and every catalogue alternative (bot.probes.sweep documents the outcome order);
`check_relay` tries MAIL/RCPT without a login; `lookup_provider` runs catalogue lookup and
discovery. A target the policy forbids raises ProbeRefused; every network outcome is a value.
"""

from __future__ import annotations

import logging
import ssl
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import dns.asyncresolver

from bot.catalog.catalog import Catalog
from bot.catalog.model import Provider
from bot.catalog.rules import RuleBook
from bot.config import Config
from bot.errors import EngineError
from bot.probes.discovery import Discovery, discover
from bot.probes.dns import make_resolver
from bot.probes.model import Check, ProbeObserver, ProbeReport
from bot.probes.policy import TargetPolicy
from bot.probes.runners.base import ProbeCall
from bot.probes.settings import Direction, adopts_catalogue, client_settings
from bot.probes.sweep import Sweep, SweepResult
from bot.probes.tls import client_context
from bot.registry import PROBES

log = logging.getLogger(__name__)

# A long-running service meets many addresses: remember the most recent discoveries only.
MAX_DISCOVERIES = 512


class LiveProbeRunner:
    """Runs `check_outgoing`, `check_incoming`, `check_relay`, `lookup_provider` for real."""

    label = "live"

    def __init__(self, config: Config, catalog: Catalog | None = None,
                 policy: TargetPolicy | None = None) -> None:
        self.config = config
        self._catalog = catalog
        self.policy = policy or TargetPolicy.from_config(config)
        self._resolver: dns.asyncresolver.Resolver | None = None
        self._discoveries: OrderedDict[str, Discovery] = OrderedDict()
        self._tls_context: ssl.SSLContext | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalogue, loaded on first use (bundled data plus `[catalog] files`)."""
        if self._catalog is None:
            self._catalog = Catalog.load(self.config)
        return self._catalog

    @property
    def resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            self._resolver = make_resolver(self.config)
        return self._resolver

    @property
    def tls_context(self) -> ssl.SSLContext:
        """The client TLS context (system roots plus `[tls] ca_file`), built once."""
        if self._tls_context is None:
            self._tls_context = client_context(self.config.ca_file)
        return self._tls_context

    async def run(self, name: str, params: Mapping[str, str],
                  observer: ProbeObserver | None = None, *, call: ProbeCall) -> ProbeReport:
        """Run one named probe; `params` are slot values (strings). The call's context does
        not change what a live probe does (the safe runner reads it)."""
        values = {k: str(v) for k, v in params.items() if v is not None}
        if name == "lookup_provider":
            return await self._lookup(values)
        if name == "check_outgoing":
            return await self._check(name, values, "outgoing", observer)
        if name == "check_incoming":
            return await self._check(name, values, "incoming", observer)
        if name == "check_relay":
            return await self._check(name, values, "outgoing", observer, relay_only=True)
        raise EngineError(f"unknown probe {name!r} (known: check_outgoing, check_incoming, "
                          "check_relay, lookup_provider)")

    def provider(self, email: str, catalogue: Catalog | None) -> Provider | None:
        """The catalogue's provider for an address (the engine's catalogue, else this
        runner's); discovery over the network is the `lookup_provider` probe."""
        return (catalogue or self.catalog).lookup(email)

    async def discover(self, email: str) -> Discovery:
        """Catalogue lookup, then Thunderbird-style discovery; remembered per address."""
        key = email.strip().lower()
        found = self._discoveries.get(key)
        if found is None:
            found = await discover(key, self.catalog, self.config, resolver=self.resolver)
            self._discoveries[key] = found
            if len(self._discoveries) > MAX_DISCOVERIES:
                self._discoveries.popitem(last=False)
        self._discoveries.move_to_end(key)
        return found

    async def _lookup(self, values: dict[str, str]) -> ProbeReport:
        email = values.get("email", "")
        found = await self.discover(email)
        outcome = "found" if found.provider else "not_found"
        facts: dict[str, str] = {"domain": found.domain}
        if found.provider is not None:
            facts.update(provider_name=found.provider.name, provider_id=found.provider.id,
                         found_by=found.found_by or "")
            if found.provider.oauth_only:
                facts["oauth_only"] = "true"
            if note := found.provider.extra.get("login_note"):  # curated ISPs' own login rule
                facts["provider_note"] = str(note)
        rule = RuleBook.load().for_address(email, found.provider.id if found.provider else None)
        if rule is not None:  # login and storage rules, and the one protocol if only one
            facts.update(rule.facts())
            facts["rule_protocols"] = " ".join(rule.protocols)
            if rule.single_protocol:
                facts["single_protocol"] = rule.single_protocol
        return ProbeReport("lookup_provider", email, outcome, found.steps, (), facts,
                           found.provider)

    async def _check(self, name: str, values: dict[str, str], direction: Direction,
                     observer: ProbeObserver | None, relay_only: bool = False) -> ProbeReport:
        email = values.get("email", "")
        provider, steps = await self._provider(email)
        client = client_settings(values, direction, provider)
        sweep = Sweep(
            email=email, direction=direction, provider=provider, client=client,
            password=values.get("password") or None, resolver=self.resolver,
            ctx=self.tls_context, timeout=self.config.timeout,
            policy=self.policy, observer=observer, relay_only=relay_only,
            suggest=self._suggestions(client.host if client else None),
            rule=RuleBook.load().for_address(email, provider.id if provider else None),
            protocol=_stated_protocol(values) if direction == "incoming" else None,
            hypotheses=_hypotheses(values),
            adopted=adopts_catalogue(values),
        )
        result = await sweep.run()
        return _report(name, email, result, provider, steps, relay_only)

    async def _provider(self, email: str) -> tuple[Provider | None, tuple[Check, ...]]:
        if "@" not in email:
            return None, ()
        found = self.catalog.lookup(email)
        if found is not None:
            return found, ()
        discovery = await self.discover(email)
        return discovery.provider, discovery.steps

    def _suggestions(self, host: str | None) -> dict[str, str]:
        if not host:
            return {}
        try:
            suggestion = self.catalog.suggest_host(host)
        except Exception:  # a suggestion is a nicety; never let it sink a probe
            log.exception("suggest_host(%s) failed", host)
            return {}
        return {host.lower(): suggestion} if suggestion else {}


def _report(name: str, email: str, result: SweepResult, provider: Provider | None,
            steps: tuple[Check, ...], relay_only: bool) -> ProbeReport:
    outcome = result.outcome
    if relay_only and outcome not in PROBES["check_relay"].outcomes:
        outcome = "inconclusive"
    target = result.primary.target if result.primary else email
    facts: dict[str, Any] = dict(result.facts)
    return ProbeReport(name, target, outcome, steps + result.checks, result.diagnoses,
                       {k: str(v) for k, v in facts.items()}, result.provider or provider,
                       result.notes)


def _hypotheses(values: dict[str, str]) -> tuple[str, ...]:
    """The diagnoses to test first (param `hypotheses`, comma-separated, best first)."""
    return tuple(h.strip() for h in values.get("hypotheses", "").split(",") if h.strip())


def _stated_protocol(values: dict[str, str]) -> str | None:
    """The incoming protocol the customer stated (slot `incoming_protocol`), if any."""
    stated = values.get("incoming_protocol", "").strip().lower()
    return "pop3" if stated.startswith("pop") else "imap" if stated.startswith("imap") else None
