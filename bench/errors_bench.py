"""Benchmark of the error catalogue: how many patterns, and how well pasted errors route.

    python bench/errors_bench.py [--verbose]

The labelled set bench/data/pasted-errors.yaml (91 texts as real clients and servers show
them) was written before the patterns of bot/data/errors.yaml and is never tuned on. For each
text it reports whether the catalogue's best reading has the right symptom, the right first
hypothesis (or none where none fits), and the right decisive diagnosis; then what
`deskbot match` decides for the text on its own (the matcher consults the catalogue for a
line that is only a pasted error); then the cost of reading a line (µs, p50/p99).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.reading import load_errors  # noqa: E402

DATA = ROOT / "bench" / "data" / "pasted-errors.yaml"


def route(item: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(symptom, first hypothesis, diagnosis) of the catalogue's best reading."""
    best = load_errors().best(str(item["text"]))
    if best is None:
        return None, None, None
    entry = best.entry
    return entry.symptom, (entry.hypotheses[0] if entry.hypotheses else None), entry.diagnosis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    items = yaml.safe_load(DATA.read_text(encoding="utf-8"))["items"]
    catalogue = load_errors()
    symptom = hypothesis = both = diagnosis = unmatched = 0
    for item in items:
        got = route(item)
        ok_s = got[0] == item["symptom"]
        ok_h = got[1] == item["hypothesis"]
        symptom += ok_s
        hypothesis += ok_h
        both += ok_s and ok_h
        diagnosis += got[2] == item["diagnosis"]
        unmatched += got[0] is None
        if args.verbose and not (ok_s and ok_h and got[2] == item["diagnosis"]):
            want = (item["symptom"], item["hypothesis"], item["diagnosis"])
            print(f"  miss: {item['text'][:70]!r}\n        got {got} want {want}")
    n = len(items)
    print(f"error catalogue: {len(catalogue)} patterns; labelled set: {n} pasted errors")
    print(f"  symptom right            {symptom / n:6.1%}  ({symptom}/{n})")
    print(f"  first hypothesis right   {hypothesis / n:6.1%}  ({hypothesis}/{n})")
    print(f"  symptom and hypothesis   {both / n:6.1%}  ({both}/{n})")
    print(f"  decisive diagnosis right {diagnosis / n:6.1%}  ({diagnosis}/{n})")
    print(f"  no entry matched         {unmatched}")
    matcher_line(items)
    timing(items)


def matcher_line(items: list[dict[str, Any]]) -> None:
    """What `deskbot match` decides for each pasted text on its own."""
    from bot.matcher import Matcher
    from bot.reading import error_symptom, pasted_symptom

    matcher = Matcher.from_flows_dir(ROOT / "flows", errors=error_symptom,
                                     pasted=pasted_symptom)
    right = sum(matcher.match(str(i["text"])).decision == i["symptom"] for i in items)
    print(f"  deskbot match routes     {right / len(items):6.1%}  ({right}/{len(items)})")


def timing(items: list[dict[str, Any]]) -> None:
    catalogue = load_errors()
    lines = [str(i["text"]) for i in items] + [
        "my mail is stuck in the outbox since this morning",
        "Thunderbird on my PC, receiving is fine but sending times out",
    ] * 10
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(20):
        for line in lines:
            start, start_cpu = time.perf_counter(), time.thread_time()
            catalogue.find(line)
            cpu.append((time.thread_time() - start_cpu) * 1e6)
            wall.append((time.perf_counter() - start) * 1e6)
    # On a shared machine the wall clock also counts waiting for a CPU; the thread's CPU
    # time is the cost of the work itself.
    for name, samples in (("wall", wall), ("cpu", cpu)):
        samples.sort()
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"  catalogue.find per line  {name}: p50 {statistics.median(samples):.0f} µs, "
              f"p99 {p99:.0f} µs")


if __name__ == "__main__":
    main()
