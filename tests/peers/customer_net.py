"""The customer's network, seen from a second process: the same mail world, but one port filtered.

An ISP that blocks a port does so between the customer and the provider, so the help desk's
server still reaches it. Here the customer's computer gets its own DNS (a copy of the world's
zone in which `smtp.example.test` is 127.0.0.3) and, on 127.0.0.3, the world's SMTP ports as
plain TCP relays to the real aiosmtpd on 127.0.0.1 (same port numbers, same certificates: the
name is what TLS checks), except the `blocked` ones, which are backlog-0 listeners whose
connects time out, as a filtered port does (TEST-PEERS.md). `config_path` is the customer's
CONTRACT.md config (its DNS, the world's CA).

    with CustomerNetwork(world, blocked=("submission",)) as net:
        subprocess.run(["deskbot", "probe", "--join", url, "--config", str(net.config_path)])
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from pathlib import Path
from typing import Any

from tests.peers.dnsserver import DnsServer, Zone
from tests.peers.world import MailWorld

CUSTOMER_VIEW = "127.0.0.3"  # where the customer's DNS says smtp.example.test is
RELAYED = ("submission", "smtps", "relay")


class CustomerNetwork:
    """Start with `with`; see the module docstring."""

    def __init__(self, world: MailWorld, blocked: tuple[str, ...] = ("submission",)) -> None:
        self.world = world
        self.blocked = blocked
        self.zone = Zone()
        self.dns_port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="customer-net")
        self._servers: list[Any] = []
        self._sockets: list[socket.socket] = []

    @property
    def config_path(self) -> Path:
        return self.world.dir / "customer.toml"

    def __enter__(self) -> CustomerNetwork:
        self.zone.records = {k: list(v) for k, v in self.world.zone.records.items()}
        self.zone.set("smtp.example.test", "A", CUSTOMER_VIEW)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.config_path.write_text(
            f'[dns]\nnameservers = ["127.0.0.1:{self.dns_port}"]\n'
            f'[tls]\nca_file = "{self.world.ca_file}"\n'
            f"[probes]\ntimeout = {self.world.options.timeout}\n"
            f"mail_ports = {sorted(set(self.world.ports.values()))}\n", encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        for sock in self._sockets:
            sock.close()

    async def _start(self) -> None:
        dns = DnsServer(self.zone)
        await dns.start()
        self.dns_port = dns.port
        self._servers.append(dns)
        for name in RELAYED:
            port = self.world.ports[name]
            if name in self.blocked:
                self._sockets += _filtered(CUSTOMER_VIEW, port)
            else:
                self._servers.append(await asyncio.start_server(
                    lambda r, w, p=port: _relay(r, w, p), CUSTOMER_VIEW, port))

    async def _stop(self) -> None:
        for server in self._servers:
            if isinstance(server, DnsServer):
                await server.stop()
            else:
                server.close()


def _filtered(host: str, port: int) -> list[socket.socket]:
    """A backlog-0 listener whose one queue slot is held: further connects time out."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # an earlier customer network's connections may still linger in TIME_WAIT on this port
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(0)
    filler = socket.create_connection((host, port), timeout=2.0)
    return [listener, filler]


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        writer.close()
        return

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(Exception):
            dst.close()

    await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
