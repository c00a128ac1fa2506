"""`deskbot match [TEXT]` (CONTRACT.md): classify what a user first types.

Also `--explain` (which phrases and keywords decided) and `--eval FILE` (accuracy on a
labelled YAML set, per label, with the confusions).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.errors import ConfigError
from bot.flows.bundled import default_flows_dir
from bot.matcher import Matcher, MatchResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="*", help="the utterance (default: one per stdin line)")
    parser.add_argument("--flows", type=Path, default=None, help="flows folder to match against")
    parser.add_argument("--explain", action="store_true", help="show which words decided")
    parser.add_argument("--eval", type=Path, metavar="FILE", help="score a labelled YAML set")


def run(args: argparse.Namespace) -> int:
    flows = args.flows or default_flows_dir()
    if not flows.is_dir():
        raise ConfigError(f"--flows {flows}: no such folder")
    try:
        matcher = Matcher.from_flows_dir(flows)
    except ValueError as exc:
        raise ConfigError(f"cannot load the matcher: {exc}") from exc
    if args.eval is not None:
        return _evaluate(matcher, args.eval)
    if args.text:
        _emit(matcher.match(" ".join(args.text)), explain=args.explain)
        return 0
    for line in sys.stdin:
        if line.strip():
            _emit(matcher.match(line.strip()), explain=args.explain)
    return 0


def _emit(result: MatchResult, *, explain: bool) -> None:
    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    if explain:
        sys.stdout.write("\n".join(_explain(result)) + "\n")


def _explain(result: MatchResult) -> list[str]:
    lines = [f"  words: {' '.join(result.tokens)}"]
    if result.anchors:
        lines.append(f"  e-mail words: {', '.join(result.anchors)}")
    if result.offtopic:
        lines.append(f"  other-topic words (against every flow): {', '.join(result.offtopic)}")
    ranked = sorted(result.evidence.items(), key=lambda item: -item[1].total)
    for flow_id, ev in ranked[:5]:
        keywords = ", ".join(f"{k} {w:+g}" for k, w in ev.keywords) or "-"
        phrase = f"{ev.phrase!r} ({ev.phrase_similarity:.2f})" if ev.phrase else "-"
        lines.append(f"  {flow_id}: evidence {ev.total:.2f}; keywords {keywords}; phrase {phrase}")
    return lines


def _evaluate(matcher: Matcher, path: Path) -> int:
    from bot.matcher.evaluate import evaluate, format_report, load_examples

    try:
        examples = load_examples(path)
    except (OSError, ValueError) as exc:
        print(f"deskbot match: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    report = evaluate(matcher, examples)
    print("\n".join(format_report(report)))
    return 0
