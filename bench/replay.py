"""Replay throughput: how fast `deskbot replay` checks a large regression suite.

Copies the recorded transcripts/ round-robin into N files in a temporary folder (default
1,000), then replays them offline the way `deskbot replay` does (read, validate, replay, compare)
with one engine, and prints the wall time and the rate. Goal: 1,000 transcripts under 10 s.

    python bench/replay.py [--count N] [--source transcripts] [--flows flows]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.transcripts import find_transcripts, read_transcript  # noqa: E402
from bot.transcripts.replay import Replayer  # noqa: E402


def make_copies(source: Path, count: int, into: Path) -> list[Path]:
    """`count` transcript files in `into`, cycling through those under `source`."""
    originals = find_transcripts([source])
    if not originals:
        raise SystemExit(f"no transcripts under {source}: run scripts/record-transcripts first")
    copies = []
    for index in range(count):
        target = into / f"{index:05d}-{originals[index % len(originals)].name}"
        shutil.copyfile(originals[index % len(originals)], target)
        copies.append(target)
    return copies


async def replay_all(replayer: Replayer, files: list[Path]) -> tuple[int, int, float]:
    """(passed, failed, turns replayed)."""
    passed = failed = turns = 0
    for path in files:
        result = await replayer.replay(read_transcript(path), source=str(path))
        passed += result.passed
        failed += not result.passed
        turns += len(result.expected.turns)
    return passed, failed, turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--source", type=Path, default=REPO / "transcripts")
    parser.add_argument("--flows", type=Path, default=REPO / "flows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deskbot-bench-") as folder:
        files = make_copies(args.source, args.count, Path(folder))
        started = time.perf_counter()
        replayer = Replayer(args.flows)
        loaded = time.perf_counter()
        passed, failed, turns = asyncio.run(replay_all(replayer, files))
        done = time.perf_counter()
    replay_s = done - loaded
    print(f"transcripts: {len(files)} (copies of {len(find_transcripts([args.source]))} recorded)")
    print(f"engine load: {(loaded - started) * 1e3:.0f} ms")
    print(f"replay:      {replay_s:.2f} s for {len(files)} transcripts, {turns} turns "
          f"({passed} passed, {failed} failed)")
    print(f"rate:        {len(files) / replay_s:.0f} transcripts/s, "
          f"{replay_s / len(files) * 1e3:.2f} ms each, {turns / replay_s:.0f} turns/s")
    verdict = "met" if replay_s * 1000 / len(files) < 10 else "MISSED"
    print(f"goal:        1,000 under 10 s -> {verdict}")


if __name__ == "__main__":
    main()
