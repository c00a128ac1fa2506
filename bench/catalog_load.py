"""Cost of the provider catalogue at start-up and of its lookups.

Prints, over N fresh processes, the median time to import `bot.catalog.catalog` and to run
`Catalog.load()` (bundled JSON + curated overrides), then in-process lookup and typo-suggestion
times. Goal: load well under 20 ms, since every `deskbot` command does it.

    python bench/catalog_load.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = """
import json, time
t0 = time.perf_counter()
from bot.catalog.catalog import Catalog
t1 = time.perf_counter()
catalog = Catalog.load()
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "load_ms": (t2 - t1) * 1e3}))
"""


def fresh_process_times(runs: int) -> tuple[list[float], list[float]]:
    """(import ms, load ms) per fresh interpreter."""
    imports, loads = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                             check=True).stdout
        data = json.loads(out)
        imports.append(data["import_ms"])
        loads.append(data["load_ms"])
    return imports, loads


def per_call_us(fn: object, arg: str, repeat: int = 2000) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn(arg)  # type: ignore[operator]
    return (time.perf_counter() - start) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    imports, loads = fresh_process_times(args.runs)
    from bot.catalog.catalog import Catalog

    catalog = Catalog.load()
    catalog.suggest_host("warm.up")
    print(f"providers: {len(catalog.providers)}")
    print(f"import bot.catalog.catalog: median {statistics.median(imports):.1f} ms")
    print(f"Catalog.load(): median {statistics.median(loads):.1f} ms, "
          f"worst {max(loads):.1f} ms over {args.runs} fresh processes")
    print(f"lookup(domain): {per_call_us(catalog.lookup, 'user@centurylink.net'):.2f} µs")
    print(f"suggest_host(typo): "
          f"{per_call_us(catalog.suggest_host, 'smtp.centurylink.com', 200):.1f} µs")


if __name__ == "__main__":
    main()
