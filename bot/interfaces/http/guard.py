"""The service's front door: who may call which route, how often, and with what body.

One ASGI middleware, in front of every route (docs/http.md, "Threat model"):
- `Host` must be one of `[serve] allowed_hosts` when that is set (a DNS-rebinding page in the
  customer's browser cannot talk to an intranet deskbot under its own name); 421 otherwise.
- A request with a body must say `Content-Type: application/json` (415): a cross-site form or
  `text/plain` POST, which a browser sends without a CORS preflight, is refused.
- Agent routes (the session list, anything under /v1/agent/) need `Authorization: Bearer KEY`
  when `[serve] api_key` is set (401); customer routes stay keyless (CONTRACT.md).
- New sessions are rate limited per client address (429 with Retry-After), and their total
  within one session ttl is capped (`max_sessions`, 503): a script cannot fill the disk.
The client address is the TCP peer's (uvicorn rewrites it from X-Forwarded-For only for the
proxies listed in `forwarded_allow_ips`); the routes pass it to the probe runner with each
call (bot.probes.runners.ProbeCall): the login budget counts per client.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError
from bot.sessions import SessionStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_TYPES = ("application/json",)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class GuardSettings:
    """The `[serve]` keys of the front door (defaults: docs/http.md)."""

    api_key: str | None = None
    allowed_hosts: tuple[str, ...] | None = None  # None: any Host header
    sessions_per_client: int = 30  # new sessions per client address per session_window
    session_window: float = 60.0
    max_sessions: int = 100_000  # new sessions per session ttl, all clients together
    session_ttl: float = 7 * 86400.0


def guard_settings(serve: dict[str, Any]) -> GuardSettings:
    """Read the front-door keys of `[serve]`; a bad value raises ConfigError naming it."""
    key = serve.get("api_key")
    if key is not None and (not isinstance(key, str) or len(key) < 16):
        raise ConfigError("[serve] api_key must be a string of at least 16 characters")
    hosts = serve.get("allowed_hosts")
    if hosts is not None and not (isinstance(hosts, list) and hosts
                                  and all(isinstance(h, str) and h for h in hosts)):
        raise ConfigError("[serve] allowed_hosts must be a list of host names")
    proxies = serve.get("forwarded_allow_ips", [])
    if not (isinstance(proxies, list) and all(isinstance(p, str) for p in proxies)):
        raise ConfigError("[serve] forwarded_allow_ips must be a list of proxy addresses")
    return GuardSettings(
        api_key=key,
        allowed_hosts=tuple(h.lower() for h in hosts) if hosts is not None else None,
        sessions_per_client=_positive(serve, "sessions_per_client", 30),
        session_window=float(_positive(serve, "session_window", 60)),
        max_sessions=_positive(serve, "max_sessions", 100_000),
        session_ttl=float(_positive(serve, "session_ttl", 7 * 86400)),
    )


def _positive(serve: dict[str, Any], name: str, default: int) -> int:
    value = serve.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**12:
        raise ConfigError(f"[serve] {name} must be a whole number from 1 to 10^12")
    return value


def is_agent_route(method: str, path: str) -> bool:
    """The help desk's own routes (CONTRACT.md: the session list), not the customer's."""
    return (method == "GET" and path.rstrip("/") == "/v1/sessions") or \
        path.startswith("/v1/agent/")


class Guard:
    """ASGI middleware applying GuardSettings before any route runs."""

    def __init__(self, app: ASGIApp, settings: GuardSettings, store: SessionStore) -> None:
        self.app, self.settings, self.store = app, settings, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("-", 0))[0]
        refusal = await self._refusal(scope, client)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope, client: str) -> tuple[int, str, dict[str, str]] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        method, path = scope["method"], scope["path"]
        if not self._host_allowed(headers.get("host", "")):
            return 421, "this service does not answer to that host name", {}
        if method in BODY_METHODS and _has_body(headers) and not _is_json(headers):
            return 415, "send the body as JSON (Content-Type: application/json)", {}
        if is_agent_route(method, path) and not self._authorized(headers):
            return 401, "this route needs the help desk's API key (Authorization: Bearer)", {
                "WWW-Authenticate": 'Bearer realm="deskbot"'}
        if method == "POST" and path.rstrip("/") == "/v1/sessions":
            return await self._creation_refusal(client)
        return None

    def _host_allowed(self, host: str) -> bool:
        allowed = self.settings.allowed_hosts
        if allowed is None or "*" in allowed:
            return True
        name = host.lower().rsplit(":", 1)[0] if not host.endswith("]") else host.lower()
        return name.strip("[]") in {h.strip("[]") for h in allowed}

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = self.settings.api_key
        if key is None:
            return True
        scheme, _, given = headers.get("authorization", "").partition(" ")
        # constant-time: the comparison must not tell how much of a guess was right
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  key.encode())

    async def _creation_refusal(self, client: str) -> tuple[int, str, dict[str, str]] | None:
        s = self.settings
        if await self.store.hit(f"create:c:{client}", s.session_window) > s.sessions_per_client:
            retry = str(int(s.session_window))
            return 429, "too many new conversations from this address; try again later", {
                "Retry-After": retry}
        if await self.store.hit("create:all", s.session_ttl) > s.max_sessions:
            return 503, "the service holds as many conversations as it may; try later", {
                "Retry-After": "60"}
        return None


def _has_body(headers: dict[str, str]) -> bool:
    return headers.get("content-length", "0").strip() not in ("", "0") or \
        "transfer-encoding" in headers


def _is_json(headers: dict[str, str]) -> bool:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def _reply(send: Send, status: int, error: str, headers: dict[str, str]) -> None:
    body = json.dumps({"error": error}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
