"""The sweep: the client's settings and every catalogue alternative, probed concurrently.

The first endpoint is the client's (or, when their settings are unknown, the catalogue's
recommended one); the others are the catalogue's servers for the same direction and, when the
client's host is not a catalogue host, that host on the catalogue's ports, so "another port of
the same server" can be told. All hosts are resolved once, checked by the policy, and every
endpoint is probed at the same time. Only the client's endpoint is logged into: one attempt
per username form (the configured one, then the full address, then the local part), and only
while the previous form was rejected.

Outcome (the single most specific code for the client's endpoint), by pipeline stage:
  1. DNS of the client's host: dns_not_found (NXDOMAIN) / dns_unavailable (no answer)
  2. TCP (or no greeting at all): port_blocked (timeout) / port_closed (refused) when another
     port of the same address answers, else server_unreachable
  3. TLS mode: tls_mode_mismatch     4. certificate_expired / _untrusted / _name_mismatch
  5. catalogue says OAuth2 only: auth_oauth_required (no password is tried)
  6. login or relay: auth_oauth_required, auth_mechanism_unsupported, smtp_auth_required,
     mailbox_locked, auth_username_format (another form accepted), auth_wrong_password
  7. ok; `inconclusive` when the port answered with something that is not the protocol.

Only what was probed is concluded (diagnoses.yaml): `ok` means the customer's own settings
passed; when they were not given, the catalogue's recommended settings passing is
`recommended_ok`, which is no diagnosis. `server_unreachable` needs another port of the same
address tried and silent too; a port the policy skipped or the plan never held is "not tested",
so a lone silent port is `inconclusive` with a note saying what was not tested.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import dns.asyncresolver

from bot.catalog.model import Provider, Security, ServerSettings
from bot.catalog.rules import ProviderRule
from bot.diagnoses import Code
from bot.probes.certnames import advice as cert_advice
from bot.probes.certnames import working_name
from bot.probes.dns import DnsAnswer, resolve_host
from bot.probes.dualstack import ipv6_address, ipv6_broken, probe_ipv6
from bot.probes.endpoint import Endpoint, EndpointResult, Login
from bot.probes.evidence import dns_check as _dns_check
from bot.probes.evidence import fill_facts as _fill_facts
from bot.probes.evidence import observed
from bot.probes.evidence import tag as _tag
from bot.probes.imap import ImapSession
from bot.probes.model import Check, ProbeObserver
from bot.probes.policy import TargetPolicy
from bot.probes.pop3 import Pop3Session
from bot.probes.session import SessionFactory, probe_endpoint
from bot.probes.settings import ClientSettings, Direction
from bot.probes.smtp import SmtpSession, relay_action
from bot.probes.tcp import RoundTrips, TcpResult

FACTORIES: dict[str, SessionFactory] = {
    "smtp": SmtpSession, "pop3": Pop3Session, "imap": ImapSession,
}
STANDARD_PORTS: dict[str, list[tuple[int, Security]]] = {
    "smtp": [(587, "starttls"), (465, "ssl"), (25, "starttls")],
    "imap": [(993, "ssl"), (143, "starttls")],
    "pop3": [(995, "ssl"), (110, "starttls")],
}
LOGIN_CAP_NOTE = "login attempts capped at one per username form ({n} tried: {forms})"


@dataclass(frozen=True)
class SweepResult:
    """The evidence of one sweep and the diagnosis it supports."""

    outcome: Code | Literal["inconclusive", "recommended_ok"]
    primary: Endpoint | None
    checks: tuple[Check, ...]
    diagnoses: tuple[Code, ...]
    facts: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    results: tuple[EndpointResult, ...] = ()
    provider: Provider | None = None  # the catalogue's, security corrected by what was seen


@dataclass
class Sweep:
    """Everything a sweep needs; `run()` performs it."""

    email: str
    direction: Direction
    provider: Provider | None
    client: ClientSettings | None
    password: str | None
    resolver: dns.asyncresolver.Resolver
    ctx: ssl.SSLContext
    timeout: float
    policy: TargetPolicy
    observer: ProbeObserver | None = None
    relay_only: bool = False  # check_relay: no login, MAIL/RCPT without AUTH
    rule: ProviderRule | None = None  # curated login/storage rule (bot/data/provider_rules)
    protocol: str | None = None  # the incoming protocol the customer stated (pop3|imap)
    suggest: dict[str, str] = field(default_factory=dict)  # host → catalogue host suggestion
    # Diagnoses to test first, best first (the customer's pasted error, then what they said;
    # bot/engine/steer.py): they choose between readings the same evidence allows.
    hypotheses: tuple[str, ...] = ()
    adopted: bool = False  # the catalogue's settings are the customer's own (account setup)
    _rtts: RoundTrips = field(default_factory=RoundTrips)  # adaptive filtered-port deadlines
    _v6: TcpResult | None = None  # the client host's IPv6 connect (dual-stack hosts only)

    async def run(self) -> SweepResult:
        """Probe and conclude; never raises for network outcomes (ProbeRefused for policy)."""
        planned = self.plan()
        if not planned:
            return SweepResult("inconclusive", None, (), (), {},
                               ("no server to probe: the provider is unknown and the client's "
                                "settings were not given",))
        self.policy.check_target(planned[0].host, planned[0].port)
        primary = planned[0]
        answers = await self._resolve({e.host for e in planned})
        checks = [_dns_check(a) for a in answers.values()]
        dns_primary = answers[primary.host]
        if not dns_primary.ok:
            return self._dns_failed(primary, dns_primary, checks)
        endpoints, skipped = self._place(planned, answers)
        checks += skipped
        probes = [self._probe(e, self._first_action(e) if i == 0 else None)
                  for i, e in enumerate(endpoints)]
        found = await asyncio.gather(*probes, self._ipv6_twin(endpoints[0]))
        results = [r for r in found if isinstance(r, EndpointResult)]
        for item in found:
            if isinstance(item, tuple):
                self._v6, check = item
                checks.append(check)
        notes: list[str] = []
        results[0] = await self._more_logins(results[0], notes)
        for r in results:
            checks += r.checks
        found_result = self._conclude(results, checks, notes)
        if found_result.outcome == "certificate_name_mismatch":
            await self._certificate_names(results[0], found_result.facts)
        return replace(found_result, provider=observed(self.provider, self.direction, results))

    async def _certificate_names(self, primary: EndpointResult, facts: dict[str, str]) -> None:
        """Probe the names the certificate covers; advise one that works, or the admin."""
        names = primary.tls.names if primary.tls is not None else ()
        ep = primary.endpoint
        working = await working_name(ep, names, FACTORIES[ep.protocol], self.ctx,
                                     self.timeout, self.resolver, self.policy)
        facts["cert_advice"] = cert_advice(ep.host, ep.port, names, working)
        if working is not None:
            facts["cert_suggested_host"] = facts["suggested_host"] = working
        elif facts.get("suggested_host") == ep.host:
            del facts["suggested_host"]  # never advise the very name that fails

    async def _ipv6_twin(self, primary: Endpoint) -> tuple[TcpResult, Check] | None:
        """The IPv6 connect of a dual-stack client host (IPv4 is what `primary` uses); the
        AAAA question is asked after the A answers, alongside the probes, so it costs no
        time and cannot race the A lookup the policy checked."""
        if ":" in primary.ip:
            return None
        ip6 = await ipv6_address(self.resolver, primary.host, self.timeout)
        if ip6 is None or not self.policy.allows(primary.host, primary.port, ip6):
            return None
        return await probe_ipv6(primary, ip6, self.timeout, self._rtts, self.observer)

    # --- planning ----------------------------------------------------------------------
    def _servers(self) -> tuple[ServerSettings, ...]:
        """The catalogue's servers for the direction; incoming ones of the protocol the
        customer stated first (a POP3 customer is tested on POP3, not the first IMAP)."""
        if self.provider is None:
            return ()
        if self.direction == "outgoing":
            return self.provider.outgoing
        stated = self.client.protocol if self.client is not None else self.protocol
        first = self.provider.incoming_for(stated) if stated else ()
        return first + tuple(s for s in self.provider.incoming if s not in first)

    def plan(self) -> list[Endpoint]:
        """The client's endpoint first, then every alternative, one per host:port."""
        servers = self._servers()
        first: list[Endpoint] = []
        if self.client is not None:
            c = self.client
            first.append(Endpoint(c.protocol, c.host.lower(), c.port, c.security))
        out = first + [Endpoint(s.protocol, s.host.lower(), s.port, s.security) for s in servers]
        if self.client is not None and self.client.host.lower() not in {s.host for s in servers}:
            # the client's own host on the catalogue's ports (or, with no catalogue entry, the
            # standard ones) tells "this port is blocked" from "this server is down"
            c = self.client
            ports = [(s.protocol, s.port, s.security) for s in servers] or [
                (c.protocol, port, security) for port, security in STANDARD_PORTS[c.protocol]]
            out += [Endpoint(protocol, c.host.lower(), port, security)
                    for protocol, port, security in ports]
        seen: set[tuple[str, int]] = set()
        unique = []
        for e in out:
            if (e.host, e.port) not in seen:
                seen.add((e.host, e.port))
                unique.append(e)
        return unique

    async def _resolve(self, hosts: set[str]) -> dict[str, DnsAnswer]:
        names = sorted(hosts)
        found = await asyncio.gather(*(self._resolve_one(h) for h in names))
        return dict(zip(names, found, strict=True))

    async def _resolve_one(self, host: str) -> DnsAnswer:
        if self.observer is not None:
            self.observer.check_started("dns", host)
        answer = await resolve_host(self.resolver, host, self.timeout)
        if self.observer is not None:
            self.observer.check_finished(_dns_check(answer))
        return answer

    def _place(self, planned: list[Endpoint], answers: dict[str, DnsAnswer]
               ) -> tuple[list[Endpoint], list[Check]]:
        """Attach resolved addresses; the policy may forbid alternatives (skipped), but a
        forbidden client endpoint raises ProbeRefused."""
        placed: list[Endpoint] = []
        skipped: list[Check] = []
        for i, e in enumerate(planned):
            answer = answers[e.host]
            if not answer.ok:
                continue
            ip = answer.records[0]
            if i == 0:
                self.policy.check_address(e.host, ip)
            elif not self.policy.allows(e.host, e.port, ip):
                skipped.append(Check("tcp", e.target, "skipped",
                                     f"{e.target} ({ip}) is outside what this service may probe",
                                     outcome="refused_by_policy"))
                continue
            placed.append(replace(e, ip=ip))
        return placed, skipped

    # --- probing -----------------------------------------------------------------------
    def _forms(self) -> list[str]:
        """Username forms to try, in order: configured (or catalogue), address, local part."""
        local = self.email.partition("@")[0]
        template = next((s for s in self._servers()), None)
        first = (self.client.username if self.client and self.client.username
                 else template.username_for(self.email) if template else self.email)
        forms: list[str] = []
        for form in (first, self.email, local):
            if form and form not in forms:
                forms.append(form)
        return forms

    def _wants_login(self) -> bool:
        if self.relay_only or not self.password:
            return False
        if self.client is not None and not self.client.auth:
            return False
        return not self._oauth_only()

    def _oauth_only(self) -> bool:
        """The catalogue or the curated rule says mail apps must sign in with OAuth2."""
        return (self.provider is not None and self.provider.oauth_only) or (
            self.rule is not None and self.rule.login.oauth_only)

    def _first_action(self, e: Endpoint) -> Login | str | None:
        if self.relay_only or (self.client is not None and not self.client.auth
                               and e.protocol == "smtp"):
            return "relay"
        if self._wants_login() and self.password:
            return Login(self._forms()[0], self.password, self._sender(e))
        return None

    def _sender(self, e: Endpoint) -> str:
        """SMTP: the address to try MAIL FROM/RCPT TO with after the login (blocklists and a
        full own mailbox show only there); nothing for POP3/IMAP."""
        return self.email if e.protocol == "smtp" and "@" in self.email else ""

    async def _probe(self, e: Endpoint, act: Login | str | None) -> EndpointResult:
        factory = FACTORIES[e.protocol]
        if act == "relay":
            return await probe_endpoint(e, factory, self.ctx, self.timeout,
                                        observer=self.observer, action=relay_action(self.email),
                                        rtts=self._rtts)
        login = act if isinstance(act, Login) else None
        return await probe_endpoint(e, factory, self.ctx, self.timeout, login, self.observer,
                                    rtts=self._rtts)

    async def _more_logins(self, first: EndpointResult, notes: list[str]) -> EndpointResult:
        """After a rejected login, one attempt per remaining username form, until one works."""
        if first.login is None or first.login.what:
            return first
        forms = self._forms()
        tried = [forms[0]]
        result = first
        checks = list(first.checks)
        if first.login.outcome == "rejected" and self.password:
            for form in forms[1:]:
                tried.append(form)
                again = await self._probe(first.endpoint,
                                          Login(form, self.password, self._sender(first.endpoint)))
                checks += again.checks
                if again.login is not None and again.login.outcome != "rejected":
                    result = again
                    break
        notes.append(LOGIN_CAP_NOTE.format(n=len(tried), forms=", ".join(tried)))
        return replace(result, checks=tuple(checks))

    # --- concluding --------------------------------------------------------------------
    def _dns_failed(self, primary: Endpoint, answer: DnsAnswer,
                    checks: list[Check]) -> SweepResult:
        code: Code = "dns_not_found" if answer.outcome in ("nxdomain", "no_answer") else \
            "dns_unavailable"
        notes = []
        catalogue_hosts = {s.host for s in self._servers()}
        if code == "dns_unavailable":
            notes.append("no DNS answer at all: the DNS server may be unreachable or this "
                         "machine may be offline")
        elif primary.host in catalogue_hosts and all(
                c.status == "fail" for c in checks if c.probe == "dns"):
            # The catalogue knows these names exist: a resolver denying every one of them is
            # broken or cut off, and blaming the (correct) server name would mislead.
            code = "dns_unavailable"
            notes.append("even the provider's own server names do not resolve: the DNS server "
                         "may be filtering, or this machine may be offline")
        facts = self._base_facts(primary)
        checks = _tag(checks, primary.host, code)
        return SweepResult(code, primary, tuple(checks), (code,), facts, tuple(notes))

    def _base_facts(self, primary: Endpoint) -> dict[str, str]:
        facts = {"configured_host": primary.host, "configured_port": str(primary.port),
                 "configured_security": primary.security, "protocol": primary.protocol}
        servers = self._servers()
        if servers:
            rec = servers[0]
            facts.update(recommended_host=rec.host, recommended_port=str(rec.port),
                         recommended_security=rec.security,
                         recommended_username=rec.username_for(self.email))
        suggestion = self.suggest.get(primary.host)
        if suggestion:
            facts["suggested_host"] = suggestion
        elif servers and primary.host not in {s.host for s in servers}:
            facts["suggested_host"] = servers[0].host
        return facts

    def _conclude(self, results: Sequence[EndpointResult], checks: list[Check],
                  notes: list[str]) -> SweepResult:
        primary = results[0]
        facts = self._base_facts(primary.endpoint)
        _fill_facts(facts, primary, results)
        outcome = self._outcome(primary, results)
        if outcome in ("port_blocked", "port_closed") and "working_port" not in facts:
            _answering_port(facts, primary, results)  # the facts this outcome guarantees
        if outcome == "auth_oauth_required" and primary.login is None:
            notes.append("the catalogue says this provider accepts only OAuth2: no password "
                         "login was tried")
            facts["basis"] = "catalogue"  # the transcript's outcome.basis (CONTRACT.md)
        if outcome == "auth_app_password_required" and self.rule is not None and (
                primary.diagnosis is None):
            notes.append(f"{self.rule.name} refuses the account's normal password from mail "
                         f"apps (source: {self.rule.login.source})")
            facts["basis"] = "catalogue"  # the provider rule, not a server reply, says so
        if self.rule is not None:
            facts.update(self.rule.facts())
        if outcome == "inconclusive" and _silent_after_connect(primary):
            notes.append(_silent_note(primary, self.timeout))
        if outcome == "recommended_ok":
            notes.append(f"the customer's own settings were not given: {primary.endpoint.target} "
                         "is the catalogue's recommended server, so their settings are untested")
        if outcome == "inconclusive" and primary.stage == "tcp":
            notes.append(_untested_note(primary, checks))
        diagnoses: list[Code] = []
        if outcome != "inconclusive" and outcome != "recommended_ok":  # (bot.registry)
            diagnoses.append(outcome)
            if outcome != "ok":
                checks = _tag(checks, primary.endpoint.target, outcome)
        for r in results:
            if r.diagnosis and r.diagnosis not in diagnoses:
                diagnoses.append(r.diagnosis)
        return SweepResult(outcome, primary.endpoint, tuple(checks), tuple(diagnoses), facts,
                           tuple(notes), tuple(results))

    def _outcome(self, primary: EndpointResult, results: Sequence[EndpointResult]
                 ) -> Code | Literal["inconclusive", "recommended_ok"]:
        same_server = [r for r in results[1:] if r.endpoint.ip == primary.endpoint.ip]
        others_answer = any(r.answered for r in same_server)
        if _silent_after_connect(primary):
            return "inconclusive"  # accepted, so not filtered: no code names a mute server
        if primary.stage == "tcp" or (primary.stage in ("greeting", "tls")
                                      and primary.problem == "timeout"
                                      and primary.diagnosis is None):
            if not same_server:  # no other port of this address was tried: not tested
                return "inconclusive"
            if not others_answer:
                return "server_unreachable"
            return "port_closed" if primary.tcp == "refused" else "port_blocked"
        if primary.diagnosis in ("tls_mode_mismatch", "certificate_expired",
                                 "certificate_untrusted", "certificate_name_mismatch"):
            return primary.diagnosis
        if primary.stage in ("greeting", "tls", "starttls") and primary.diagnosis is None:
            return "inconclusive"
        if self._oauth_only() and not self.relay_only:
            return "auth_oauth_required"
        if primary.diagnosis:
            return primary.diagnosis
        login = primary.login
        if login is not None and login.what:  # the relay check, not a login
            return "ok" if login.outcome == "ok" else login.diagnosis or "inconclusive"
        if login is None or login.outcome == "ok":
            if login is not None and login.username != self._forms()[0]:
                return "auth_username_format"
            if ipv6_broken(self._v6, primary.answered):
                return "ipv6_path_broken"
            if login is None and self._app_password_first():
                return "auth_app_password_required"
            # diagnoses.yaml: ok is about the customer's own settings; the catalogue's
            # passing says nothing about what their app is set to
            return "ok" if self.client is not None or self.adopted else "recommended_ok"
        if login.outcome == "rejected":
            if steered := self._refusal_reading():
                return steered
            # A provider that never takes the normal password from mail apps (iCloud, Yahoo,
            # AOL; Gmail with 2-step verification) refuses a correct one with the same reply
            # as a wrong one: its rule, not the reply, tells the two apart.
            if self.rule is not None and self.rule.login.needs_app_password:
                return "auth_app_password_required"
            return "auth_wrong_password"
        return "inconclusive"

    def _app_password_first(self) -> bool:
        """No login was tried, but the first hypothesis (the customer turned on 2-step
        verification, or pasted "application-specific password required") is an app password
        and the provider's rule says its mail apps need one: the catalogue answers."""
        return (not self.relay_only and bool(self.hypotheses) and self.rule is not None
                and self.hypotheses[0] == "auth_app_password_required"
                and self.rule.login.needs_app_password)

    def _refusal_reading(self) -> Code | None:
        """A refused password reads as "app password" or "OAuth required" instead of "wrong
        password" when that hypothesis comes before a wrong password in `hypotheses` (the
        server's refusal is the same for all three: RFC 4954 535, IMAP NO)."""
        for code in self.hypotheses:
            if code == "auth_wrong_password":
                return None
            if code == "auth_oauth_required":
                return "auth_oauth_required"
            if code == "auth_app_password_required" and not self._oauth_only():
                return "auth_app_password_required"
        return None


def _silent_after_connect(primary: EndpointResult) -> bool:
    """The port accepted the TCP connection, then nothing spoke within the deadline.

    A filtered port (port_blocked) never completes the handshake; one that completes it
    and stays mute is the server's side (or a box in front of it), not the customer's
    network, and no code in diagnoses.yaml names it."""
    return (primary.tcp == "open" and primary.stage in ("greeting", "tls")
            and primary.problem == "timeout" and primary.diagnosis is None)


def _silent_note(primary: EndpointResult, timeout: float) -> str:
    """What was seen at a port that accepted the connection and never greeted, and who acts."""
    tried_tls = any(c.probe == "tls" and c.target == primary.endpoint.target
                    for c in primary.checks)
    tls = " and no TLS handshake either" if tried_tls else ""
    return (f"{primary.endpoint.target} accepted the connection but sent no greeting within "
            f"{timeout:g} s{tls}: the port is open, so your network is not blocking it; the "
            "mail server (or something in front of it) is not answering, which only its "
            "administrator or the e-mail provider can fix")


def _untested_note(primary: EndpointResult, checks: Sequence[Check]) -> str:
    """What was and was not tested when the customer's port alone was tried and failed."""
    ep = primary.endpoint
    skipped = [c.target for c in checks if c.outcome == "refused_by_policy"]
    why = (f"the others planned ({', '.join(skipped)}) are outside what this service may "
           "probe" if skipped else "no other port of it is known")
    return (f"only {ep.target} was tried ({primary.tcp or primary.problem or 'no answer'}); "
            f"the server's other ports were not tested: {why}, so whether the server is "
            "down or only this port is blocked is not known")


def _answering_port(facts: dict[str, str], primary: EndpointResult,
                    results: Sequence[EndpointResult]) -> None:
    """The port of the same server that answered (what port_blocked/_closed rest on)."""
    for r in results[1:]:
        if r.endpoint.ip == primary.endpoint.ip and r.answered:
            facts.update(working_host=r.endpoint.host, working_port=str(r.endpoint.port),
                         working_security=r.speaks or r.endpoint.security)
            return
