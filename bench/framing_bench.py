"""Benchmark: does what a ticket wraps around a line change the matcher's decision?

Takes the lines of the tuning sets that the matcher decides right, wraps each in what customers
write around a trouble (a greeting, a sign-off, a subject line, what they already tried, the
app's version, "never had problems", "my husband set it up", "any ideas?") and prints, per
wrapping, the share of decisions that change. Goal: none change (issue 13: a matcher that reads
the wrapping as evidence is not robust on real tickets). Only numbers are printed.

    python bench/framing_bench.py [--flows DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.matcher import Matcher  # noqa: E402
from bot.matcher.evaluate import load_examples  # noqa: E402
from bot.reading import error_symptom, pasted_symptom  # noqa: E402

DATA = ROOT / "bench" / "data"
SETS = [f"matcher-heldout-wave{n}.yaml" for n in (8, 9, 10, 11, 12, 13, 14, 15)]
# (before the line, after it): written for this benchmark, one per kind of wrapping
WRAPPINGS = (
    ("Hi support team, ", " Thanks in advance, Maria"),
    ("Good morning. ", " Kind regards, John"),
    ("Subject: Email problem\n\n", ""),
    ("Dear IT, I'm the office manager at a small dental practice. ", ""),
    ("", ". I've already restarted the computer twice."),
    ("", ". Windows 11, Outlook 2016."),
    ("I've had this account for 10 years and never had problems. ", ""),
    ("", ". Nothing has changed on my end."),
    ("", ". My husband set it up last year."),
    ("I have a problem with my email. ", ""),
    ("", ". Please call me on 555 0123."),
    ("", ". This is urgent, we have a deadline today."),
    ("", ". I searched online but found nothing."),
    ("ok so ", ""),
    ("", ". Any ideas?"),
    ("", ". I use Gmail."),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=Path, default=ROOT / "flows")
    args = parser.parse_args()
    matcher = Matcher.from_flows_dir(args.flows, errors=error_symptom, pasted=pasted_symptom)
    lines = [e for name in SETS for e in load_examples(DATA / name)]
    right = [e.text.rstrip(". ") for e in lines if matcher.match(e.text).decision == e.expect]
    decided = {text: matcher.match(text).decision for text in right}
    print(f"{len(right)} lines decided right (of {len(lines)}), each wrapped {len(WRAPPINGS)} ways")
    total = 0
    for before, after in WRAPPINGS:
        changed = sum(
            1 for text in right if matcher.match(f"{before}{text}{after}").decision != decided[text]
        )
        total += changed
        label = f"{before.strip()!r} … {after.strip()!r}"
        print(f"  {label:<66} {changed / len(right):6.1%} changed")
    print(f"all wrappings: {total / (len(right) * len(WRAPPINGS)):.1%} of decisions changed")


if __name__ == "__main__":
    main()
