"""Load on one `deskbot serve` worker: N concurrent conversations of T turns each.

    python bench/load.py                        # 500 sessions x 6 turns, recorded probe results
    python bench/load.py --probes live          # probes against the loopback mail world
    python bench/load.py --think 1.0            # users pause ~1 s between turns

The worker runs in its own process (uvicorn, the real app, SQLite store). Every conversation is
an account set-up with a login test (probes on turn 5), then a closing line. Printed: throughput,
p50/p99 turn latency excluding probe time (the worker's Server-Timing `app` part, and as the
client saw it minus probe time), worker memory per open session, and whether any turn was lost
or answered out of order (each session's transcript must hold exactly the lines sent, in order).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- the worker (child process)

class CannedRunner:
    """Recorded probe results for every session alike: the service's own overhead only."""

    def __init__(self) -> None:
        from bot.catalog.model import Provider, ServerSettings
        from bot.probes.model import Check, ProbeReport

        provider = Provider(
            id="example", name="Example Mail", domains=("example.test",),
            incoming=(ServerSettings("imap", "imap.example.test", 993, "ssl"),),
            outgoing=(ServerSettings("smtp", "smtp.example.test", 587, "starttls"),),
        )
        checks = (Check("tcp", "mail.example.test:993", "ok", "port open", ms=1.0),
                  Check("tls", "mail.example.test:993", "ok", "certificate valid", ms=2.0))
        self.reports = {
            "lookup_provider": ProbeReport("lookup_provider", "example.test", "found",
                                           provider=provider),
            "check_incoming": ProbeReport("check_incoming", "imap.example.test:993", "ok",
                                          checks=checks, provider=provider, facts={
                                              "configured_host": "imap.example.test",
                                              "configured_port": "993",
                                              "configured_security": "ssl",
                                              "protocol": "imap"}),
            "check_outgoing": ProbeReport("check_outgoing", "smtp.example.test:587", "ok",
                                          checks=checks, provider=provider, facts={
                                              "configured_host": "smtp.example.test",
                                              "configured_port": "587",
                                              "configured_security": "starttls",
                                              "protocol": "smtp"}),
        }

    async def run(self, name: str, params: Mapping[str, str], observer: Any = None, *,
                  call: Any) -> Any:
        from bot.probes.model import ProbeReport

        return self.reports.get(name, ProbeReport(name, "", "inconclusive"))

    def provider(self, email: str, catalogue: Any) -> Any:
        return catalogue.lookup(email) if catalogue is not None else None


def serve_child(port: int, db: str, world_config: str | None) -> None:
    """Run one worker: the real app under uvicorn."""
    import uvicorn

    from bot.config import Config, Nameserver
    from bot.interfaces.http import create_app

    # One client address opens every conversation: lift the per-client limits (429s otherwise).
    serve: dict[str, Any] = {"sqlite_path": db, "logins_per_session": 100,
                             "logins_per_target": 1_000_000, "logins_per_client": 1_000_000,
                             "sessions_per_client": 1_000_000}
    if os.environ.get("BENCH_REDIS_URL"):
        serve.update(store="redis", redis_url=os.environ["BENCH_REDIS_URL"])
    if world_config:
        config = Config.load(world_config, serve_mode=True)
        ports = sorted({int(p) for p in os.environ["BENCH_MAIL_PORTS"].split(",")})
        config = config.with_overrides(serve={**serve, "mail_ports": ports})
        app = create_app(config)
    else:
        # The login budget resolves server names: a dead loopback nameserver keeps the
        # recorded run off the system resolver (and off the network).
        config = Config(allow_private=False, serve=serve,
                        nameservers=(Nameserver.parse("127.0.0.1:9"),), timeout=0.5)
        app = create_app(config, runner=CannedRunner())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False,
                backlog=4096, timeout_keep_alive=300)


# ---------------------------------------------------------------- the load (parent process)

class RawClient:
    """One keep-alive HTTP/1.1 connection: far lighter than httpx, so the load generator
    does not starve the worker of CPU on a small machine."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, str], Any]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, json.loads(payload) if payload else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Results:
    app_ms: list[float] = field(default_factory=list)  # worker time minus probe time
    client_ms: list[float] = field(default_factory=list)  # round trip minus probe time
    probe_ms: list[float] = field(default_factory=list)
    turns: int = 0
    errors: list[str] = field(default_factory=list)
    disordered: list[str] = field(default_factory=list)


def _timing(header: str) -> dict[str, float]:
    out = {}
    for part in header.split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            out[name] = float(dur)
    return out


def _answer(question: Mapping[str, Any] | None, n: int, email: str) -> str:
    if question is None:
        return "thank you"
    slot = question["slot"]
    if slot == "symptom":
        for choice in question.get("choices", ()):
            if choice["value"] == "account_setup":
                return str(choice["label"])
    return {"test_offer": "yes", "login_consent": "yes", "username": email,
            "password": f"bench-secret-{n}", "client": "Thunderbird"}.get(slot, "I don't know")


async def conversation(base: tuple[str, int], n: int, turns: int, think: float,
                       results: Results, email: str) -> None:
    client = RawClient(*base)
    try:
        await _converse(client, n, turns, think, results, email)
    finally:
        await client.close()


async def _converse(client: RawClient, n: int, turns: int, think: float, results: Results,
                    email: str) -> None:
    status, _, body = await client.request("POST", "/v1/sessions", {"context": {
        "email": email, "client": "Thunderbird"}})
    if status != 201:
        results.errors.append(f"start: {status}")
        return
    sid = body["id"]
    text, sent = "I need the settings to set up my e-mail account", []
    for _ in range(turns):
        if think:
            await asyncio.sleep(random.expovariate(1 / think))
        started = time.perf_counter()
        status, headers, body = await client.request(
            "POST", f"/v1/sessions/{sid}/messages", {"text": text})
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            results.errors.append(f"turn: {status} {str(body)[:80]}")
            return
        timing = _timing(headers.get("server-timing", ""))
        results.app_ms.append(timing.get("app", float("nan")))
        results.probe_ms.append(timing.get("probes", 0.0))
        results.client_ms.append(elapsed - timing.get("probes", 0.0))
        results.turns += 1
        sent.append(text)
        text = _answer(None if body["outcome"] else body["question"], n, email)
    _, _, transcript = await client.request("GET", f"/v1/sessions/{sid}/transcript")
    got = [t.get("text") for t in transcript["turns"] if t["role"] == "user"]
    # a password line is masked in the transcript: compare every other line, position by position
    same = len(got) == len(sent) and all(
        g == s for g, s in zip(got, sent, strict=True) if not s.startswith("bench-secret")
    )
    if not same:
        results.disordered.append(f"{sid}: sent {sent} got {got}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(v for v in values if v == v)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


async def idle_sessions(base: tuple[str, int], count: int) -> None:
    async def some(first: int) -> None:
        client = RawClient(*base)
        for n in range(first, count, 50):
            _, _, body = await client.request("POST", "/v1/sessions", {"context": {
                "email": f"idle{n}@example.test"}})
            await client.request("POST", f"/v1/sessions/{body['id']}/messages",
                                 {"text": "I need the settings to set up my account"})
        await client.close()

    await asyncio.gather(*(some(first) for first in range(50)))


async def load(args: argparse.Namespace, base: tuple[str, int], pid: int) -> None:
    await conversation(base, -1, args.turns, 0, Results(), "warm@example.test")
    # memory first, on a fresh worker: sessions opened and left idle (all in the live cache)
    rss_fresh = rss_kib(pid)
    await idle_sessions(base, args.idle)
    rss_idle = rss_kib(pid)
    results = Results()
    cpu_before, own_before = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(
        conversation(base, n, args.turns, args.think, results, f"user{n}@example.test")
        for n in range(args.sessions)
    ))
    wall = time.perf_counter() - started
    cpu = (cpu_seconds(pid) - cpu_before, time.process_time() - own_before)
    report(args, results, wall, cpu, (rss_fresh, rss_idle, rss_kib(pid)))
    db = Path(args.db)
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    count = args.sessions + args.idle + 1
    if args.store == "sqlite":
            print(f"SQLite: {size / 1024 / 1024:.1f} MiB for {count} sessions "
              f"= {size / count / 1024:.1f} KiB each on disk")


def report(args: argparse.Namespace, r: Results, wall: float, cpu: tuple[float, float],
           rss: tuple[int, int, int]) -> None:
    before, after, idle = rss  # fresh, with idle sessions, after the load
    expected = args.sessions * args.turns
    print(f"deskbot serve, one worker, {args.store} store, probes: {args.probes}, "
          f"think: {args.think}s")
    print(f"sessions {args.sessions} x turns {args.turns}: {r.turns}/{expected} turns answered "
          f"in {wall:.2f} s = {r.turns / wall:.0f} turns/s")
    print(f"CPU: worker {cpu[0]:.2f} s = {cpu[0] / max(r.turns, 1) * 1000:.2f} ms/turn "
          f"(a ceiling of {r.turns / max(cpu[0], 1e-9):.0f} turns/s per core); "
          f"load client {cpu[1]:.2f} s; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"turn latency excl. probes, in the worker (Server-Timing app): "
          f"p50 {pct(r.app_ms, .5):.2f} ms  p99 {pct(r.app_ms, .99):.2f} ms  "
          f"max {max(r.app_ms, default=0):.2f} ms")
    print(f"turn latency excl. probes, round trip at the client (incl. queueing): "
          f"p50 {pct(r.client_ms, .5):.2f} ms  p99 {pct(r.client_ms, .99):.2f} ms")
    probing = [p for p in r.probe_ms if p > 0]
    if probing:
        print(f"probe time on probing turns: p50 {pct(probing, .5):.1f} ms  "
              f"p99 {pct(probing, .99):.1f} ms  ({len(probing)} turns)")
    print(f"worker memory: {before / 1024:.1f} MiB fresh, {after / 1024:.1f} MiB with "
          f"{args.idle} idle open sessions = {(after - before) / max(args.idle, 1):.1f} KiB per "
          f"idle session (all in the live cache); {idle / 1024:.1f} MiB after the load")
    print(f"lost or failed turns: {expected - r.turns} ({len(r.errors)} errors)  "
          f"out of order: {len(r.disordered)}")
    for line in (r.errors + r.disordered)[:5]:
        print("  ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between turns (s)")
    parser.add_argument("--idle", type=int, default=500,
                        help="sessions opened and left idle for the memory measurement")
    parser.add_argument("--probes", choices=("recorded", "live"), default="recorded")
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--serve-child", nargs=3, metavar=("PORT", "DB", "WORLD"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        port, db, world = args.serve_child
        serve_child(int(port), db, None if world == "-" else world)
        return
    run_parent(args)


def run_parent(args: argparse.Namespace) -> None:
    from tests.test_http_support import free_port, wait_port

    world_cm: Any = None
    world_config = "-"
    env = dict(os.environ)
    if args.probes == "live":
        from tests.peers import MailWorld, WorldOptions

        world_cm = MailWorld(WorldOptions(timeout=5.0)).start()
        world_config = str(world_cm.config_path)
        env["BENCH_MAIL_PORTS"] = ",".join(str(p) for p in world_cm.ports.values())
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if args.store == "redis":
            from tests.test_http_support import redis_server

            env["BENCH_REDIS_URL"] = stack.enter_context(redis_server(Path(tmp)))
        port = free_port()
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve-child", str(port), f"{tmp}/bench.db",
             world_config], env=env,
        )
        try:
            wait_port(port, deadline=60, proc=child)
            args.db = f"{tmp}/bench.db"
            asyncio.run(load(args, ("127.0.0.1", port), child.pid))
        finally:
            child.terminate()
            child.wait(15)
            if world_cm is not None:
                world_cm.stop()


if __name__ == "__main__":
    main()
