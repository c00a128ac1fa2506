"""Build the session store the `[serve]` table names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from bot.config import Config
from bot.errors import ConfigError
from bot.sessions.base import SessionStore


@dataclass(frozen=True)
class StoreSettings:
    """The store part of `[serve]`, checked."""

    store: str  # sqlite | redis
    sqlite_path: Path
    redis_url: str
    ttl: float


def _number(serve: dict[str, Any], name: str, default: float) -> float:
    value = serve.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"[serve] {name} must be a positive number")
    return float(value)


def store_settings(config: Config) -> StoreSettings:
    """Read and check the store settings of `[serve]` (relative paths: next to the config)."""
    serve = config.serve
    store = serve.get("store", "sqlite")
    if store not in ("sqlite", "redis"):
        raise ConfigError(f"[serve] store must be \"sqlite\" or \"redis\", not {store!r}")
    default_path = Path(platformdirs.user_data_dir("deskbot")) / "sessions.sqlite3"
    raw_path = serve.get("sqlite_path", str(default_path))
    url = serve.get("redis_url", "redis://127.0.0.1:6379/0")
    if not isinstance(raw_path, str) or not isinstance(url, str):
        raise ConfigError("[serve] sqlite_path and redis_url must be strings")
    path = Path(raw_path).expanduser()
    if not path.is_absolute() and config.source is not None:
        path = config.source.parent / path
    return StoreSettings(store, path, url, _number(serve, "session_ttl", 7 * 86400.0))


def open_store(config: Config) -> SessionStore:
    """The store `[serve] store` selects: SQLite (default) or Redis."""
    settings = store_settings(config)
    if settings.store == "redis":
        from bot.sessions.redis import RedisStore

        return RedisStore(settings.redis_url, ttl=settings.ttl)
    from bot.sessions.sqlite import SqliteStore

    return SqliteStore(settings.sqlite_path, ttl=settings.ttl)


async def check_store(config: Config) -> None:
    """Fail fast at startup (ConfigError) when the configured store cannot be reached."""
    settings = store_settings(config)
    store = open_store(config)  # SQLite opens (and reports) its file here
    try:
        if settings.store == "redis":
            from bot.sessions.redis import RedisStore

            assert isinstance(store, RedisStore)
            try:
                await store.ping()
            except Exception as exc:  # redis raises its own tree; report any of it the same way
                raise ConfigError(
                    f"[serve] redis_url {settings.redis_url}: cannot connect: {exc}"
                ) from exc
    finally:
        await store.close()
