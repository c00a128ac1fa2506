"""Term weights learned from the flows' example sentences (no hand weights needed).

A term is a content word ("outbox") or two content words in a row with stopwords skipped
("not send", "password prompt"); a clause boundary ends a pair. A term's weight for a flow is a
smoothed log-odds ratio: how much more often the flow's examples hold it than the other flows'
examples, shrunk by how many examples back it, so one incidental word in one example
("yesterday") weighs little while "outbox", found in a dozen outbox examples and no other, weighs
a lot. Deterministic (no random start, no iteration order from sets) and cheap: one pass over the
examples at load time.

Source: the Bernoulli naive Bayes log-count ratio of Wang & Manning, "Baselines and Bigrams:
Simple, Good Sentiment and Topic Classification" (ACL 2012), used one flow against the rest.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.matcher.patterns import BREAK

SMOOTHING = 0.5  # pseudo-count added to each side of the ratio
SUPPORT = 3.0  # a term found in n examples keeps n / (n + SUPPORT) of its log-odds
MIN_WEIGHT = 0.25  # lighter terms are dropped: they only add noise and lookups
MAX_WEIGHT = 4.0  # no single term decides alone against everything else in a text
MAX_FLOWS_PER_TERM = 32  # see _strongest


def terms(content: Sequence[str]) -> set[str]:
    """The terms of a canonical, stopword-free token list (BREAK tokens end a pair)."""
    found = {t for t in content if t != BREAK}
    for left, right in itertools.pairwise(content):
        if left != BREAK and right != BREAK and left != right:
            found.add(f"{left} {right}")
    return found


@dataclass(frozen=True)
class TermWeights:
    """Per term, the flows it speaks for with a weight > 0 (flow index, weight)."""

    by_term: Mapping[str, tuple[tuple[int, float], ...]]

    def found(self, text_terms: Iterable[str]) -> dict[int, list[tuple[str, float]]]:
        """Per flow index, the terms of the text that speak for it, sorted by term."""
        hits: dict[int, list[tuple[str, float]]] = defaultdict(list)
        for term in sorted(text_terms):
            for flow, weight in self.by_term.get(term, ()):
                hits[flow].append((term, weight))
        return hits


def fit(
    flows: Sequence[Sequence[set[str]]], vague: Sequence[set[str]], other: Sequence[set[str]]
) -> TermWeights:
    """Learn the weights from each flow's examples (flow index → list of term sets).

    `vague` lines (about e-mail, naming no problem) and `other` lines (other topics) form one
    more class, the background, at index len(flows): the terms they share with a flow
    ("wrong", "account", "password") weigh less for it, and a text may read more like them.
    """
    background = [*vague, *other]
    classes = [*flows, background]
    counts = [_counts(c) for c in classes]
    total: dict[str, int] = defaultdict(int)
    for class_counts in counts:
        for term, n in class_counts.items():
            total[term] += n
    everything = sum(len(c) for c in classes)
    weights: dict[str, dict[int, float]] = defaultdict(dict)
    for index, class_counts in enumerate(counts):
        inside = len(classes[index])
        for term in sorted(class_counts):
            found = class_counts[term]
            weight = _weight(found, inside, total[term] - found, everything - inside)
            if weight >= MIN_WEIGHT:
                weights[term][index] = weight
    return TermWeights({t: _strongest(v) for t, v in sorted(weights.items())})


def _strongest(row: Mapping[int, float]) -> tuple[tuple[int, float], ...]:
    """The MAX_FLOWS_PER_TERM classes a term speaks for most (a word shared by more flows
    than that tells none of them apart), in class order."""
    # The weights are rounded already (_weight); most terms speak for a few classes only.
    if len(row) <= MAX_FLOWS_PER_TERM:
        return tuple(sorted(row.items()))
    kept = sorted(row.items(), key=lambda item: (-item[1], item[0]))[:MAX_FLOWS_PER_TERM]
    return tuple(sorted(kept))


def _counts(lines: Sequence[set[str]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for line in lines:
        for term in line:
            counts[term] += 1
    return counts


def _weight(found_in: int, inside: int, found_out: int, outside: int) -> float:
    rate_in = (found_in + SMOOTHING) / (inside + 2 * SMOOTHING)
    rate_out = (found_out + SMOOTHING) / (outside + 2 * SMOOTHING)
    shrink = found_in / (found_in + SUPPORT)
    return round(min(MAX_WEIGHT, math.log(rate_in / rate_out) * shrink), 3)
