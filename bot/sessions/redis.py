"""Sessions in Redis, shared by several `deskbot serve` workers behind a load balancer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from bot.errors import ConfigError, SessionBusy, StoreUnavailable
from bot.sessions.base import LocalLocks, StoredSession, status_of

log = logging.getLogger(__name__)

# Release and extend only a lease we still own: a lease that expired and was taken by another
# worker must not be deleted by the slow first holder.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class RedisStore:
    """Sessions as JSON strings with a ttl; the lock is a Redis lease shared by all workers.

    Inside one worker a FIFO asyncio lock is taken first, so only one request per session and
    worker polls Redis, and messages arriving at one worker keep their order.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 7 * 86400.0,
        prefix: str = "deskbot:",
        lease: float = 30.0,
        wait: float = 120.0,
        connections: int = 64,
    ) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # the [serve] extra brings it
            raise ConfigError("[serve] store = \"redis\" needs the redis package") from exc
        try:
            # A blocking pool: under a burst, requests queue for one of `connections` sockets
            # instead of failing with "Too many connections" (the plain pool's behaviour).
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=connections, timeout=wait, decode_responses=True
            )
        except ValueError as exc:
            raise ConfigError(f"[serve] redis_url {url!r}: {exc}") from exc
        self._redis: Any = aioredis.Redis(connection_pool=pool)
        self.ttl = ttl
        self.prefix = prefix
        self.lease = lease
        self.wait = wait
        self._locks = LocalLocks()
        self._release = self._redis.register_script(_RELEASE)
        self._extend = self._redis.register_script(_EXTEND)

    def _key(self, kind: str, session_id: str) -> str:
        return f"{self.prefix}{kind}:{session_id}"

    async def load(self, session_id: str) -> StoredSession | None:
        """The saved session, or None when unknown or expired."""
        text = await self._redis.get(self._key("session", session_id))
        if text is None:
            return None
        data = json.loads(text)
        return StoredSession(rev=int(data["rev"]), state=data["state"])

    async def save(self, session_id: str, stored: StoredSession) -> None:
        """Write a session and restart its ttl."""
        from redis.exceptions import RedisError  # the package is imported only when used

        text = json.dumps({"rev": stored.rev, "state": stored.state}, separators=(",", ":"))
        try:
            await self._redis.set(self._key("session", session_id), text,
                                  px=int(self.ttl * 1000))
        except (RedisError, OSError) as exc:  # a blip: the turn is not applied, retry it
            raise StoreUnavailable(f"the conversation could not be saved ({exc}); nothing "
                                   "was changed, please send it again") from exc

    async def shred(self) -> None:
        """Nothing to do: SET replaces the value in memory (persistence files are Redis's:
        see docs/http.md)."""

    async def page(self, status: str | None, after: str, limit: int
                   ) -> list[tuple[str, StoredSession]]:
        """A page of conversations by id (see SessionStore.page).

        Redis has no ordered index of sessions: this SCANs every session key, so it costs
        O(sessions) per page; fine for an agents' list, not for a hot path.
        """
        start = len(self._key("session", ""))
        ids = sorted([
            key[start:] async for key in self._redis.scan_iter(
                match=self._key("session", "*"), count=1000)
            if key[start:] > after and "." not in key[start:]])
        found: list[tuple[str, StoredSession]] = []
        for session_id in ids:
            stored = await self.load(session_id)
            if stored is not None and status in (None, status_of(stored.state)):
                found.append((session_id, stored))
                if len(found) >= limit:
                    break
        return found

    def lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Local FIFO lock, then the cross-worker lease."""
        return self._hold(session_id)

    @asynccontextmanager
    async def _hold(self, session_id: str) -> AsyncIterator[None]:
        async with self._locks.hold(session_id):
            key, token = self._key("lock", session_id), secrets.token_hex(16)
            await self._acquire(key, token)
            # A turn with slow probes may outlive the lease: keep extending it while we hold it.
            keeper = asyncio.create_task(self._keep(key, token))
            try:
                yield
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                await self._release(keys=[key], args=[token])

    async def _acquire(self, key: str, token: str) -> None:
        deadline = time.monotonic() + self.wait
        pause = 0.002
        lease_ms = int(self.lease * 1000)
        while not await self._try_lock(key, token, lease_ms):
            if time.monotonic() > deadline:
                raise SessionBusy(f"session is busy with another request (lock {key})")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def _try_lock(self, key: str, token: str, lease_ms: int) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(await self._redis.set(key, token, nx=True, px=lease_ms))
        except (RedisError, OSError) as exc:  # read-only replica, OOM, connection lost
            raise StoreUnavailable(f"the session store is unavailable ({exc}); nothing was "
                                   "changed, please send it again") from exc

    async def _keep(self, key: str, token: str) -> None:
        lease_ms = int(self.lease * 1000)
        while True:
            await asyncio.sleep(self.lease / 3)
            if not await self._extend(keys=[key], args=[token, lease_ms]):
                log.warning("lost the lease on %s while handling a message", key)
                return

    async def hit(self, key: str, window: float) -> int:
        """Count an event in Redis, so a limit holds across every worker."""
        name = self._key("hits", key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, int(window * 1000), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def ping(self) -> bool:
        """True when Redis answers."""
        return bool(await self._redis.ping())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
