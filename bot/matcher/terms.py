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

    def found(
        self, text_terms: Iterable[str], context: set[str], share: float
    ) -> dict[int, list[tuple[str, float]]]:
        """Per flow index, the terms of the text that speak for it, sorted by term.

        Terms in `context` (the working side of a contrast) count `share` of their weight.
        """
        hits: dict[int, list[tuple[str, float]]] = defaultdict(list)
        for term in sorted(text_terms):
            factor = share if term in context else 1.0
            for flow, weight in self.by_term.get(term, ()):
                hits[flow].append((term, round(weight * factor, 3)))
        return hits


def fit(examples: Sequence[Sequence[set[str]]]) -> TermWeights:
    """Learn the weights from each flow's examples (flow index → list of term sets)."""
    counts: list[dict[str, int]] = []
    total: dict[str, int] = defaultdict(int)
    for flow_examples in examples:
        flow_counts: dict[str, int] = defaultdict(int)
        for example in flow_examples:
            for term in example:
                flow_counts[term] += 1
                total[term] += 1
        counts.append(flow_counts)
    everything = sum(len(e) for e in examples)
    by_term: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for flow, flow_counts in enumerate(counts):
        inside = len(examples[flow])
        outside = everything - inside
        for term in sorted(flow_counts):
            weight = _weight(flow_counts[term], inside, total[term] - flow_counts[term], outside)
            if weight >= MIN_WEIGHT:
                by_term[term].append((flow, weight))
    return TermWeights({t: tuple(v) for t, v in by_term.items()})


def _weight(found_in: int, inside: int, found_out: int, outside: int) -> float:
    rate_in = (found_in + SMOOTHING) / (inside + 2 * SMOOTHING)
    rate_out = (found_out + SMOOTHING) / (outside + 2 * SMOOTHING)
    shrink = found_in / (found_in + SUPPORT)
    return round(min(MAX_WEIGHT, math.log(rate_in / rate_out) * shrink), 3)
