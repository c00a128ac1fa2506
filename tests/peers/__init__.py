"""Real mail peers on loopback for tests and scripts: see README.md in this folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.peers.world import MailWorld, WorldOptions

__all__ = ["MailWorld", "WorldOptions"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m tests.peers.world` does not import the module twice.
    if name in __all__:
        from tests.peers import world

        return getattr(world, name)
    raise AttributeError(name)
