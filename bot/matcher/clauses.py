"""The shape of a customer's line: its clauses, the side of a contrast that works, a question.

"I can send but not receive", "it's in webmail, not in the app", "works at home, not at the
office": a clause without the negation says what works. The matcher marks its words (the
WORKS prefix) in the examples and in the text alike, so the terms learned from them speak for
the failing side; and a place that works set against one that fails is how a blocked
connection is told (docs/flow-language.md, "Matching").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.matcher.patterns import BREAK

WORKS = "ok:"  # marks the words of the working side of a contrast (see mark_contrast)
WORKING = frozenset({"work", "fine", "ok", "correct"})  # canonical words of a working side
FAILING = frozenset({"not", "fail", "broken", "timeout", "dead"})  # ... and of a failing one
# Canonical words that name a trouble by themselves: a clause holding one is no working side.
TROUBLE = FAILING | {
    "full", "stuck", "error", "bounce", "slow", "quota", "wrong", "reject", "refuse",
    "warning", "duplicate", "twice", "vanish", "expire", "locked", "untrusted", "unreachable",
    "undeliverable", "spam", "blacklist", "large", "thousands",
}
ONLY = "only"  # "only works on mobile data": the other places fail
NEGATION = "not"  # the vocabulary's canonical negation
WH_WORDS = frozenset({"what", "whats", "which", "how", "where"})  # open a question anywhere


def contrasts(tokens: Sequence[str]) -> bool:
    """The text sets where it works against where it fails, in separate clauses: "fine at
    home, not at the office", "works on wifi but fails on 4g"; or says "only" of one side:
    "only works on mobile data"."""
    if ONLY in tokens and (WORKING | FAILING) & set(tokens):
        return True
    works = fails = False
    clause: set[str] = set()
    for token in (*tokens, BREAK):
        if token != BREAK:
            clause.add(token)
            continue
        if clause & FAILING:
            fails = True
        elif clause & WORKING:
            works = True
        clause = set()
    return works and fails


def asks_later(tokens: Sequence[str]) -> bool:
    """A later clause opens with a wh-word: "got a new laptop, how do I get my mail on it".
    Only wh-words: after a comma "can" or "is" opens a statement as often as a question."""
    return any(
        left == BREAK and right in WH_WORDS for left, right in itertools.pairwise(tokens)
    )


def mark_contrast(content: list[str]) -> list[str]:
    """In "I can send but not receive" or "it's in webmail, not in the app", the clauses
    without a negation say what works: their words get the WORKS mark ("ok:send"), in the
    examples and in the text alike, so the terms learned from them speak for the other side."""
    clauses: list[list[str]] = [[]]
    for token in content:
        if token == BREAK:
            clauses.append([])
        else:
            clauses[-1].append(token)
    # "..., but it's not" says nothing about a place or a side: no contrast.
    failing = [NEGATION in c and len(set(c)) > 1 for c in clauses]
    if len(clauses) < 2 or not any(failing) or all(failing):
        return content
    marked: list[str] = []
    for clause, fails in zip(clauses, failing, strict=True):
        if marked:
            marked.append(BREAK)
        # "my mailbox is full, I can't receive": a clause naming a trouble is its cause,
        # not the side that works.
        works = not fails and not TROUBLE.intersection(clause)
        marked.extend([WORKS + t for t in clause] if works else clause)
    return marked
