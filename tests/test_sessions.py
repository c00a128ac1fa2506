"""Session stores: persistence across restarts, and the one-at-a-time per-session lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.errors import ConfigError, SessionBusy
from bot.sessions import SessionStore, StoredSession, open_store, store_settings
from bot.sessions.redis import RedisStore
from bot.sessions.sqlite import SqliteStore

try:
    from tests.test_http_support import redis_server
except ImportError:  # pytest's prepend import mode
    from test_http_support import redis_server  # type: ignore[no-redef]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SessionStore]:
    if request.param == "sqlite":
        s: SessionStore = SqliteStore(tmp_path / "s.sqlite3")
    else:
        url = request.getfixturevalue("redis_url")
        s = RedisStore(url, prefix=f"t{id(tmp_path)}:")
    yield s
    await s.close()


async def test_saved_session_reads_back_and_unknown_is_none(store: SessionStore) -> None:
    state = {"flow": "outbox_stuck", "slots": {"email": "a@b.test"}, "turns": [1, 2]}
    await store.save("s1", StoredSession(rev=3, state=state))
    loaded = await store.load("s1")
    assert loaded == StoredSession(rev=3, state=state)
    assert await store.load("nope") is None


async def test_sqlite_survives_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "db.sqlite3")
    await first.save("abc", StoredSession(rev=1, state={"node": "ask_client"}))
    await first.close()
    second = SqliteStore(tmp_path / "db.sqlite3")
    try:
        assert await second.load("abc") == StoredSession(rev=1, state={"node": "ask_client"})
    finally:
        await second.close()


async def test_expired_sqlite_session_is_gone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3", ttl=0.001)
    try:
        await store.save("old", StoredSession(rev=1, state={}))
        await asyncio.sleep(0.01)  # let the 1 ms ttl pass (not waiting for a server)
        assert await store.load("old") is None
    finally:
        await store.close()


async def test_messages_to_one_session_run_in_order_one_at_a_time(store: SessionStore) -> None:
    running: list[int] = []
    done: list[int] = []

    async def turn(n: int) -> None:
        async with store.lock("same"):
            running.append(n)
            assert len(running) == 1, "two turns of one session ran at once"
            await asyncio.sleep(0)  # yield so a broken lock would let another turn in
            await asyncio.sleep(0.002)
            done.append(n)
            running.remove(n)

    tasks = []
    for n in range(8):
        tasks.append(asyncio.create_task(turn(n)))
        await asyncio.sleep(0)  # arrival order 0..7
    await asyncio.gather(*tasks)
    assert done == list(range(8))


async def test_a_slow_session_never_blocks_another(store: SessionStore) -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow() -> None:
        async with store.lock("slow"):
            entered.set()
            await release.wait()

    task = asyncio.create_task(slow())
    await entered.wait()
    async with asyncio.timeout(2):
        async with store.lock("fast"):
            pass
    release.set()
    await task


async def test_redis_lease_excludes_a_second_worker(redis_url: str) -> None:
    # Two stores = two workers: they share only Redis, not the in-process lock.
    a = RedisStore(redis_url, prefix="w:")
    b = RedisStore(redis_url, prefix="w:")
    order: list[str] = []
    try:
        async with a.lock("shared"):
            waiter = asyncio.create_task(_take(b, "shared", order))
            await asyncio.sleep(0.05)
            assert order == [], "worker b got the lock while worker a held it"
            order.append("a-done")
        await asyncio.wait_for(waiter, 5)
        assert order == ["a-done", "b"]
        await a.save("x", StoredSession(rev=2, state={"k": "v"}))
        assert await b.load("x") == StoredSession(rev=2, state={"k": "v"})
    finally:
        await a.close()
        await b.close()


async def _take(store: RedisStore, sid: str, order: list[str]) -> None:
    async with store.lock(sid):
        order.append("b")


def test_store_settings_read_the_serve_table(tmp_path: Path) -> None:
    cfg = tmp_path / "deskbot.toml"
    cfg.write_text('[serve]\nstore = "sqlite"\nsqlite_path = "data/s.db"\n')
    settings = store_settings(Config.load(cfg, serve_mode=True))
    assert settings.sqlite_path == tmp_path / "data" / "s.db"
    cfg.write_text('[serve]\nstore = "mongo"\n')
    with pytest.raises(ConfigError, match="sqlite"):
        open_store(Config.load(cfg, serve_mode=True))


async def test_a_session_held_past_the_wait_is_reported_busy(redis_url: str) -> None:
    holder = RedisStore(redis_url, prefix="busy:")
    impatient = RedisStore(redis_url, prefix="busy:", wait=0.1)
    try:
        async with holder.lock("s"):
            with pytest.raises(SessionBusy, match="busy"):
                async with impatient.lock("s"):
                    pass
        async with impatient.lock("s"):  # released: free again at once
            pass
    finally:
        await holder.close()
        await impatient.close()


async def test_a_turn_longer_than_the_lease_keeps_its_lock(redis_url: str) -> None:
    slow = RedisStore(redis_url, prefix="lease:", lease=0.15)
    other = RedisStore(redis_url, prefix="lease:", wait=0.4)
    try:
        async with slow.lock("s"):
            # slow probes: twice the lease; the holder keeps extending it meanwhile
            with pytest.raises(SessionBusy):
                async with other.lock("s"):
                    pass
    finally:
        await slow.close()
        await other.close()


async def test_pages_list_conversations_by_status_and_skip_other_records(
    store: SessionStore,
) -> None:
    """The agents' list (GET /v1/sessions) reads these pages, in both stores."""
    states = {"a" * 24: None, "b" * 24: "handoff", "c" * 24: "resolved", "d" * 24: "handoff"}
    for sid, status in states.items():
        outcome = {"status": status, "symptom": "outbox_stuck", "diagnosis": None} \
            if status else None
        await store.save(sid, StoredSession(rev=1, state={"outcome": outcome}))
    await store.save("plink.0123abcd", StoredSession(rev=1, state={"session": "a" * 24}))
    handoff = await store.page("handoff", "", 10)
    assert [sid for sid, _ in handoff] == ["b" * 24, "d" * 24]
    assert [sid for sid, _ in await store.page("open", "", 10)] == ["a" * 24]
    everything = [sid for sid, _ in await store.page(None, "", 10)]
    assert everything == sorted(states)  # never the probe-link record
    first = await store.page(None, "", 2)
    rest = await store.page(None, first[-1][0], 10)
    assert [s for s, _ in first + rest] == everything
