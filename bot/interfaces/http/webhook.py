"""The signed handoff webhook: a POST to the help desk's ticket system when a person is needed.

`[handoff] webhook_url` and `webhook_secret` turn it on. Each event is one JSON body:

    {"event": "handoff", "session": "<id>", "outcome": {...}, "handoff": {...package...},
     "delivered_at": "<ISO 8601>"}

with the headers `X-Deskbot-Event: handoff`, `X-Deskbot-Delivery: <random id>`,
`X-Deskbot-Timestamp: <Unix seconds>` and `X-Deskbot-Signature: sha256=<hex>`, the HMAC-SHA256
of `<timestamp>.<body>` keyed with the secret (the scheme of Stripe's and GitHub's webhooks:
check it with a constant-time compare and refuse old timestamps to stop replays). Delivery runs
in the background (a conversation never waits for it) and is retried with exponential backoff
on a network error or a non-2xx answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookSettings:
    """The `[handoff]` table: where to POST, the signing secret, and the retry schedule."""

    url: str
    secret: str
    attempts: int = 5
    first_delay: float = 1.0  # seconds; doubled after each failed attempt
    timeout: float = 10.0

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> WebhookSettings | None:
        """None when no webhook is configured; ConfigError for a half or bad configuration."""
        known = {"webhook_url", "webhook_secret", "webhook_attempts"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"[handoff] unknown key(s) {', '.join(unknown)}; "
                              f"known: {', '.join(sorted(known))}")
        url, secret = table.get("webhook_url"), table.get("webhook_secret")
        if url is None and secret is None:
            return None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ConfigError("[handoff] webhook_url must be an http(s) URL")
        if not isinstance(secret, str) or len(secret) < 16:
            raise ConfigError("[handoff] webhook_secret must be a string of 16+ characters")
        attempts = table.get("webhook_attempts", 5)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ConfigError("[handoff] webhook_attempts must be a whole number >= 1")
        return cls(url, secret, attempts)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Deskbot-Signature` value for a body sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Webhook:
    """Sends handoff events in background tasks, retried with backoff."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self._tasks: set[asyncio.Task[bool]] = set()

    def send(self, event: dict[str, Any]) -> asyncio.Task[bool]:
        """Schedule a delivery; returns its task (True once delivered)."""
        task = asyncio.create_task(self._deliver(json.dumps(event).encode()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(self, body: bytes) -> bool:
        s = self.settings
        delivery = secrets.token_hex(8)
        for attempt in range(s.attempts):
            error = await asyncio.to_thread(self._post, body, delivery)
            if error is None:
                return True
            log.warning("handoff webhook delivery %s attempt %d failed: %s",
                        delivery, attempt + 1, error)
            if attempt + 1 < s.attempts:
                await asyncio.sleep(s.first_delay * 2 ** attempt)
        log.error("handoff webhook delivery %s given up after %d attempts", delivery, s.attempts)
        return False

    def _post(self, body: bytes, delivery: str) -> str | None:
        """One POST (in a worker thread); None on a 2xx answer, else why it failed."""
        stamp = str(int(time.time()))
        request = urllib.request.Request(self.settings.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "deskbot-webhook",
            "X-Deskbot-Event": "handoff", "X-Deskbot-Delivery": delivery,
            "X-Deskbot-Timestamp": stamp,
            "X-Deskbot-Signature": signature(self.settings.secret, stamp, body),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return str(exc) or type(exc).__name__
        return None if 200 <= status < 300 else f"HTTP {status}"

    async def drain(self) -> None:
        """Wait for deliveries in flight (at shutdown and in tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
