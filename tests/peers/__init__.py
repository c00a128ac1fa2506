"""Real mail peers on loopback for tests and scripts: see README.md in this folder."""

from tests.peers.world import MailWorld, WorldOptions

__all__ = ["MailWorld", "WorldOptions"]
