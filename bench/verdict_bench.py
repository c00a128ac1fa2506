"""Time to verdict per (flow, diagnosis), for one or more checkouts of deskbot side by side.

    python bench/verdict_bench.py [--repo NAME=DIR ...] [-n N] [--only TEXT] [--timeout S]

Drives the end-to-end cases of tests/test_flows_diagnoses.py (the same answers, the same real
loopback peers of tests/peers, one fault each) through `deskbot chat --answers F --config C
--transcript T` as a subprocess whose `bot` package is imported from each `--repo` DIR (its
own flows and probes; the peers and the cases are this checkout's). Run one "before" checkout
with `git worktree add --detach /tmp/before <commit>` and pass `--repo before=/tmp/before`.

Prints one row per (flow, diagnosis): per checkout the median wall time of the whole
conversation, from starting `deskbot chat` to its verdict (what a help desk's script waits), and
a mark when that checkout reached another diagnosis (`*`). Each checkout's start-up (the median
of an off-topic conversation, which runs no probe) is printed below the table for reference: on
a shared machine it varies too much to subtract per row. `[probes] timeout` is the product
default 5 s unless `--timeout` says otherwise: the timeouts that adaptive deadlines avoid are
what the numbers show. Conversations run one at a time (a shared machine is noisy enough).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.peers import MailWorld, WorldOptions  # noqa: E402
from tests.test_flows_diagnoses import (  # noqa: E402
    CASES,
    DEAD_HOST,
    NETNS_WORLDS,
    WORLDS,
    Case,
    _answers_for,
    _logs_into_dovecot_pop3,
)

OFF_TOPIC = {"message": "what is the weather tomorrow"}
# Besides the matrix: the other side of a TLS-vs-plain mismatch on each protocol (an app set to
# STARTTLS on an implicit-TLS port of SMTP and POP3; the matrix has IMAP's).
EXTRA = [
    Case("outbox_stuck", "tls_mode_mismatch",
         answers={"outgoing_port": "$smtps", "outgoing_security": "starttls"}),
    Case("cannot_receive", "tls_mode_mismatch",
         answers={"incoming_protocol": "pop3", "incoming_server": "pop.example.test",
                  "incoming_port": "$pop3s", "incoming_security": "starttls"}),
]
EXTRA_LABELS = ["(STARTTLS on SMTP 465-style)", "(STARTTLS on POP3S)"]
# `python -m bot` with the checkout's own package and flows: the editable install's finder
# (which maps `bot.bundled_flows` onto this worktree's flows/) is taken out first, so each
# checkout falls back to the flows beside its own package.
LAUNCH = ("import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path "
          "if '__editable__' not in getattr(f, '__module__', '')]; "
          "runpy.run_module('bot', run_name='__main__', alter_sys=True)")


@dataclass(frozen=True)
class Repo:
    """A checkout whose `bot` package runs the conversations."""

    name: str
    path: Path


@dataclass
class Timing:
    """Seconds per run of one case in one checkout, and the diagnoses it reached."""

    seconds: list[float]
    reached: set[str]


def run_chat(repo: Repo, answers: dict[str, str], config: Path, stdin: str,
             folder: Path) -> tuple[float, str | None]:
    """One `deskbot chat` with `repo`'s code; (wall seconds, outcome.diagnosis)."""
    folder.mkdir(parents=True, exist_ok=True)
    answers_path, transcript = folder / "answers.yaml", folder / "transcript.json"
    answers_path.write_text(yaml.safe_dump(answers), encoding="utf-8")
    transcript.unlink(missing_ok=True)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(repo.path)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", LAUNCH, "chat", "--answers", str(answers_path),
                    "--config", str(config), "--transcript", str(transcript)],
                   input=stdin, capture_output=True, text=True, timeout=180, cwd=repo.path,
                   env=env)
    elapsed = time.perf_counter() - start
    if not transcript.exists():
        return elapsed, "(no transcript)"
    outcome = json.loads(transcript.read_text(encoding="utf-8")).get("outcome", {})
    return elapsed, outcome.get("diagnosis")


def start_worlds(cases: list[Case], timeout: float) -> dict[str, MailWorld]:
    worlds: dict[str, MailWorld] = {}
    for name in sorted({c.world for c in cases} | {"healthy"}):
        options = WorldOptions(**{**WORLDS[name], "timeout": timeout})
        worlds[name] = MailWorld(options).start()
        worlds[name].zone.set(DEAD_HOST, "A", "127.0.0.3")
    return worlds


def measure(repos: list[Repo], cases: list[Case], rounds: int, timeout: float,
            tmp: Path) -> tuple[dict[str, float], dict[tuple[str, int], Timing]]:
    """Start-up seconds per repo, and the timings per (repo, case id)."""
    worlds = start_worlds(cases, timeout)
    startup: dict[str, float] = {}
    timings: dict[tuple[str, int], Timing] = {}
    try:
        healthy = worlds["healthy"]
        for repo in repos:
            runs = [run_chat(repo, dict(OFF_TOPIC), healthy.config_path, "",
                             tmp / repo.name / "startup")[0] for _ in range(max(rounds, 3))]
            startup[repo.name] = statistics.median(runs)
        for _ in range(rounds):
            for index, case in enumerate(cases):
                world = worlds[case.world]
                for repo in repos:
                    seconds, diagnosis = run_chat(repo, _answers_for(world, case),
                                                  world.config_path, case.stdin,
                                                  tmp / repo.name / str(index))
                    timing = timings.setdefault((repo.name, index), Timing([], set()))
                    timing.seconds.append(seconds)
                    timing.reached.add(str(diagnosis))
                    if _logs_into_dovecot_pop3(case):
                        time.sleep(0.2)  # let Dovecot release the POP3 mailbox lock
    finally:
        for world in worlds.values():
            world.stop()
    return startup, timings


def table(repos: list[Repo], cases: list[Case], labels: list[str], startup: dict[str, float],
          timings: dict[tuple[str, int], Timing]) -> str:
    """The Markdown table: flow, diagnosis, seconds to verdict per checkout."""
    head = "| flow | diagnosis | " + " | ".join(f"{r.name} (s)" for r in repos) + " |"
    lines = [head, "|---|---|" + "---:|" * len(repos)]
    for index, (case, label) in enumerate(zip(cases, labels, strict=True)):
        cells = []
        for repo in repos:
            timing = timings[(repo.name, index)]
            verdict = statistics.median(timing.seconds)
            other = timing.reached - {case.expected}
            cells.append(f"{verdict:.2f}" + (f" *{','.join(sorted(other))}" if other else ""))
        name = f"{case.expected} {label}".strip()
        lines.append(f"| {case.flow} | {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("start-up included; alone (median off-topic conversation): " + ", ".join(
        f"{r.name} {startup[r.name]:.2f} s" for r in repos))
    lines.append("* = that checkout reached another diagnosis (named) in some run")
    return "\n".join(lines)


def parse_repo(text: str) -> Repo:
    name, _, path = text.partition("=")
    if not path:
        name, path = Path(text).name, text
    folder = Path(path).resolve()
    if not (folder / "bot" / "__init__.py").is_file():
        raise SystemExit(f"verdict_bench: {folder} holds no bot/ package")
    return Repo(name, folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--repo", action="append", type=parse_repo,
                        help="NAME=DIR of a checkout to time (repeatable; default: this one)")
    parser.add_argument("-n", "--rounds", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--only", action="append", default=[],
                        help="only cases whose 'flow-diagnosis' id contains this (repeatable)")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="[probes] timeout in seconds (default: the product's 5 s)")
    args = parser.parse_args()
    repos: list[Repo] = args.repo or [Repo("this", ROOT)]
    # a broken IPv6 path exists only inside a network namespace (tests/test_flows_diagnoses.py
    # runs those conversations there); this bench runs in the host's and leaves them out
    matrix = [c for c in CASES if c.world not in NETNS_WORLDS]
    chosen = [(c, "") for c in matrix] + list(zip(EXTRA, EXTRA_LABELS, strict=True))
    chosen = [(c, label) for c, label in chosen
              if not args.only or any(o in c.id for o in args.only)]
    cases, labels = [c for c, _ in chosen], [label for _, label in chosen]
    if not cases:
        raise SystemExit("verdict_bench: no case matches --only")
    with tempfile.TemporaryDirectory(prefix="deskbot-verdict-") as tmp:
        startup, timings = measure(repos, cases, args.rounds, args.timeout, Path(tmp))
    print(f"time to verdict, median of {args.rounds}, [probes] timeout {args.timeout:g} s")
    print(table(repos, cases, labels, startup, timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
