"""Indexes the matcher searches: word sequences (keywords, anchors, off-topic words) and phrases.

Both are keyed by word, so a text only ever meets the entries that share a word with it: the
cost per utterance grows with the text, not with the number of flows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

BREAK = "|"  # a clause boundary: a pattern never spans it ("can't send, receiving is fine")
POLARITY_FACTOR = 0.8  # share of a phrase's similarity kept when only one side is negated
MAX_GAP = 3  # other words allowed between two words of one pattern (stopwords not counted)

Pattern = tuple[str, ...]
T = TypeVar("T")


class PatternIndex(Generic[T]):
    """Word sequences, each with a payload, found in order and a few words apart in a text."""

    def __init__(self, skip: frozenset[str]) -> None:
        self._skip = skip
        self._by_first: dict[str, list[tuple[Pattern, T]]] = defaultdict(list)

    def add(self, pattern: Pattern, payload: T) -> None:
        """Register a pattern; empty patterns are ignored."""
        if pattern:
            self._by_first[pattern[0]].append((pattern, payload))

    def found(self, tokens: Sequence[str]) -> list[tuple[Pattern, T]]:
        """The entries whose pattern occurs in `tokens`, in a deterministic order."""
        hits: list[tuple[Pattern, T]] = []
        for word in sorted(set(tokens)):
            for pattern, payload in self._by_first.get(word, ()):
                if len(pattern) == 1 or occurs(pattern, tokens, self._skip):
                    hits.append((pattern, payload))
        return hits


def occurs(pattern: Pattern, tokens: Sequence[str], skip: frozenset[str]) -> bool:
    """True when the pattern's words appear in order, at most MAX_GAP words apart.

    Words in `skip` (stopwords) do not count towards the gap, so "sending an email gives me
    an error" holds "send ... error"; a BREAK token ends the search.
    """
    first = pattern[0]
    for start, token in enumerate(tokens):
        if token == first and _follows(pattern, 1, tokens, start + 1, skip):
            return True
    return False


def _follows(
    pattern: Pattern, index: int, tokens: Sequence[str], position: int, skip: frozenset[str]
) -> bool:
    if index == len(pattern):
        return True
    gap = 0
    for at in range(position, len(tokens)):
        token = tokens[at]
        if token == BREAK:
            return False
        if token == pattern[index]:
            return _follows(pattern, index + 1, tokens, at + 1, skip)
        if token not in skip:
            gap += 1
            if gap > MAX_GAP:
                return False
    return False


class PhraseIndex:
    """Whole phrases per flow, compared by idf-weighted word overlap (a Dice coefficient)."""

    def __init__(self, phrases: Sequence[tuple[int, str, frozenset[str]]]) -> None:
        frequency: dict[str, int] = defaultdict(int)
        for _, _, words in phrases:
            for word in words:
                frequency[word] += 1
        count = len(phrases)
        # Rare words decide; "mail" or "not", found in many phrases, weigh little.
        self._idf = {w: math.log(1 + count / n) for w, n in frequency.items()}
        self._unknown = math.log(1 + count) if count else 0.0
        self._flow = [flow for flow, _, _ in phrases]
        self._text = [text for _, text, _ in phrases]
        self._words = [words for _, _, words in phrases]
        self._weight = [sum(self._idf[w] for w in words) for _, _, words in phrases]
        # word → flow → the phrases of that flow holding the word
        self._by_word: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for number, (flow, _, words) in enumerate(phrases):
            for word in words:
                self._by_word[word][flow].append(number)

    def best(
        self, words: set[str], floor: float, flows: Iterable[int], polar: str | None = None
    ) -> dict[int, tuple[str, float]]:
        """Per flow of `flows`, its closest phrase and the similarity, when that reaches `floor`.

        `polar` (the negation word): a phrase that has it while the text has not, or the other
        way round, counts POLARITY_FACTOR of its similarity.

        Only the phrases of `flows` are compared: the cost stays bounded with 1,000 flows.
        """
        if not words:
            return {}
        query = sum(self._idf.get(w, self._unknown) for w in words)
        shared: dict[int, float] = defaultdict(float)
        wanted = sorted(set(flows))
        for word in sorted(words):
            idf = self._idf.get(word, 0.0)
            by_flow = self._by_word.get(word)
            if by_flow is None:
                continue
            for flow in wanted:
                for number in by_flow.get(flow, ()):
                    shared[number] += idf
        best: dict[int, tuple[str, float]] = {}
        negated = polar is not None and polar in words
        for number, overlap in shared.items():
            similarity = 2 * overlap / (query + self._weight[number])
            if polar is not None and (polar in self._words[number]) != negated:
                # "got a new laptop" is not "I don't get new mail on my laptop": a failure
                # told without the negation (or the other way round) is a weaker likeness.
                similarity *= POLARITY_FACTOR
            flow = self._flow[number]
            if similarity >= floor and similarity > best.get(flow, ("", 0.0))[1]:
                best[flow] = (self._text[number], similarity)
        return best
