"""The client's settings for one direction, read from slot values (CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.catalog.model import Protocol, Provider, Security
from bot.probes.model import SETTINGS_FROM

Direction = Literal["outgoing", "incoming"]
IMPLICIT_PORTS: dict[int, Security] = {465: "ssl", 993: "ssl", 995: "ssl"}
SECURITIES: dict[str, Security] = {"ssl": "ssl", "starttls": "starttls", "none": "none"}


def adopts_catalogue(params: dict[str, str]) -> bool:
    """True when the probe's params say the catalogue's settings are the customer's own."""
    return params.get(SETTINGS_FROM) == "catalogue"


@dataclass(frozen=True)
class ClientSettings:
    """What the client is set to for one direction (from the slots); `auth` False = no login."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    username: str | None = None
    auth: bool = True


def client_settings(params: dict[str, str], direction: Direction,
                    provider: Provider | None) -> ClientSettings | None:
    """The client's settings for one direction from slot values, gaps filled from the
    catalogue (same host first); None when the client gave no server at all."""
    prefix = "outgoing" if direction == "outgoing" else "incoming"
    host = params.get(f"{prefix}_server", "").strip()
    port_text = params.get(f"{prefix}_port", "").strip()
    security = params.get(f"{prefix}_security", "").strip().lower()
    if not host and not port_text and not security:
        return None
    if direction == "outgoing":
        protocol: Protocol = "smtp"
    else:
        protocol = "pop3" if params.get("incoming_protocol", "").lower().startswith("pop") \
            else "imap"
    servers = () if provider is None else (
        provider.outgoing if direction == "outgoing" else provider.incoming_for(protocol))
    like = next((s for s in servers if s.host == host.lower()), servers[0] if servers else None)
    if not host:
        if like is None:
            return None
        host = like.host
    port = int(port_text) if port_text.isdigit() else (like.port if like else _default_port(
        protocol, security))
    chosen = SECURITIES.get(security)
    if chosen is None:
        same_port = next((s for s in servers if s.port == port), None)
        chosen = same_port.security if same_port else IMPLICIT_PORTS.get(port, "starttls")
    auth = params.get("outgoing_auth", "true").lower() not in ("false", "no", "0", "off")
    username = params.get("username") or None
    return ClientSettings(protocol, host, port, chosen, username,
                          auth if direction == "outgoing" else True)


def _default_port(protocol: Protocol, security: str) -> int:
    ssl_port = {"smtp": 465, "imap": 993, "pop3": 995}
    plain_port = {"smtp": 587, "imap": 143, "pop3": 110}
    return ssl_port[protocol] if security == "ssl" else plain_port[protocol]
