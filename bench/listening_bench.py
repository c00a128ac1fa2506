"""Benchmark of reading a customer's line on held-out phrasings (never tuned on).

    python bench/listening_bench.py [--verbose]

bench/data/listening-heldout.yaml holds lines written apart from the tests the reader was
built on: the failing side named by the moment it happens ("…when I press send"), passwords
written into a sentence (and talk about a password that is none), and stated facts. Prints the
share right per kind and the cost per line (µs, p50/p99) of the password check.
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

from bot.engine.secrets import disclosed  # noqa: E402
from bot.reading.slots import extract  # noqa: E402

DATA = ROOT / "bench" / "data" / "listening-heldout.yaml"


def _side(item: dict[str, Any]) -> bool:
    return extract(item["text"]).slots.get("failing_side") == item["side"]


def _password(item: dict[str, Any]) -> bool:
    found = disclosed(item["text"])
    if item["value"] is None:
        return found is None
    return found is not None and item["value"] in found.values and \
        item["value"] not in found.line


def _fact(item: dict[str, Any]) -> bool:
    return extract(item["text"]).facts.get(item["fact"]) == "yes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    for kind, check in (("side", _side), ("password", _password), ("facts", _fact)):
        items = data[kind]
        right = [check(i) for i in items]
        print(f"{kind:<9} {sum(right)}/{len(items)} right on held-out lines")
        if args.verbose:
            for item, ok in zip(items, right, strict=True):
                if not ok:
                    print(f"   miss: {item}")
    lines = [str(i["text"]) for kind in ("side", "password", "facts") for i in data[kind]]
    costs = []
    for _ in range(20):
        for line in lines:
            start = time.perf_counter()
            disclosed(line)
            costs.append((time.perf_counter() - start) * 1e6)
    costs.sort()
    print(f"password check: p50 {statistics.median(costs):.1f} µs, "
          f"p99 {costs[int(len(costs) * 0.99)]:.1f} µs per line")


if __name__ == "__main__":
    main()
