"""Engine overhead per turn without probe time, and memory per idle session.

Drives the bundled flows with recorded probe results (no network): every question is answered
the way a customer would (an address, "no", the first choice, "I don't know"), each `send`
timed. Then N sessions are opened and left waiting at their first question, and tracemalloc
reports the memory each costs. Goal: p99 < 5 ms per turn.

    python bench/engine.py [--conversations 300] [--idle 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
import tracemalloc
from pathlib import Path

from bot import Engine, Question, RecordedProbeRunner
from bot.catalog.model import Provider, ServerSettings
from bot.probes.model import ProbeReport
from bot.registry import PROBES

FLOWS = Path(__file__).resolve().parent.parent / "flows"
PROVIDER = Provider(
    id="example", name="Example Mail", domains=("example.com",),
    incoming=(ServerSettings("imap", "mail.example.com", 993, "ssl"),),
    outgoing=(ServerSettings("smtp", "mail.example.com", 587, "starttls"),),
)
MESSAGES = [
    "my mail is stuck in the outbox", "it keeps asking for my password",
    "I get a certificate warning", "new mail does not arrive",
    "I want to set up my account in outlook", "the same emails download again and again",
]


def answer_for(question: Question) -> str:
    """A plausible customer answer for any question type."""
    return {"email": "bob@example.com", "yesno": "no", "choice": "1", "port": "587",
            "host": "mail.example.com", "security": "STARTTLS", "protocol": "IMAP",
            "client": "Outlook 2016", "text": "it just doesn't work"}.get(
        question.type, "I don't know")


def recorded_runner(seed: int) -> RecordedProbeRunner:
    """Plenty of recorded reports, outcomes rotating so that many branches are walked."""
    reports = []
    for name, info in sorted(PROBES.items()):
        outcomes = sorted(info.outcomes)
        for i in range(4):
            outcome = outcomes[(seed + i) % len(outcomes)]
            facts = {f: _value(f) for f in info.guaranteed_facts(outcome)}
            provider = PROVIDER if name == "lookup_provider" and outcome == "found" else None
            reports.append(ProbeReport(name, "mail.example.com:587", outcome, (), (outcome,),
                                       facts, provider))
    return RecordedProbeRunner(reports)


def _value(fact: str) -> str:
    """A plausible value for a fact the outcome promises (the engine checks the promise)."""
    if "port" in fact:
        return "587"
    if "security" in fact:
        return "starttls"
    return "imap" if fact == "protocol" else "mail.example.com"


class Clock:
    """Wall-clock and CPU (this thread only: immune to other processes) milliseconds."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._started = (0.0, 0.0)

    def start(self) -> None:
        self._started = (time.perf_counter(), time.thread_time())

    def stop(self) -> None:
        wall, cpu = self._started
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.thread_time() - cpu) * 1000)


async def time_turns(engine: Engine, conversations: int) -> Clock:
    """Milliseconds per send/finish call over many scripted conversations."""
    clock = Clock()
    for number, message in zip(range(conversations), itertools.cycle(MESSAGES), strict=False):
        session = engine.with_runner(recorded_runner(number)).start({"email": "bob@example.com"})
        reply = await session.open()
        clock.start()
        reply = await session.send(message)
        clock.stop()
        for _ in range(40):
            if reply.outcome is not None or reply.question is None:
                break
            clock.start()
            reply = await session.send(answer_for(reply.question))
            clock.stop()
        if reply.outcome is None:
            clock.start()
            await session.finish()
            clock.stop()
    return clock


async def idle_memory(engine: Engine, count: int) -> float:
    """Bytes per session left waiting at its first in-flow question."""
    warm = engine.start({"email": "bob@example.com"})
    await warm.open()
    await warm.send(MESSAGES[0])
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sessions = []
    for _ in range(count):
        session = engine.start({"email": "bob@example.com"})
        await session.open()
        await session.send(MESSAGES[0])
        sessions.append(session)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / count


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    engine = Engine.load(FLOWS, runner=recorded_runner(0))
    print(f"load+validate+compile {len(engine.flows)} flows: "
          f"{(time.perf_counter() - started) * 1000:.1f} ms")
    clock = await time_turns(engine, args.conversations)
    for name, values in (("wall", clock.wall), ("cpu ", clock.cpu)):
        print(f"turns ({name}): {len(values)}  p50 {statistics.median(values):.3f} ms  "
              f"p99 {percentile(values, 0.99):.3f} ms  max {max(values):.3f} ms  "
              "(goal p99 < 5 ms)")
    per_session = await idle_memory(engine, args.idle)
    print(f"idle session (waiting at its first flow question): {per_session / 1024:.1f} KiB "
          f"each over {args.idle}")


if __name__ == "__main__":
    asyncio.run(main())
