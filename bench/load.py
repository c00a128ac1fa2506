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

import httpx

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
                                          checks=checks, provider=provider),
            "check_outgoing": ProbeReport("check_outgoing", "smtp.example.test:587", "ok",
                                          checks=checks, provider=provider),
        }

    async def run(self, name: str, params: Mapping[str, str], observer: Any = None) -> Any:
        from bot.probes.model import ProbeReport

        return self.reports.get(name, ProbeReport(name, "", "inconclusive"))


def serve_child(port: int, db: str, world_config: str | None) -> None:
    """Run one worker: the real app under uvicorn."""
    import uvicorn

    from bot.config import Config
    from bot.interfaces.http import create_app

    serve = {"sqlite_path": db, "logins_per_session": 100, "logins_per_target": 1_000_000}
    if world_config:
        config = Config.load(world_config, serve_mode=True)
        ports = sorted({int(p) for p in os.environ["BENCH_MAIL_PORTS"].split(",")})
        config = config.with_overrides(serve={**serve, "mail_ports": ports})
        app = create_app(config)
    else:
        config = Config(allow_private=False, serve=serve)
        app = create_app(config, runner=CannedRunner())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


# ---------------------------------------------------------------- the load (parent process)

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


async def conversation(client: httpx.AsyncClient, n: int, turns: int, think: float,
                       results: Results, email: str) -> None:
    res = await client.post("/v1/sessions", json={"context": {"email": email,
                                                              "client": "Thunderbird"}})
    if res.status_code != 201:
        results.errors.append(f"start: {res.status_code}")
        return
    sid = res.json()["id"]
    text, sent = "I need the settings to set up my e-mail account", []
    for _ in range(turns):
        if think:
            await asyncio.sleep(random.expovariate(1 / think))
        started = time.perf_counter()
        res = await client.post(f"/v1/sessions/{sid}/messages", json={"text": text})
        elapsed = (time.perf_counter() - started) * 1000
        if res.status_code != 200:
            results.errors.append(f"turn: {res.status_code} {res.text[:80]}")
            return
        timing = _timing(res.headers.get("server-timing", ""))
        results.app_ms.append(timing.get("app", float("nan")))
        results.probe_ms.append(timing.get("probes", 0.0))
        results.client_ms.append(elapsed - timing.get("probes", 0.0))
        results.turns += 1
        sent.append(text)
        body = res.json()
        text = _answer(None if body["outcome"] else body["question"], n, email)
    transcript = (await client.get(f"/v1/sessions/{sid}/transcript")).json()
    got = [t.get("text") for t in transcript["turns"] if t["role"] == "user"]
    # a password line is masked in the transcript: compare every other line, position by position
    same = len(got) == len(sent) and all(
        g == s for g, s in zip(got, sent, strict=True) if not s.startswith("bench-secret")
    )
    if not same:
        results.disordered.append(f"{sid}: sent {sent} got {got}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(v for v in values if v == v)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


async def idle_sessions(base: str, count: int) -> None:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        sem = asyncio.Semaphore(100)

        async def one(n: int) -> None:
            async with sem:
                sid = (await client.post("/v1/sessions", json={"context": {
                    "email": f"idle{n}@example.test"}})).json()["id"]
                await client.post(f"/v1/sessions/{sid}/messages",
                                  json={"text": "I need the settings to set up my account"})

        await asyncio.gather(*(one(n) for n in range(count)))


async def load(args: argparse.Namespace, base: str, pid: int) -> None:
    results = Results()
    limits = httpx.Limits(max_connections=args.sessions, max_keepalive_connections=args.sessions)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        await client.get("/healthz")
        await conversation(client, -1, args.turns, 0, Results(), "warm@example.test")
        rss_before = rss_kib(pid)
        started = time.perf_counter()
        await asyncio.gather(*(
            conversation(client, n, args.turns, args.think, results, f"user{n}@example.test")
            for n in range(args.sessions)
        ))
        wall = time.perf_counter() - started
    rss_after = rss_kib(pid)
    await idle_sessions(base, args.idle)
    rss_idle = rss_kib(pid)
    report(args, results, wall, rss_before, rss_after, rss_idle)


def report(args: argparse.Namespace, r: Results, wall: float, before: int, after: int,
           idle: int) -> None:
    expected = args.sessions * args.turns
    print(f"deskbot serve, one worker, SQLite store, probes: {args.probes}, think: {args.think}s")
    print(f"sessions {args.sessions} x turns {args.turns}: {r.turns}/{expected} turns answered "
          f"in {wall:.2f} s = {r.turns / wall:.0f} turns/s")
    print(f"turn latency excl. probes, in the worker (Server-Timing app): "
          f"p50 {pct(r.app_ms, .5):.2f} ms  p99 {pct(r.app_ms, .99):.2f} ms  "
          f"max {max(r.app_ms, default=0):.2f} ms")
    print(f"turn latency excl. probes, as the client saw it (incl. queueing): "
          f"p50 {pct(r.client_ms, .5):.2f} ms  p99 {pct(r.client_ms, .99):.2f} ms")
    probing = [p for p in r.probe_ms if p > 0]
    if probing:
        print(f"probe time on probing turns: p50 {pct(probing, .5):.1f} ms  "
              f"p99 {pct(probing, .99):.1f} ms  ({len(probing)} turns)")
    print(f"worker memory: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
          f"{args.sessions} sessions = {(after - before) / max(args.sessions, 1):.1f} KiB/session;"
          f" {args.idle} more idle sessions: {(idle - after) / max(args.idle, 1):.1f} KiB each")
    print(f"lost or failed turns: {expected - r.turns} ({len(r.errors)} errors)  "
          f"out of order: {len(r.disordered)}")
    for line in (r.errors + r.disordered)[:5]:
        print("  ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between turns (s)")
    parser.add_argument("--idle", type=int, default=2000,
                        help="extra idle sessions for the memory measurement")
    parser.add_argument("--probes", choices=("recorded", "live"), default="recorded")
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
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve-child", str(port), f"{tmp}/bench.db",
             world_config], env=env,
        )
        try:
            wait_port(port, deadline=60, proc=child)
            asyncio.run(load(args, f"http://127.0.0.1:{port}", child.pid))
        finally:
            child.terminate()
            child.wait(15)
            if world_cm is not None:
                world_cm.stop()


if __name__ == "__main__":
    main()
