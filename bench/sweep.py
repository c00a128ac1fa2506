"""Sweep benchmark on loopback peers (tests/peers): run `python bench/sweep.py [--rounds N]`.

Prints
  (a) wall time of the full concurrent sweep (check_outgoing + check_incoming, as
      `deskbot probe` runs them, logins included) divided by its slowest single probe run
      alone (goal: at most 1.3);
  (b) the median per-probe overhead of bot.probes over a raw blocking-socket client doing
      the same conversation (connect, TLS, greeting, capabilities, STARTTLS, goodbye).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.probes.dns import make_resolver, resolve_host  # noqa: E402
from bot.probes.endpoint import Endpoint, Login  # noqa: E402
from bot.probes.runners import LOCAL  # noqa: E402
from bot.probes.runners.live import LiveProbeRunner  # noqa: E402
from bot.probes.session import probe_endpoint  # noqa: E402
from bot.probes.sweep import FACTORIES  # noqa: E402
from bot.probes.tls import client_context  # noqa: E402

CAPA = {"smtp": b"EHLO bench.invalid\r\n", "pop3": b"CAPA\r\n", "imap": b"a1 CAPABILITY\r\n"}
TLS_CMD = {"smtp": b"STARTTLS\r\n", "pop3": b"STLS\r\n", "imap": b"a2 STARTTLS\r\n"}
BYE = {"smtp": b"QUIT\r\n", "pop3": b"QUIT\r\n", "imap": b"a3 LOGOUT\r\n"}


class World:
    """A mail world in its own process (python -m tests.peers.world), so the servers' Python
    work does not compete with the probes for this process's GIL."""

    def __enter__(self) -> World:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.peers.world"],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.config_path = Path(self.proc.stdout.readline().strip())
        info = json.loads(self.proc.stdout.readline())
        self.email, self.password = info["email"], info["password"]
        self.ports: dict[str, int] = info["ports"]
        self.answers: dict[str, str] = info["answers"]
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


class DelayProxy:
    """Forwards one loopback port to another, holding every chunk back `delay` seconds in
    each direction: a round trip of 2 x delay, like a real network (tc netem is not
    available here). Runs on its own event loop thread."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def forward(self, ip: str, port: int) -> int:
        async def start() -> int:
            server = await asyncio.start_server(
                lambda r, w: self._pair(r, w, ip, port), ip, 0)
            return int(server.sockets[0].getsockname()[1])
        return asyncio.run_coroutine_threadsafe(start(), self.loop).result()

    async def _pair(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    ip: str, port: int) -> None:
        await asyncio.sleep(self.delay * 2)  # the SYN / SYN-ACK round trip
        up_r, up_w = await asyncio.open_connection(ip, port)
        await asyncio.gather(self._pipe(reader, up_w), self._pipe(up_r, writer),
                             return_exceptions=True)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    dst.close()
                    return
                dst.write(data)
                await dst.drain()

        sender = asyncio.ensure_future(send())
        try:
            while data := await src.read(65536):
                queue.put_nowait((time.monotonic() + self.delay, data))
        finally:
            queue.put_nowait((time.monotonic() + self.delay, b""))
            await sender

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def delayed(world: World, rtt_ms: float) -> World:
    """The same world seen through delaying proxies: new ports, XML and config."""
    proxy = DelayProxy(rtt_ms / 2000)
    ips = {"submission": "127.0.0.1", "smtps": "127.0.0.1", "relay": "127.0.0.1"}
    mapping = {world.ports[n]: proxy.forward(ips.get(n, "127.0.0.2"), world.ports[n])
               for n in ("submission", "smtps", "pop3", "pop3s", "imap", "imaps")}
    folder = Path(tempfile.mkdtemp(prefix="deskbot-bench-"))
    xml = Path(re.search(r'files = \["(.*?)"\]', world.config_path.read_text()).group(1))  # type: ignore[union-attr]
    text = re.sub(r"<port>(\d+)</port>",
                  lambda m: f"<port>{mapping.get(int(m.group(1)), m.group(1))}</port>",
                  xml.read_text())
    (folder / "example.test.xml").write_text(text)
    config = world.config_path.read_text().replace(str(xml), str(folder / "example.test.xml"))
    (folder / "config.toml").write_text(config)
    view = World.__new__(World)
    view.config_path = folder / "config.toml"
    view.email, view.password = world.email, world.password
    view.ports = {k: mapping.get(v, v) for k, v in world.ports.items()}
    view.answers = dict(world.answers)
    for key in ("outgoing_port", "incoming_port"):
        view.answers[key] = str(mapping.get(int(view.answers[key]), view.answers[key]))
    return view


def endpoints(world: World) -> list[Endpoint]:
    p = world.ports
    return [
        Endpoint("smtp", "smtp.example.test", p["submission"], "starttls", "127.0.0.1"),
        Endpoint("smtp", "smtp.example.test", p["smtps"], "ssl", "127.0.0.1"),
        Endpoint("imap", "imap.example.test", p["imaps"], "ssl", "127.0.0.2"),
        Endpoint("imap", "imap.example.test", p["imap"], "starttls", "127.0.0.2"),
        Endpoint("pop3", "pop.example.test", p["pop3s"], "ssl", "127.0.0.2"),
        Endpoint("pop3", "pop.example.test", p["pop3"], "starttls", "127.0.0.2"),
    ]


def _read_reply(f: object, protocol: str) -> None:
    """Read one complete reply of a capability command."""
    while True:
        line = f.readline()  # type: ignore[attr-defined]
        if not line:
            return
        if protocol == "smtp" and line[3:4] != b"-":
            return
        if protocol == "pop3" and (line.startswith(b".") or line.startswith(b"-ERR")):
            return
        if protocol == "imap" and line.startswith(b"a"):
            return


def raw_conversation(e: Endpoint, ctx: ssl.SSLContext) -> float:
    """The same conversation with blocking sockets; returns milliseconds."""
    start = time.perf_counter()
    sock: socket.socket = socket.create_connection((e.ip, e.port), 5)
    if e.security == "ssl":
        sock = ctx.wrap_socket(sock, server_hostname=e.host)
    f = sock.makefile("rb")
    f.readline()
    sock.sendall(CAPA[e.protocol])
    _read_reply(f, e.protocol)
    if e.security == "starttls":
        sock.sendall(TLS_CMD[e.protocol])
        f.readline()
        sock = ctx.wrap_socket(sock, server_hostname=e.host)
        f = sock.makefile("rb")
        sock.sendall(CAPA[e.protocol])
        _read_reply(f, e.protocol)
    sock.sendall(BYE[e.protocol])
    f.readline()
    sock.close()
    return (time.perf_counter() - start) * 1000


async def probe_ms(e: Endpoint, ctx: ssl.SSLContext, login: Login | None = None) -> float:
    start = time.perf_counter()
    result = await probe_endpoint(e, FACTORIES[e.protocol], ctx, 5.0, login)
    assert result.healthy, result.checks
    return (time.perf_counter() - start) * 1000


async def slowest_single(world: World, config: Config) -> float:
    """The slowest probe of the sweep, each run alone: DNS lookups and endpoint probes
    (the client's endpoints with their login, as the sweep does)."""
    ctx = client_context(config.ca_file)
    resolver = make_resolver(config)
    times = []
    for host in ("smtp.example.test", "imap.example.test", "pop.example.test"):
        start = time.perf_counter()
        await resolve_host(resolver, host, 5.0)
        times.append((time.perf_counter() - start) * 1000)
    login = Login(world.email, world.password)
    for i, e in enumerate(endpoints(world)):
        times.append(await probe_ms(e, ctx, login if i in (0, 2) else None))
    return max(times)


async def full_sweep(world: World, config: Config) -> float:
    runner = LiveProbeRunner(config)
    params = world.answers
    await runner.discover(world.email)  # the catalogue lookup is not a network probe
    start = time.perf_counter()
    out, inc = await asyncio.gather(runner.run("check_outgoing", params, call=LOCAL),
                                    runner.run("check_incoming", params, call=LOCAL))
    assert (out.outcome, inc.outcome) == ("ok", "ok"), (out.outcome, inc.outcome)
    return (time.perf_counter() - start) * 1000


async def main(rounds: int, rtt_ms: float) -> None:
    with World() as base:
        world = delayed(base, rtt_ms) if rtt_ms else base
        config = Config.load(world.config_path)
        ctx = client_context(config.ca_file)
        await full_sweep(world, config)  # warm-up: imports, first Dovecot logins
        ratios, walls, slows = [], [], []
        for _ in range(rounds):
            slow = await slowest_single(world, config)
            wall = await full_sweep(world, config)
            ratios.append(wall / slow)
            walls.append(wall)
            slows.append(slow)
        overheads = []
        for _ in range(rounds):
            for e in endpoints(world):
                raw = await asyncio.to_thread(raw_conversation, e, ctx)
                ours = await probe_ms(e, ctx)
                overheads.append(ours - raw)
        print(f"rounds: {rounds}, simulated round trip: {rtt_ms:g} ms")
        print(f"(a) full concurrent sweep: median {statistics.median(walls):.1f} ms; slowest "
              f"single probe alone: median {statistics.median(slows):.1f} ms; ratio median "
              f"{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f};"
              " goal <= 1.3)")
        print(f"(b) per-probe overhead over raw sockets: median "
              f"{statistics.median(overheads):.2f} ms (n={len(overheads)}, "
              f"p90 {sorted(overheads)[int(len(overheads) * 0.9)]:.2f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rtt", type=float, default=0.0,
                        help="simulated network round trip in ms (a delaying proxy per port)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.rtt))
