"""`deskbot match [TEXT]` (CONTRACT.md): classify what a user first types.

Also `--explain` (which learned terms and which closest example decided), `--eval FILE`
(accuracy on a labelled YAML set, per label, with the confusions) and `--cv K` (k-fold
cross-validation over the flows' own examples; with `--eval FILE`, that set is scored too).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from bot.engine.answers import clean_line
from bot.engine.secrets import disclosed
from bot.flows.bundled import flow_folders
from bot.matcher import Matcher, MatchResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="*", help="the utterance (default: one per stdin line)")
    parser.add_argument("--flows", type=Path, default=None, metavar="DIR",
                        help="your own flows folder, over the bundled flows")
    parser.add_argument("--explain", action="store_true", help="show which words decided")
    parser.add_argument("--eval", type=Path, metavar="FILE", help="score a labelled YAML set")
    parser.add_argument(
        "--cv", type=int, metavar="K", help="k-fold cross-validation over the flows' examples"
    )


def run(args: argparse.Namespace) -> int:
    from bot import bundle  # the one loader, as the engine and `flows check` use it

    if (args.text or args.explain) and (args.eval is not None or args.cv is not None):
        print("deskbot match: give a text (and --explain) or --eval/--cv, not both",
              file=sys.stderr)
        return 2
    matcher = bundle.matcher_for(bundle.load(flow_folders(args.flows)))
    if args.cv is not None:
        status = _cross_validate(matcher, args.cv)
        if status or args.eval is None:
            return status
    if args.eval is not None:
        return _evaluate(matcher, args.eval)
    # JSON escapes every non-ASCII character where the output cannot hold it (a C locale,
    # PYTHONIOENCODING=ascii); the explanation's words read as "?" there
    ascii_only = (sys.stdout.encoding or "").lower().replace("-", "") != "utf8"
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")
    if args.text:
        # bytes of an argument that are not UTF-8 read as U+FFFD, as on stdin: echoed back
        # raw, they would make the JSON line invalid UTF-8
        text = " ".join(args.text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        _emit(matcher, text, explain=args.explain, ascii_only=ascii_only)
        return 0
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # bytes that are not UTF-8 read as U+FFFD
    for line in sys.stdin:
        if line.strip():
            _emit(matcher, line, explain=args.explain, ascii_only=ascii_only)
    return 0


def _emit(matcher: Matcher, line: str, *, explain: bool, ascii_only: bool) -> None:
    """One line read as a typed line is (terminal control sequences and control characters
    gone, bot.engine.answers.clean_line; a password written into it redacted, as the chat
    keeps it), classified and written as a JSON line."""
    text = clean_line(line)[0]
    found = disclosed(text)
    result = matcher.match(found.line if found is not None else text)
    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=ascii_only) + "\n")
    if explain:
        sys.stdout.write("\n".join(_explain(result)) + "\n")


def _explain(result: MatchResult) -> list[str]:
    if result.language is not None:
        return [f"  language: {result.language} (deskbot speaks English only: decision none)"]
    lines = [f"  words: {' '.join(result.tokens)}"]
    if result.anchors:
        lines.append(f"  e-mail words: {', '.join(result.anchors)}")
    if result.offtopic:
        lines.append(f"  other-topic words (against every flow): {', '.join(result.offtopic)}")
    if result.troubles:
        lines.append(f"  two troubles told (which one?): {', '.join(result.troubles)}")
    ranked = sorted(result.evidence.items(), key=lambda item: -item[1].total)
    for flow_id, ev in ranked[:5]:
        terms = ", ".join(f"{k} {w:+g}" for k, w in ev.keywords) or "-"
        example = f"{ev.phrase!r} ({ev.phrase_similarity:.2f})" if ev.phrase else "-"
        lines.append(
            f"  {flow_id}: evidence {ev.total:.2f}; terms {terms}; closest example {example}"
        )
    return lines


def _evaluate(matcher: Matcher, path: Path) -> int:
    from bot.matcher.evaluate import evaluate, format_report, load_examples

    try:
        examples = load_examples(path, labels={*matcher.specs, "clarify", "none"})
    except OSError as exc:
        print(f"deskbot match: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"deskbot match: cannot read {path}: not UTF-8 text", file=sys.stderr)
        return 2
    except ValueError as exc:  # the message names the file (and line or entry)
        print(f"deskbot match: {exc}", file=sys.stderr)
        return 2
    report = evaluate(matcher, examples)
    print("\n".join(format_report(report)))
    return 0


def _cross_validate(matcher: Matcher, folds: int) -> int:
    from bot.matcher.evaluate import cross_validate, format_report

    try:
        report = cross_validate(matcher.specs, matcher.vocabulary, folds)
    except ValueError as exc:
        print(f"deskbot match: {exc}", file=sys.stderr)
        return 2
    examples = sum(len(s.examples) for s in matcher.specs.values())
    print(f"{folds}-fold cross-validation over {examples} examples of {len(matcher.specs)} flows")
    print("\n".join(format_report(report)))
    return 0
