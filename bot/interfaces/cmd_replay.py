"""`deskbot replay PATH... [--live] [--config F] [--update] [--coverage] [--min-coverage N]`.

Re-runs saved transcripts through the current flows (CONTRACT.md): one line per transcript,
the first differing turn as a unified diff, then `N passed, N failed`. Exit 0 only when every
transcript passed (and coverage, when asked for, reached --min-coverage).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.flows.bundled import flow_folders
from bot.interfaces.config_file import load_config
from bot.interfaces.printable import PrintableOut
from bot.transcripts import find_transcripts, write_transcript
from bot.transcripts.replay import Replayer, ReplayResult, replay_files, updated


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="transcript files, or folders searched for *.json")
    parser.add_argument("--live", action="store_true",
                        help="run the probes again instead of feeding back recorded results")
    parser.add_argument("--config", metavar="F", help="TOML configuration (used with --live)")
    parser.add_argument("--flows", metavar="DIR",
                        help="your own flows folder, over the bundled flows")
    parser.add_argument("--update", action="store_true",
                        help="re-record diverged transcripts after showing what changed")
    parser.add_argument("--coverage", action="store_true",
                        help="report the share of each flow the transcripts exercised")
    parser.add_argument("--min-coverage", type=float, metavar="PCT",
                        help="fail when overall node coverage is below PCT percent")
    parser.add_argument("-q", "--quiet", action="store_true", help="print failures only")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    files = find_transcripts(args.paths)
    replayer = Replayer(flow_folders(args.flows), config=config, live=args.live)
    results = asyncio.run(replay_files(replayer, files))
    failed = sum(1 for r in results if not r.passed)
    out = PrintableOut(sys.stdout)  # a transcript's text (and file name) may hold controls
    for result in results:
        _print_result(result, quiet=args.quiet, out=out)
        if args.update and not result.passed:
            _update(result, out)
    print(f"{len(results) - failed} passed, {failed} failed")
    code = 0 if failed == 0 else 1
    if args.coverage or args.min_coverage is not None:
        share = _print_coverage(replayer, results, show_missed=args.coverage)
        if args.min_coverage is not None and share * 100 < args.min_coverage:
            print(f"coverage {share:.1%} is below --min-coverage {args.min_coverage:g}%")
            code = code or 1
    return code


def _print_result(result: ReplayResult, *, quiet: bool, out: PrintableOut) -> None:
    if result.passed:
        if not quiet:
            print(f"pass      {result.source}", file=out)
        return
    div = result.divergence
    assert div is not None
    if result.actual is None:
        print(f"error     {result.source}: {'; '.join(div.problems)}", file=out)
        return
    print(f"diverged  {result.source} at turn {div.turn}: {div.split}", file=out)
    before, now = result.expected.flows_hash, result.actual.flows_hash
    if before and now and before != now:
        print(f"          (flows changed since it was recorded: {before} -> {now})", file=out)
    for problem in div.problems:
        print(f"          ! {problem}", file=out)
    for line in div.diff.splitlines():
        print(f"          {line}", file=out)


def _update(result: ReplayResult, out: PrintableOut) -> None:
    if result.actual is None:
        print(f"not updated {result.source}: it cannot be read", file=out)
        return
    fresh = updated(result)
    if fresh is None:
        print(f"not updated {result.source}: the flow now runs probes the recording lacks; "
              "re-record it with --live (or scripts/record-transcripts)", file=out)
        return
    write_transcript(result.source, fresh)
    print(f"updated   {result.source}", file=out)


def _print_coverage(replayer: Replayer, results: list[ReplayResult], *, show_missed: bool) -> float:
    from bot.transcripts.coverage import measure

    actual = [r.actual for r in results if r.actual is not None]
    coverage = measure(replayer.engine.flowset, actual)
    hit = total = 0
    print("\ncoverage (exercised / total):")
    for flow in coverage:
        print(f"  {flow.summary()}")
        hit, total = hit + flow.nodes[0], total + flow.nodes[1]
        if show_missed:
            for missed in flow.missed:
                print(f"    {missed}")
    share = hit / total if total else 1.0
    print(f"overall node coverage {share:.1%} ({hit}/{total})")
    return share
