"""`deskbot flows check [DIR]` (CONTRACT.md): every problem as `FILE:LINE: message`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.flows.bundled import flow_folders


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="flows_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate flow files", description="validate flow files")
    check.add_argument("dir", nargs="?", type=Path, default=None,
                       help="your own flows folder, checked over the bundled flows")
    check.set_defaults(flows_run=run_check)
    add_graph_arguments(sub)


def run(args: argparse.Namespace) -> int:
    code: int = args.flows_run(args)
    return code


def run_check(args: argparse.Namespace) -> int:
    """Print every problem; exit 0 only when there is none."""
    from bot import bundle  # the one loader, as the engine and `deskbot match` use it

    folders = flow_folders(args.dir)
    where = " over ".join(str(f) for f in reversed(folders))
    flowset, problems = bundle.read(folders)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {where}", file=sys.stderr)
        return 1
    print(f"{len(flowset.flows)} flows OK in {where}", file=sys.stderr)
    return 0


# --- `deskbot flows graph` (engineer F) ------------------------------------------------------

def add_graph_arguments(sub: Any) -> None:
    """`flows graph FLOW [--format mermaid|dot|svg] [--coverage PATH...] [--flows DIR]`."""
    graph = sub.add_parser("graph", help="draw a flow as a diagram",
                           description="draw a flow's decision tree (Mermaid, DOT or SVG)")
    graph.add_argument("flow", help="a flow id (e.g. outbox_stuck) or sub-flow id")
    graph.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    graph.add_argument("--coverage", nargs="+", metavar="PATH",
                       help="shade by what these transcripts exercise when replayed")
    graph.add_argument("--flows", type=Path, default=None, metavar="DIR",
                       help="your own flows folder, over the bundled flows")
    graph.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    graph.set_defaults(flows_run=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    """Print (or write) the picture; exit 1 when the flow does not exist."""
    from bot import bundle
    from bot.flows.graph import render

    folder = flow_folders(args.flows)
    flowset = bundle.load(folder)
    known = {**flowset.subflows, **flowset.flows}
    if args.flow not in known:
        print(f"deskbot: no flow '{args.flow}' in {folder}; flows: {', '.join(sorted(known))}",
              file=sys.stderr)
        return 1
    shading = None
    if args.coverage:
        from bot.transcripts.coverage import coverage_of_paths

        shading = coverage_of_paths(folder, args.coverage)[args.flow].shading
    text = render(known[args.flow], args.format, shading)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0

