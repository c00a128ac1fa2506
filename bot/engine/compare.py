"""The customer's settings against the provider catalogue: what differs, in plain words.

`also_noticed(slots, provider)` compares what the customer said their app is set to (server,
port, security, username, outgoing authentication) with the provider's published servers
(Mozilla autoconfig, bot/data/catalog.json) and returns one line per difference, or none. The
engine adds them to an answer as "also noticed"; when the probes could not run they are the
answer, next to the provider's settings table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.catalog.model import Provider, ServerSettings
from bot.engine.templates import SECURITY_LABELS

SIDES = ("outgoing", "incoming")


# What a diagnosis's own fix already tells the customer: not repeated as "also noticed".
_COVERED: Mapping[str, frozenset[str]] = {
    "dns_not_found": frozenset({"server"}), "port_blocked": frozenset({"port", "security"}),
    "port_closed": frozenset({"port", "security"}),
    "tls_mode_mismatch": frozenset({"port", "security"}),
    "encryption_required": frozenset({"port", "security"}),
    "smtp_auth_required": frozenset({"auth"}), "auth_username_format": frozenset({"username"}),
    "certificate_name_mismatch": frozenset({"server"}),
}


@dataclass(frozen=True)
class Difference:
    """One setting of the customer's app that differs from the catalogue."""

    side: str  # outgoing | incoming
    kind: str  # server | port | security | auth | username
    sentence: str


def also_noticed(slots: Mapping[str, str], provider: Provider | None,
                 diagnosis: str | None = None) -> list[Difference]:
    """Each setting that differs from the catalogue, outgoing side first, leaving out what
    the fix for `diagnosis` already says."""
    if provider is None:
        return []
    name = provider.short_name or provider.name
    covered = _COVERED.get(diagnosis or "", frozenset())
    out: list[Difference] = []
    for side in SIDES:
        servers = _servers(provider, side, slots.get("incoming_protocol"))
        if servers:
            out += [d for d in _side_differences(slots, side, servers, name)
                    if d.kind not in covered]
    return out


def _servers(provider: Provider, side: str, protocol: str | None) -> Sequence[ServerSettings]:
    if side == "outgoing":
        return provider.outgoing
    return provider.incoming_for(protocol) or provider.incoming


def _side_differences(slots: Mapping[str, str], side: str, servers: Sequence[ServerSettings],
                      name: str) -> list[Difference]:
    label = "outgoing (SMTP)" if side == "outgoing" else "incoming"
    out: list[Difference] = []
    host = slots.get(f"{side}_server", "").lower()
    if host and host not in {s.host.lower() for s in servers}:
        out.append(Difference(side, "server", f"Your app's {label} server is {host}; {name}'s "
                                              f"is {servers[0].host}."))
    port, security = slots.get(f"{side}_port"), slots.get(f"{side}_security")
    same_port = next((s for s in servers if str(s.port) == port), None)
    if port and same_port is None:
        said = f"port {port}" + (f" with {_label(security)}" if security else "")
        out.append(Difference(side, "port", f"Your app uses {said}; {name}'s {label} server "
                                            f"uses {_offers(servers)}."))
    elif same_port is not None and security and security != same_port.security:
        out.append(Difference(side, "security", f"Your app uses {_label(security)} on port "
                                                f"{port}; {name}'s server needs "
                                                f"{_label(same_port.security)} there."))
    if side == "outgoing" and slots.get("outgoing_auth") == "false" and servers[0].auth:
        out.append(Difference(side, "auth", f"Authentication is off in your app; {name}'s "
                                            "outgoing server needs it on (the same username "
                                            "and password as for incoming mail)."))
    email, username = slots.get("email"), slots.get("username")
    if email and username and side == "incoming":
        expected = servers[0].username_for(email)
        if username.lower() != expected.lower():
            out.append(Difference(side, "username", f"Your app's username is {username}; "
                                                    f"{name} expects {expected}."))
    return out


def _label(security: str | None) -> str:
    labels = {"none": "no encryption", **{k: v for k, v in SECURITY_LABELS.items()
                                          if k != "none"}}
    return labels.get(security or "", security or "")


def _offers(servers: Sequence[ServerSettings]) -> str:
    seen: list[str] = []
    for server in servers:
        text = f"port {server.port} with {_label(server.security)}"
        if text not in seen:
            seen.append(text)
    return " or ".join(seen)
