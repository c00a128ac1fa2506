"""Provider settings: what a mail client should be set to, per Mozilla autoconfig v1.1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Protocol = Literal["imap", "pop3", "smtp"]
Security = Literal["ssl", "starttls", "none"]

# autoconfig <socketType> → our security words (CONTRACT.md slots use ssl|starttls|none)
SOCKET_TYPES: dict[str, Security] = {"SSL": "ssl", "STARTTLS": "starttls", "plain": "none"}


@dataclass(frozen=True)
class ServerSettings:
    """One incoming or outgoing server as a provider publishes it."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    auth: tuple[str, ...] = ("password-cleartext",)  # autoconfig <authentication> values
    username: str = "%EMAILADDRESS%"  # template: %EMAILADDRESS% %EMAILLOCALPART% %EMAILDOMAIN%

    def username_for(self, email: str) -> str:
        """The username this server expects for an address."""
        local, _, domain = email.partition("@")
        return (
            self.username.replace("%EMAILADDRESS%", email)
            .replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain)
        )

    @property
    def oauth_only(self) -> bool:
        """True when the server takes no password login at all."""
        return bool(self.auth) and all(a == "OAuth2" for a in self.auth)

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol, "host": self.host, "port": self.port,
            "security": self.security, "auth": list(self.auth), "username": self.username,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerSettings:
        return cls(
            protocol=data["protocol"], host=data["host"], port=int(data["port"]),
            security=data["security"], auth=tuple(data.get("auth", ())),
            username=data.get("username", "%EMAILADDRESS%"),
        )


@dataclass(frozen=True)
class Provider:
    """A mail provider: its domains and servers, the first of each kind recommended."""

    id: str
    name: str
    domains: tuple[str, ...]
    incoming: tuple[ServerSettings, ...]
    outgoing: tuple[ServerSettings, ...]
    short_name: str = ""
    # catalogue | config file | autoconfig URL | mx | srv | guess
    source: str = "catalogue"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def oauth_only(self) -> bool:
        """True when no server of the provider accepts a password login (e.g. outlook.com)."""
        servers = self.incoming + self.outgoing
        return bool(servers) and all(s.oauth_only for s in servers)

    def incoming_for(self, protocol: str | None = None) -> tuple[ServerSettings, ...]:
        """Incoming servers, those of `protocol` first-ordered as published."""
        if protocol is None:
            return self.incoming
        return tuple(s for s in self.incoming if s.protocol == protocol)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "short_name": self.short_name,
            "domains": list(self.domains), "source": self.source,
            "incoming": [s.to_dict() for s in self.incoming],
            "outgoing": [s.to_dict() for s in self.outgoing],
            "oauth_only": self.oauth_only,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provider:
        return cls(
            id=data["id"], name=data["name"], short_name=data.get("short_name", ""),
            domains=tuple(data.get("domains", ())), source=data.get("source", "catalogue"),
            incoming=tuple(ServerSettings.from_dict(s) for s in data.get("incoming", ())),
            outgoing=tuple(ServerSettings.from_dict(s) for s in data.get("outgoing", ())),
        )
