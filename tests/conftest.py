"""Shared fixtures: real mail peers on loopback (see tests/peers/README.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.peers import MailWorld, WorldOptions

# Every transcript the suite writes is searched for the test passwords (engineer F).
from tests.test_no_secrets import _scan_world_folders, pytest_sessionfinish  # noqa: F401

WorldFactory = Callable[..., MailWorld]


@pytest.fixture
def mail_world() -> Iterator[WorldFactory]:
    """Factory: `world = mail_world(user_form="localpart", relay="530")` starts a world
    with those `WorldOptions`; every world it made is stopped after the test."""
    worlds: list[MailWorld] = []

    def make(**options: Any) -> MailWorld:
        world = MailWorld(WorldOptions(**options)).start()
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.stop()


@pytest.fixture
def world(mail_world: WorldFactory) -> MailWorld:
    """A default world: everything healthy, the full address as username."""
    return mail_world()
