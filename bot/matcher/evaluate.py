"""Scoring the matcher: on a labelled set (the format of ../shared/eval/utterances-dev.yaml),
and by k-fold cross-validation over the flows' own examples (`deskbot match --cv K`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.matcher.core import Matcher
from bot.matcher.spec import MatchSpec
from bot.matcher.vocabulary import Vocabulary, load_yaml

MAX_SET_BYTES = 10_000_000  # a labelled set is a few hundred lines; 10 MB is ~100,000


@dataclass(frozen=True)
class Example:
    """One labelled utterance."""

    text: str
    expect: str


@dataclass(frozen=True)
class Confusion:
    """An utterance the matcher got wrong."""

    text: str
    expect: str
    got: str


@dataclass(frozen=True)
class EvalReport:
    """Accuracy per label, overall, and every confusion."""

    per_label: tuple[tuple[str, int, int], ...]  # label, right, total
    confusions: tuple[Confusion, ...]

    @property
    def right(self) -> int:
        """Utterances decided as labelled."""
        return sum(r for _, r, _ in self.per_label)

    @property
    def total(self) -> int:
        """Utterances scored."""
        return sum(t for _, _, t in self.per_label)

    @property
    def accuracy(self) -> float:
        """Share of right decisions (1.0 for an empty set)."""
        return self.right / self.total if self.total else 1.0


def load_examples(path: Path, labels: Collection[str] | None = None) -> list[Example]:
    """Read a YAML list of {text, expect}.

    ValueError names the file and the first bad entry: not a regular file or over
    MAX_SET_BYTES (a pipe or /dev/zero would never end), YAML that does not parse
    (FILE:LINE), an empty list, a text or label that is not a string or an empty text, or, when
    `labels` is given, a label outside it (the symptom ids plus `clarify` and `none`).
    """
    if path.exists() and not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    if path.stat().st_size > MAX_SET_BYTES:
        raise ValueError(f"{path}: larger than {MAX_SET_BYTES // 1_000_000} MB; split the set")
    raw = load_yaml(path)
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{path}: expected a non-empty list of {{text, expect}} entries")
    examples: list[Example] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or "text" not in item or "expect" not in item:
            raise ValueError(f"{path}: entry {index} needs 'text' and 'expect'")
        text, expect = item["text"], item["expect"]
        if not isinstance(text, str) or not isinstance(expect, str) or not text.strip():
            raise ValueError(f"{path}: entry {index}: 'text' and 'expect' must be strings, "
                             "the text not empty")
        if labels is not None and expect not in labels:
            raise ValueError(f"{path}: entry {index}: {expect!r} is not a decision; use one "
                             f"of {', '.join(sorted(labels))}")
        examples.append(Example(text, expect))
    return examples


def evaluate(matcher: Matcher, examples: Iterable[Example]) -> EvalReport:
    """Run every example through the matcher and tally the decisions."""
    return _tally((example, matcher.match(example.text).decision) for example in examples)


def cross_validate(
    specs: Mapping[str, MatchSpec], vocabulary: Vocabulary, folds: int
) -> EvalReport:
    """K-fold cross-validation over the flows' own examples.

    Example number i of every flow falls in fold i mod `folds` (deterministic); each fold is
    matched by a matcher built from the other folds' examples (hand keywords kept). A flow's
    accuracy here is what a help desk can expect on sentences its examples do not hold.
    Raises ValueError when `folds` is below 2 or above the largest flow's number of examples
    (a fold would hold no example of any flow).
    """
    most = max((len(spec.examples) for spec in specs.values()), default=0)
    if not 2 <= folds <= most:
        raise ValueError(f"--cv needs 2 to {most} folds (the examples of the largest flow), "
                         f"not {folds}")
    outcomes: list[tuple[Example, str]] = []
    for fold in range(folds):
        kept = {
            flow_id: MatchSpec(
                spec.title,
                tuple(e for i, e in enumerate(spec.examples) if i % folds != fold),
                spec.keywords,
            )
            for flow_id, spec in specs.items()
        }
        matcher = Matcher(kept, vocabulary)
        for flow_id in sorted(specs):
            for i, text in enumerate(specs[flow_id].examples):
                if i % folds == fold:
                    outcomes.append((Example(text, flow_id), matcher.match(text).decision))
    return _tally(outcomes)


def _tally(outcomes: Iterable[tuple[Example, str]]) -> EvalReport:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    confusions: list[Confusion] = []
    for example, got in outcomes:
        total[example.expect] += 1
        if got == example.expect:
            right[example.expect] += 1
        else:
            confusions.append(Confusion(example.text, example.expect, got))
    per_label = tuple((label, right[label], total[label]) for label in sorted(total))
    return EvalReport(per_label, tuple(confusions))


def format_report(report: EvalReport) -> list[str]:
    """Human-readable lines: one per label, the overall line, then the confusions."""
    lines = [f"{label:<26} {r:>4}/{t:<4} {r / t:6.1%}" for label, r, t in report.per_label]
    lines.append(f"{'overall':<26} {report.right:>4}/{report.total:<4} {report.accuracy:6.1%}")
    if report.confusions:
        lines.append(f"confusions ({len(report.confusions)}):")
        lines.extend(_confusion_lines(report.confusions))
    return lines


def _confusion_lines(confusions: Sequence[Confusion]) -> list[str]:
    return [f"  {c.expect} -> {c.got}: {c.text!r}" for c in confusions]
