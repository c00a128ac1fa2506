"""Ports that misbehave the way broken networks and servers do, all on loopback, no root.

- filtered: a listener with backlog 0 whose one queue slot is taken by a filler connection
  that is never accepted, so every further SYN is dropped: connect() times out, exactly as a
  port an ISP filters looks (TEST-PEERS.md).
- refused: a socket bound to the port but not listening: the kernel answers RST.
- silent: accepts, never says anything.
- garbage: accepts and sends bytes that are no protocol's greeting.
- slow: accepts and dribbles a valid-looking greeting one byte every `slow_delay` seconds,
  which per-read timeouts never notice (only a wall-clock deadline does).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

GARBAGE = b"HELLO? \x00\xfe\xfd this is not a mail server\r\n"


def filtered_port(host: str) -> tuple[int, list[socket.socket]]:
    """A port whose connects time out; keep the returned sockets open for as long as needed."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    filler.settimeout(2.0)
    filler.connect((host, port))  # completes: it sits in the accept queue forever
    return port, [listener, filler]


def refused_port(host: str) -> tuple[int, socket.socket]:
    """A port that refuses connections, reserved so nothing else takes it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock.getsockname()[1], sock


class MisbehavingServer:
    """A TCP server that is silent, sends garbage, or is slow, per `mode`."""

    def __init__(self, host: str, mode: str, slow_delay: float = 0.5) -> None:
        self.host, self.mode, self.slow_delay = host, mode, slow_delay
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode == "garbage":
                writer.write(GARBAGE)
                await writer.drain()
            elif self.mode == "slow":
                for byte in b"220 slow.example.test ESMTP\r\n":
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(self.slow_delay)
            # then (and for silent) hold the connection open until the client leaves
            while await reader.read(4096):
                if self.mode == "garbage":
                    writer.write(GARBAGE)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
