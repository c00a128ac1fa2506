"""Turning a sweep's endpoint results into facts and tagged checks (helpers of bot.probes.sweep).

Facts are the strings fix texts name (`{facts.NAME}`): working_*, cert_names, offered_auth,
server_reply, accepted_username, address ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from dataclasses import replace as replace_server

from bot.catalog.model import Provider, Security, ServerSettings
from bot.diagnoses import Code
from bot.probes.dns import DnsAnswer
from bot.probes.endpoint import EndpointResult
from bot.probes.model import Check


def fill_facts(facts: dict[str, str], primary: EndpointResult,
                results: Sequence[EndpointResult]) -> None:
    healthy = [r for r in results if r.healthy] or [
        r for r in results if r.stage in ("done", "login") and r.tls is not None and r.tls.ok]
    # the fix should keep the client's protocol and host when they work somewhere
    healthy.sort(key=lambda r: (r.endpoint.protocol != primary.endpoint.protocol,
                                r.endpoint.host != primary.endpoint.host))
    if primary.speaks:
        e = primary.endpoint
        facts.update(working_host=e.host, working_port=str(e.port),
                     working_security=primary.speaks)
    elif healthy:
        e = healthy[0].endpoint
        facts.update(working_host=e.host, working_port=str(e.port), working_security=e.security,
                     working_protocol=e.protocol)
    if primary.tls is not None:
        if primary.tls.names:
            facts["cert_names"] = ", ".join(primary.tls.names)
        if primary.tls.version:
            facts["tls_version"] = primary.tls.version
        if primary.tls.not_after:
            facts["cert_not_after"] = primary.tls.not_after
    if primary.mechanisms:
        facts["offered_auth"] = " ".join(dict.fromkeys(primary.mechanisms))
    if primary.login is not None:
        facts["server_reply"] = primary.login.reply
        if primary.login.outcome == "ok" and primary.login.username:
            facts["accepted_username"] = primary.login.username
    elif primary.reply:
        facts["server_reply"] = primary.reply
    if primary.endpoint.ip:
        facts["address"] = primary.endpoint.ip


def tag(checks: list[Check], target: str, code: Code) -> list[Check]:
    """Mark the client endpoint's deciding (last failed) check with the sweep's diagnosis."""
    for i in range(len(checks) - 1, -1, -1):
        c = checks[i]
        if c.target == target and c.status == "fail":
            if c.diagnosis is None:
                checks[i] = replace(c, diagnosis=code)
            break
    return checks


def dns_check(answer: DnsAnswer) -> Check:
    evidence = f"{answer.name} → {', '.join(answer.records)}" if answer.ok else answer.detail
    return Check("dns", answer.name, "ok" if answer.ok else "fail", evidence, None, answer.ms,
                 answer.outcome)


def observed(provider: Provider | None, direction: str,
             results: Sequence[EndpointResult]) -> Provider | None:
    """The provider with each probed server's security as the probe saw it.

    A guessed or catalogue server listed as STARTTLS that offers no STARTTLS, or a port that
    speaks the other mode, is recommended as it really is, not as a port table assumed."""
    if provider is None:
        return None
    seen: dict[tuple[str, int], Security] = {}
    for r in results:
        e = r.endpoint
        if r.speaks is not None:
            seen[(e.host, e.port)] = r.speaks
        elif e.security == "starttls" and r.answered and r.stage != "tcp" and (
                not r.starttls_offered and r.greeting):
            seen[(e.host, e.port)] = "none"

    def fix(server: ServerSettings) -> ServerSettings:
        security = seen.get((server.host.lower(), server.port))
        return server if security is None else replace_server(server, security=security)

    servers = provider.outgoing if direction == "outgoing" else provider.incoming
    fixed = tuple(fix(s) for s in servers)
    if fixed == servers:
        return provider
    if direction == "outgoing":
        return replace_server(provider, outgoing=fixed)
    return replace_server(provider, incoming=fixed)
