"""A flow's `match:` block: the example sentences (and rare hand weights) that call for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_KNOWN_KEYS = frozenset({"examples", "phrases", "keywords", "explains"})
MAX_EXAMPLES = 500  # per flow: more says nothing new and slows every start


class MatchSpecError(ValueError):
    """A malformed `match:` block; `key` and `index` say where (for a FILE:LINE message).

    `key` is "examples", "phrases" or "keywords" (None: the block itself); `index` is the
    0-based list position of the bad example, or None.
    """

    def __init__(self, message: str, key: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.index = index


@dataclass(frozen=True)
class MatchSpec:
    """What customers say when they need one flow.

    `examples` are whole first lines customers type; the matcher learns its term weights from
    them (docs/flow-language.md, "Matching"). `keywords` map a word or a short word sequence
    to a hand-set weight (-10..10): rare, for what examples cannot say; each should carry a
    comment in the flow file saying why. `explains` names the flows whose symptom this flow's
    trouble causes (a full mailbox: mail does not arrive): told together with one of them
    ("my mailbox is full and I get no mail"), the line is this flow's, not two troubles.
    """

    title: str
    examples: tuple[str, ...] = ()
    keywords: tuple[tuple[str, float], ...] = ()
    explains: tuple[str, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        """The examples under their former name (flows written before examples existed)."""
        return self.examples

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object], *, title: str) -> MatchSpec:
        """Validate and build from a flow's `match:` mapping; MatchSpecError says what is wrong.

        `phrases:` is read as more examples (the former name of the list).
        """
        if not isinstance(raw, Mapping):
            raise MatchSpecError("match: expected a mapping with 'examples' (and 'keywords')")
        unknown = sorted(set(map(str, raw)) - _KNOWN_KEYS)
        if unknown:
            raise MatchSpecError(
                f"match: unknown key(s) {', '.join(unknown)}; expected examples, keywords, "
                "explains"
            )
        examples = _sentences(raw.get("examples"), "examples") + _sentences(
            raw.get("phrases"), "phrases"
        )
        if len(examples) > MAX_EXAMPLES:
            raise MatchSpecError(
                f"match.examples: {len(examples)} examples; at most {MAX_EXAMPLES}", "examples"
            )
        return cls(
            title=title,
            examples=examples,
            keywords=_keywords(raw.get("keywords", {})),
            explains=_flow_ids(raw.get("explains")),
        )


def _sentences(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MatchSpecError(f"match.{key}: expected a list of sentences", key)
    out: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise MatchSpecError(f"match.{key}[{index}]: expected a non-empty sentence", key, index)
        if item.strip().lower() in seen:
            raise MatchSpecError(f"match.{key}[{index}]: {item!r} is listed twice", key, index)
        seen.add(item.strip().lower())
        out.append(item)
    return tuple(out)


def _flow_ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise MatchSpecError("match.explains: expected a list of flow ids", "explains")
    return tuple(value)


def _keywords(value: object) -> tuple[tuple[str, float], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise MatchSpecError("match.keywords: expected a mapping of word → weight", "keywords")
    out: list[tuple[str, float]] = []
    for index, (word, weight) in enumerate(value.items()):
        if not isinstance(word, str) or not word.strip():
            raise MatchSpecError(f"match.keywords: {word!r} is not a word", "keywords", index)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise MatchSpecError(
                f"match.keywords.{word}: weight must be a number, not {weight!r}", "keywords", index
            )
        if not -10 <= weight <= 10:
            raise MatchSpecError(
                f"match.keywords.{word}: weight {weight} is outside -10..10", "keywords", index
            )
        out.append((word, float(weight)))
    return tuple(out)
