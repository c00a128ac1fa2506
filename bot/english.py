"""The words of English, to tell a real word from a typo (the matcher's speller) and from a
password (bot.engine.secrets).

GCIDE's headwords, lower case, through the english-words package (MIT), read on the first
question that needs them (about 50 ms, once), never at start-up; a word counts with its
inflections ("processing", "fixes", "flags").
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

SUFFIXES = ("ing", "ed", "es", "s", "ly")  # the inflections a word may carry


@cache
def _english() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["gcide"], alpha=True, lower=True))


def bases(token: str) -> Iterator[str]:
    """What an inflected token may be a form of, likeliest first: "bouncing" → "bounc",
    "bounce"; "stopped" → "stopp", "stoppe", "stop"."""
    for suffix in SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            base = token[: -len(suffix)]
            yield base
            yield base + "e"
            if base[-1:] == base[-2:-1]:
                yield base[:-1]


def english_word(token: str) -> bool:
    """The lower-case token is an English word, or one inflected."""
    words = _english()
    return token in words or any(base in words for base in bases(token))
