"""Questions asked per (flow, diagnosis) case when the first message says what the customer
knows, before and after slot extraction; and the cost of extraction per line.

    python bench/questions_bench.py [--verbose]

For every case of tests/test_flows_diagnoses.py (each reachable flow/diagnosis pair) the
customer's knowledge is the case's settings (app, address, servers, ports, security, the
failing side, the bounce kind) and their first message states all of it. A scripted customer
answers each question from that knowledge ("I don't know" otherwise). Probes are played back
(the case's diagnosis for the probe that can produce it, `ok` for the others): this measures
the dialogue, not the network. "Before" runs the same engine with extraction switched off
(bot.engine.listen.hear a no-op), i.e. the flows asking for everything as before this change.
Reported: median and worst count of questions, and questions that asked for a value the first
message already gave.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot.catalog.catalog import Catalog  # noqa: E402
from bot.engine import Engine, listen  # noqa: E402
from bot.probes.model import ProbeObserver, ProbeReport  # noqa: E402
from bot.probes.registry import PROBES  # noqa: E402
from bot.probes.runners import CatalogueProviders, ProbeCall  # noqa: E402
from bot.reading.slots import extract  # noqa: E402
from tests.test_flows_diagnoses import CASES, MESSAGES, Case  # noqa: E402

KNOWN = {"email": "alice@example.test", "client": "Thunderbird",
         "outgoing_server": "smtp.example.test", "outgoing_port": "587",
         "outgoing_security": "starttls", "outgoing_auth": "true",
         "incoming_server": "imap.example.test", "incoming_port": "993",
         "incoming_security": "ssl", "incoming_protocol": "imap",
         "username": "alice@example.test"}
SECURITY = {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "no encryption"}


def knowledge(case: Case) -> dict[str, str]:
    """What this customer knows: the base account with the case's own settings."""
    known = dict(KNOWN)
    for key, value in case.answers.items():
        if value is None:
            known.pop(key, None)
        elif str(value).startswith("$"):
            known[key] = "2525" if key.startswith("outgoing") else "1993"
        else:
            known[key] = str(value)
    stdin = case.stdin.strip().lower()
    if stdin in ("receiving", "sending"):
        known["failing_side"] = stdin
    elif stdin:
        known["bounce_reason"] = {"relay denied": "relay", "rejected as spam": "spam"}.get(
            stdin, stdin)
    return known


def first_message(case: Case, known: Mapping[str, str]) -> str:
    """The customer's first line: the symptom and everything they know."""
    side = {"sending": " It fails when sending.",
            "receiving": " It fails when checking for new mail."}.get(
        known.get("failing_side", ""), "")
    bounce = {"relay": " The bounce says relaying denied.",
              "spam": " The bounce says we were rejected as spam."}.get(
        known.get("bounce_reason", ""), "")
    auth = "" if known.get("outgoing_auth") != "false" else ", authentication off"
    return (f"{MESSAGES[case.flow]}.{side}{bounce} I use {known['client']}, my address is "
            f"{known['email']}. Outgoing server {known['outgoing_server']}, port "
            f"{known['outgoing_port']}, {SECURITY[known['outgoing_security']]}{auth}. "
            f"Incoming server {known['incoming_server']}, port {known['incoming_port']}, "
            f"{SECURITY[known['incoming_security']]}, "
            f"{known['incoming_protocol'].upper().replace('POP3', 'POP')}. "
            f"My username is {known['username']}.")


class PlayBack(CatalogueProviders):
    """Each check probe reports the case's diagnosis when it can produce it, else `ok`."""

    def __init__(self, diagnosis: str) -> None:
        self.diagnosis = diagnosis

    async def run(self, name: str, params: Mapping[str, str],
                  observer: ProbeObserver | None = None, *, call: ProbeCall) -> ProbeReport:
        email = params.get("email", "")
        if name == "lookup_provider":  # the catalogue's provider (a found lookup carries it)
            provider = _catalogue().lookup(email) if "@" in email else None
            return ProbeReport(name, email, "found" if provider else "not_found",
                               provider=provider)
        info = PROBES.get(name)
        outcome = self.diagnosis if info and self.diagnosis in info.outcomes else "ok"
        # every fact the outcome promises (the engine checks the promise)
        facts = {f: "587" if "port" in f else "starttls" if "security" in f else "x"
                 for f in (info.guaranteed_facts(outcome) if info else ())}
        return ProbeReport(name, email, outcome, facts=facts)


@functools.cache
def _catalogue() -> Catalog:
    return Catalog.load()


def answer(question: Any, known: Mapping[str, str], password: str | None) -> str:
    slot = question.slot
    if slot in ("login_consent",):
        return "yes" if password else "no"
    if slot == "password":
        return password or "I don't know"
    if slot == "has_settings" or slot == "test_offer":
        return "yes"
    return known.get(slot, "I don't know")


async def run_case(engine: Engine, case: Case, hearing: bool) -> tuple[int, int]:
    """(questions asked, questions for a value the first message gave)."""
    known = knowledge(case)
    message = first_message(case, known)
    given = set(extract(message, engine.clients.aliases).slots)
    password = case.answers.get("password") or None
    original = listen.hear
    if not hearing:
        listen.hear = lambda *a, **k: None  # type: ignore[assignment]
    try:
        session = engine.with_runner(PlayBack(case.expected)).start()
        reply = await session.open()
        reply = await session.send(message)
        asked = repeated = 0
        for _ in range(40):
            if reply.outcome is not None or reply.question is None:
                break
            asked += 1
            repeated += reply.question.slot in given
            reply = await session.send(answer(reply.question, known, password))
        return asked, repeated
    finally:
        listen.hear = original


def extraction_cost(engine: Engine, lines: list[str]) -> tuple[float, float]:
    """CPU µs per line of `extract`, p50 and p99."""
    samples: list[float] = []
    for _ in range(30):
        for line in lines:
            start = time.thread_time()
            extract(line, engine.clients.aliases)
            samples.append((time.thread_time() - start) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="one line per case")
    args = parser.parse_args()
    engine = Engine.load(ROOT / "flows")
    rows = []
    for case in CASES:
        before = await run_case(engine, case, hearing=False)
        after = await run_case(engine, case, hearing=True)
        rows.append((case.id, before, after))
        if args.verbose:
            print(f"  {case.id:50} before {before[0]:2} ({before[1]} given)  "
                  f"after {after[0]:2} ({after[1]} given)")
    for label, index in (("before", 1), ("after", 2)):
        counts = [r[index][0] for r in rows]
        given = sum(1 for r in rows if r[index][1])
        print(f"questions per case {label:6}: median {statistics.median(counts):.1f}, "
              f"mean {statistics.mean(counts):.1f}, max {max(counts)}; "
              f"cases asking for a given value: {given}/{len(rows)}")
    lines = [first_message(c, knowledge(c)) for c in CASES[:20]]
    lines += [str(i["text"]) for i in yaml.safe_load(
        (ROOT / "bench" / "data" / "pasted-errors.yaml").read_text())["items"]]
    p50, p99 = extraction_cost(engine, lines)
    print(f"extraction per line (cpu): p50 {p50:.0f} µs, p99 {p99:.0f} µs "
          f"({len(lines)} lines, first messages and pasted errors)")


if __name__ == "__main__":
    asyncio.run(main())
