"""A flow's `match:` block: the phrases and weighted keywords that call for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_KNOWN_KEYS = frozenset({"phrases", "keywords"})


@dataclass(frozen=True)
class MatchSpec:
    """What customers say when they need one flow.

    `phrases` are whole sentences customers type; `keywords` map a word or a short word
    sequence (matched in order, a few words apart at most) to a weight; a negative weight
    is evidence against the flow.
    """

    title: str
    phrases: tuple[str, ...] = ()
    keywords: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object], *, title: str) -> MatchSpec:
        """Validate and build from a flow's `match:` mapping; ValueError says what is wrong."""
        if not isinstance(raw, Mapping):
            raise ValueError("match: expected a mapping with 'phrases' and 'keywords'")
        unknown = sorted(set(map(str, raw)) - _KNOWN_KEYS)
        if unknown:
            raise ValueError(
                f"match: unknown key(s) {', '.join(unknown)}; expected phrases, keywords"
            )
        return cls(
            title=title,
            phrases=_phrases(raw.get("phrases", [])),
            keywords=_keywords(raw.get("keywords", {})),
        )


def _phrases(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("match.phrases: expected a list of sentences")
    out: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"match.phrases[{index}]: expected a non-empty sentence")
        out.append(item)
    return tuple(out)


def _keywords(value: object) -> tuple[tuple[str, float], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ValueError("match.keywords: expected a mapping of word → weight")
    out: list[tuple[str, float]] = []
    for word, weight in value.items():
        if not isinstance(word, str) or not word.strip():
            raise ValueError(f"match.keywords: {word!r} is not a word")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f"match.keywords.{word}: weight must be a number, not {weight!r}")
        if not -10 <= weight <= 10:
            raise ValueError(f"match.keywords.{word}: weight {weight} is outside -10..10")
        out.append((word, float(weight)))
    return tuple(out)
