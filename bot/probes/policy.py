"""Which targets a probe may touch: the SSRF guard of the HTTP service.

Probes resolve a host name once, ask the policy about the resolved address, and then connect
to exactly that address (never re-resolving), so a DNS answer cannot swap in a forbidden
address between the check and the connect.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.addresses import refusal
from bot.config import Config
from bot.errors import ProbeRefused

# Ports mail clients use: SMTP 25/465/587/2525, POP3 110/995, IMAP 143/993.
MAIL_PORTS: frozenset[int] = frozenset({25, 465, 587, 2525, 110, 995, 143, 993})


@dataclass(frozen=True)
class TargetPolicy:
    """allow_private: loopback/private/link-local targets permitted; ports: allowed ports
    (None = any); hosts: allowed host names (None = any); private_hosts: host names whose
    private addresses are permitted anyway (a customer confirmed them by name)."""

    allow_private: bool = False
    ports: frozenset[int] | None = MAIL_PORTS
    hosts: frozenset[str] | None = None
    private_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Config) -> TargetPolicy:
        """Local use (allow_private) may probe any port; otherwise mail ports only."""
        if config.allow_private:
            return cls(allow_private=True, ports=None)
        return cls(allow_private=False, ports=MAIL_PORTS)

    def check_target(self, host: str, port: int) -> None:
        """Refuse a host name or port the policy does not allow (before any DNS query)."""
        name = host.strip().lower().rstrip(".")
        if self.hosts is not None and name not in self.hosts:
            raise ProbeRefused(f"{host}: not among the hosts this service may probe")
        if self.ports is not None and port not in self.ports:
            allowed = ", ".join(str(p) for p in sorted(self.ports))
            raise ProbeRefused(f"{host}:{port}: port not allowed (mail ports only: {allowed})")
        if not 0 < port < 65536:
            raise ProbeRefused(f"{host}:{port}: not a valid port")

    def check_address(self, host: str, address: str) -> None:
        """Refuse a resolved address that is not public unless private targets are allowed
        (bot.addresses: the one policy, shared with the autoconfig fetch)."""
        if self.allow_private or host.strip().lower().rstrip(".") in self.private_hosts:
            return
        why = refusal(address)
        if why is not None:
            raise ProbeRefused(f"{host} resolves to {address}: {why}; this service does not "
                               "probe it")

    def allows(self, host: str, port: int, address: str | None = None) -> bool:
        """True when `check_target` (and `check_address`, if given) would pass."""
        try:
            self.check_target(host, port)
            if address is not None:
                self.check_address(host, address)
        except ProbeRefused:
            return False
        return True
