"""After a certificate name mismatch: which name the certificate covers actually works here.

A shared-hosting or own-domain server often presents a certificate for the hoster's name
(`*.hoster.example`, `mail.hoster.example`) rather than the customer's. Telling the customer
"use the name on the certificate" is only safe when that name resolves and answers on the same
port with a certificate valid for it, so each candidate is probed (TCP, TLS or STARTTLS, no
login). With none, the honest fix is that the server's administrator adds the customer's name
to the certificate. Facts: `cert_suggested_host` (when one works) and `cert_advice` (a sentence).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import replace

import dns.asyncresolver

from bot.probes.dns import resolve_host
from bot.probes.endpoint import Endpoint
from bot.probes.policy import TargetPolicy
from bot.probes.session import SessionFactory, probe_endpoint

MAX_CANDIDATES = 4  # a certificate may list hundreds of names; a few probes are enough


def candidates(cert_names: tuple[str, ...], configured: str) -> list[str]:
    """Names to try, in the certificate's order: wildcards filled with the configured host's
    first label (`*.hoster.example` → `mail.hoster.example`), IPs and the failing name left out."""
    first = configured.split(".", 1)[0]
    out: list[str] = []
    for name in cert_names:
        name = name.lower().rstrip(".")
        if name.startswith("*."):
            name = f"{first}.{name[2:]}"
        try:
            ipaddress.ip_address(name)
            continue
        except ValueError:
            pass
        if name != configured.lower() and name not in out and "*" not in name:
            out.append(name)
    return out[:MAX_CANDIDATES]


async def working_name(endpoint: Endpoint, cert_names: tuple[str, ...],
                       factory: SessionFactory, ctx: ssl.SSLContext, timeout: float,
                       resolver: dns.asyncresolver.Resolver,
                       policy: TargetPolicy) -> str | None:
    """The first certificate name that resolves, is allowed, and greets over TLS with a
    certificate valid for itself on the endpoint's port and security; None if none does."""

    async def works(name: str) -> bool:
        answer = await resolve_host(resolver, name, timeout)
        if not answer.ok or not policy.allows(name, endpoint.port, answer.records[0]):
            return False
        probe = replace(endpoint, host=name, ip=answer.records[0])
        result = await probe_endpoint(probe, factory, ctx, timeout)
        return result.healthy and result.tls is not None and result.tls.ok

    names = candidates(cert_names, endpoint.host)
    found = await asyncio.gather(*(works(n) for n in names))
    return next((n for n, ok in zip(names, found, strict=True) if ok), None)


def advice(configured: str, port: int, cert_names: tuple[str, ...], working: str | None) -> str:
    """The customer-facing sentence for the fix (the `cert_advice` fact)."""
    if working is not None:
        return (f"Use the server name {working} instead of {configured}: the certificate is "
                f"made out to it, and I checked that {working} answers on port {port} with a "
                "valid certificate.")
    names = ", ".join(cert_names[:3]) or "other names"
    return (f"None of the names on the certificate ({names}) answers as this mail server, so "
            f"no setting of yours can fix it: the server's administrator must add {configured} "
            "to the certificate. Until then, do not accept the warning.")
