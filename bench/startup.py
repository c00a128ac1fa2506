"""Start-up time of `deskbot chat` on a terminal: process start to the first prompt.

Runs the real console script on a pseudo-terminal (pexpect) and prints the median and worst
wall time until the answer prompt is drawn. On a shared, busy machine the wall time mostly
measures the queue for a CPU, so as root it also runs the same starts with real-time
(SCHED_FIFO: the start-up as on a quiet machine). Goal: under 0.5 s.

    python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

# The answer prompt as prompt_toolkit draws it (bold ">"), after the greeting.
PROMPT = r"\x1b\[0;1m>"


def one_run(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning the process to the first prompt on screen."""
    started = time.perf_counter()
    child = pexpect.spawn(command[0], command[1:], env=env, encoding="utf-8",
                          dimensions=(24, 80), timeout=20)
    try:
        child.expect(PROMPT)
        elapsed = time.perf_counter() - started
    finally:
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
        child.close()
    return elapsed


def console_script() -> list[str]:
    """The installed `deskbot` script itself (not a version manager's shim in front of it)."""
    beside = Path(sys.executable).with_name("deskbot")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("deskbot")
    return [found] if found else [sys.executable, "-m", "bot"]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    command = [*console_script(), "chat"]
    with tempfile.TemporaryDirectory() as data:
        # A pty from pexpect never answers cursor-position requests; a real terminal does.
        env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", XDG_DATA_HOME=data, TERM="xterm")
        one_run(command, env)  # warm the OS file cache, as a user's second start would be
        print(f"deskbot chat, process start to first prompt, pty 80x24, {args.runs} runs, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
        report("normal scheduling", [one_run(command, env) for _ in range(args.runs)])
        if os.geteuid() == 0:
            # Real-time scheduling for this process and the child it spawns: the start-up as
            # on a quiet machine, whatever else the shared machine is running.
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            try:
                walls = [one_run(command, env) for _ in range(args.runs)]
            finally:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            report("SCHED_FIFO (as on a quiet machine)", walls)


def report(label: str, walls: list[float]) -> None:
    walls = sorted(walls)
    print(f"  {label}: median {statistics.median(walls) * 1000:.0f} ms, "
          f"best {walls[0] * 1000:.0f} ms, worst {walls[-1] * 1000:.0f} ms (goal < 500 ms)")


if __name__ == "__main__":
    main()
