"""Probe-link benchmark on loopback: `python bench/probelink.py [--rounds N]`.

Starts the loopback mail world (tests/peers), the service under uvicorn, and the customer's
network (tests/peers/customer_net.py). Per round: a stuck-Outbox conversation hands off from
the server, then the link is run on the "customer's computer" in a second process, and the
time from the link being handed out to the service's accepted outcome is measured, for
  (a) `deskbot probe --join URL` with the submission port filtered there (port_blocked: the
      probe waits out the [probes] timeout, 1.5 s in the world's config, on the filtered port),
  (b) the same with nothing filtered (the customer side is healthy: the overhead alone),
  (c) the probe kit run as `python3 -I -S deskbot-probe.pyz --join URL` (filtered, as a).
Also prints the kit's size and build time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bot.interfaces.http import create_app  # noqa: E402
from bot.interfaces.http.kit import build_kit  # noqa: E402
from tests.peers import MailWorld  # noqa: E402
from tests.peers.customer_net import CustomerNetwork  # noqa: E402
from tests.test_http_support import ThreadedServer  # noqa: E402
from tests.test_probelink import SMTP, link_of, serve_config, talk_to_handoff  # noqa: E402


def one_run(http: httpx.Client, world: MailWorld, net: CustomerNetwork,
            command: list[str]) -> tuple[float, str]:
    """Seconds from the link in the bot's reply to the accepted outcome, and that outcome."""
    sid, bodies = talk_to_handoff(http, world)
    url = link_of(bodies)["url"]
    started = time.perf_counter()
    run = subprocess.run([*command, "--join", url, "--config", str(net.config_path), "--yes",
                          "--allow-private", SMTP], capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"join failed: {run.stderr.strip()}")
    outcome = http.get(f"/v1/sessions/{sid}").json()["outcome"]
    return elapsed, f"{outcome['status']}/{outcome['diagnosis']}"


def series(label: str, http: httpx.Client, world: MailWorld, blocked: tuple[str, ...],
           command: list[str], rounds: int) -> None:
    with CustomerNetwork(world, blocked=blocked) as net:
        times, outcomes = zip(*(one_run(http, world, net, command) for _ in range(rounds)),
                              strict=True)
    print(f"{label:<44} median {statistics.median(times):6.2f} s  "
          f"min {min(times):5.2f}  max {max(times):5.2f}  -> {outcomes[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="deskbot-bench-"))
    started = time.perf_counter()
    kit = build_kit(tmp / "deskbot-probe.pyz")
    built = time.perf_counter() - started
    print(f"probe kit: {kit.stat().st_size / 1024:.0f} KiB, built in {built:.2f} s")
    with MailWorld() as world, \
            ThreadedServer(create_app(serve_config(world, tmp))) as server, \
            httpx.Client(base_url=server.url, timeout=120) as http:
        timeout = world.options.timeout
        print(f"link -> outcome on loopback, {args.rounds} rounds ([probes] timeout {timeout} s)")
        series("(a) deskbot probe --join, port filtered", http, world, ("submission",),
               ["deskbot", "probe"], args.rounds)
        series("(b) deskbot probe --join, nothing filtered", http, world, (),
               ["deskbot", "probe"], args.rounds)
        series("(c) python3 -I -S kit --join, port filtered", http, world, ("submission",),
               [sys.executable, "-I", "-S", str(kit)], args.rounds)


if __name__ == "__main__":
    main()
