"""The `[serve]` table beyond the store: request limits, login rate limits, the live cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.errors import ConfigError
from bot.interfaces.http.guard import GuardSettings, guard_settings
from bot.interfaces.http.probelinks import LinkSettings
from bot.interfaces.http.validation import Limits
from bot.interfaces.http.webhook import WebhookSettings
from bot.probes.runners.safe import MAIL_PORTS, SafetySettings


@dataclass(frozen=True)
class ServeSettings:
    """Everything the HTTP layer reads from `[serve]`."""

    limits: Limits
    safety: SafetySettings
    cache_sessions: int
    guard: GuardSettings = field(default_factory=GuardSettings)
    links: LinkSettings = field(default_factory=LinkSettings)
    webhook: WebhookSettings | None = None


def _int(serve: dict[str, Any], name: str, default: int, minimum: int = 1) -> int:
    value = serve.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"[serve] {name} must be a whole number >= {minimum}")
    return value


def _ports(serve: dict[str, Any]) -> frozenset[int]:
    value = serve.get("mail_ports", sorted(MAIL_PORTS))
    if not isinstance(value, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in value
    ):
        raise ConfigError("[serve] mail_ports must be a list of port numbers")
    return frozenset(value)


KNOWN_KEYS = frozenset({
    "store", "sqlite_path", "redis_url", "session_ttl",  # read by bot.sessions
    "max_body_bytes", "max_text_chars", "cache_sessions", "mail_ports",
    "logins_per_session", "logins_per_target", "login_window",
    # the front door (bot.interfaces.http.guard) and the proxy in front of it
    "api_key", "allowed_hosts", "sessions_per_client", "session_window", "max_sessions",
    "logins_per_client", "forwarded_allow_ips", "body_seconds",
    "probe_link_ttl", "probe_links_per_session", "probe_links_per_address",
    "probe_link_window", "max_evidence_bytes", "public_url",
})


def serve_settings(config: Config) -> ServeSettings:
    """Read and check `[serve]`; a bad value or an unknown key raises ConfigError naming it."""
    serve = config.serve
    unknown = sorted(set(serve) - KNOWN_KEYS)
    if unknown:
        where = f"{config.source}: " if config.source else ""
        raise ConfigError(f"{where}[serve] unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(KNOWN_KEYS))}")
    limits = Limits(
        max_body_bytes=_int(serve, "max_body_bytes", 32 * 1024, minimum=256),
        max_text_chars=_int(serve, "max_text_chars", 4000),
        body_seconds=float(_int(serve, "body_seconds", 10)),
    )
    safety = SafetySettings(
        mail_ports=_ports(serve),
        logins_per_session=_int(serve, "logins_per_session", 5),
        logins_per_target=_int(serve, "logins_per_target", 30),
        logins_per_client=_int(serve, "logins_per_client", 10),
        login_window=float(_int(serve, "login_window", 600)),
    )
    return ServeSettings(limits, safety, _int(serve, "cache_sessions", 1000, minimum=0),
                         guard_settings(serve), _links(serve),
                         WebhookSettings.from_table(config.handoff))


def _text(serve: dict[str, Any], name: str) -> str:
    value = serve.get(name, "")
    if not isinstance(value, str):
        raise ConfigError(f"[serve] {name} must be a string")
    return value


def _links(serve: dict[str, Any]) -> LinkSettings:
    public_url = _text(serve, "public_url").rstrip("/")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ConfigError("[serve] public_url must start with http:// or https://")
    return LinkSettings(
        ttl=float(_int(serve, "probe_link_ttl", 900, minimum=10)),
        per_session=_int(serve, "probe_links_per_session", 10),
        per_address=_int(serve, "probe_links_per_address", 60),
        window=float(_int(serve, "probe_link_window", 3600)),
        max_evidence_bytes=_int(serve, "max_evidence_bytes", 256 * 1024, minimum=1024),
        public_url=public_url,
    )
