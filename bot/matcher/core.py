"""The symptom matcher: text → a symptom id, `clarify` or `none`, with scored candidates.

Pure and deterministic. Evidence for a flow is the sum of its matched keyword weights plus a
bonus for its closest phrase; words of other topics (from the vocabulary) count against every
flow, and without e-mail words only part of the evidence counts. Evidence e becomes the score
e / (e + HALF): one scale and one set of thresholds for all flows (docs/flow-language.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.matcher.patterns import BREAK, Pattern, PatternIndex, PhraseIndex
from bot.matcher.spec import MatchSpec
from bot.matcher.vocabulary import Vocabulary, load_yaml, tokenize

HALF = 2.5  # evidence at which a flow scores 0.5
ROUTE_SCORE = 0.45  # start a flow at or above this ...
ROUTE_MARGIN = 0.05  # ... when it leads the runner-up by this much
BARE_ROUTE_SCORE = 0.55  # the same without a single e-mail word in the text
LONE_SCORE = 0.35  # ... or this, with e-mail words present and no real runner-up:
LONE_RATIO = 0.3  # the runner-up scores at most this share of the best
LONE_CONTEXT = 0.5  # ... and the e-mail words weigh at least this
CLARIFY_SCORE = 0.4  # below this, only e-mail words make the text "about e-mail"
PHRASE_WEIGHT = 2.0  # evidence of a perfectly matching phrase
PHRASE_FLOOR = 0.4  # phrase similarity below this is no evidence
NO_CONTEXT_FACTOR = 0.4  # share of the evidence kept when no e-mail word is present
MAX_CANDIDATES = 3
OFFER_SCORE = 0.15  # weaker candidates are not offered when asking the user to choose


@dataclass(frozen=True)
class Candidate:
    """A symptom the text may be about, with a score in [0, 1]."""

    id: str
    score: float


@dataclass(frozen=True)
class Evidence:
    """Why a flow scored what it did (for `--explain`)."""

    keywords: tuple[tuple[str, float], ...]
    phrase: str | None
    phrase_similarity: float
    total: float


@dataclass(frozen=True)
class MatchResult:
    """The decision for one utterance (CONTRACT.md, `deskbot match`)."""

    text: str
    decision: str
    candidates: tuple[Candidate, ...]
    tokens: tuple[str, ...] = field(default=(), compare=False)
    evidence: Mapping[str, Evidence] = field(default_factory=dict, compare=False)
    anchors: tuple[str, ...] = field(default=(), compare=False)
    offtopic: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, object]:
        """The JSON object of the contract."""
        return {
            "text": self.text,
            "decision": self.decision,
            "candidates": [{"id": c.id, "score": c.score} for c in self.candidates],
        }


@dataclass(frozen=True)
class _Context:
    """How much the text is about e-mail at all."""

    anchors: tuple[str, ...]
    offtopic: tuple[str, ...]
    anchored: float  # sum of the anchor weights
    penalty: float  # counted against every flow
    score: float  # anchor weights minus the penalty


class Matcher:
    """Maps what a customer types to a flow id, `clarify` or `none`."""

    def __init__(self, specs: Mapping[str, MatchSpec], vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.specs: Mapping[str, MatchSpec] = dict(specs)
        self.ids: tuple[str, ...] = tuple(sorted(specs))
        flow_words = {
            word
            for spec in specs.values()
            for text in (*spec.phrases, *(k for k, _ in spec.keywords))
            for word in vocabulary.canonical(tokenize(text))
        }
        self._speller = vocabulary.speller(flow_words)
        skip = vocabulary.stopwords
        self._keywords: PatternIndex[tuple[int, float]] = PatternIndex(skip)
        phrases: list[tuple[int, str, frozenset[str]]] = []
        wanted: set[Pattern] = set()
        for index, flow_id in enumerate(self.ids):
            spec = specs[flow_id]
            for pattern, weight in self._flow_keywords(spec).items():
                self._keywords.add(pattern, (index, weight))
                if weight > 0:
                    wanted.add(pattern)
            phrases.extend(
                (index, p, frozenset(self._content(self.normalize(p)))) for p in spec.phrases
            )
        self._phrases = PhraseIndex(phrases)
        self._anchors: PatternIndex[float] = PatternIndex(skip)
        for words, weight in vocabulary.anchors.items():
            self._anchors.add(self._pattern(" ".join(words)), weight)
        self._offtopic = self._offtopic_index(vocabulary, wanted)
        self._fallback = tuple(
            Candidate(flow_id, 0.0) for flow_id in vocabulary.clarify_fallback if flow_id in specs
        )[:MAX_CANDIDATES]

    @classmethod
    def from_flows_dir(cls, path: Path | str) -> Matcher:
        """Read `id`, `title` and `match` of every flow in a folder, plus `_vocabulary.yaml`.

        Raises ValueError naming the file when a match block or the vocabulary is malformed.
        """
        folder = Path(path)
        specs: dict[str, MatchSpec] = {}
        for file in sorted(folder.glob("*.yaml")):
            if file.name.startswith("_"):
                continue
            raw = load_yaml(file)
            if not isinstance(raw, Mapping) or "id" not in raw:
                continue
            try:
                title = str(raw.get("title", raw["id"]))
                specs[str(raw["id"])] = MatchSpec.from_mapping(raw.get("match") or {}, title=title)
            except ValueError as exc:
                raise ValueError(f"{file}: {exc}") from exc
        return cls(specs, Vocabulary.load(folder / "_vocabulary.yaml"))

    def normalize(self, text: str) -> list[str]:
        """Canonical tokens: spelling repaired, synonyms applied."""
        repaired = [w for token in tokenize(text) for w in self._speller.repair(token)]
        return self.vocabulary.canonical(repaired)

    def match(self, text: str) -> MatchResult:
        """Classify one utterance."""
        tokens = self.normalize(text)
        context = self._context(tokens)
        explained = self._evidence(tokens, context)
        candidates = _rank(explained)
        decision = _decide(candidates, context.score, context.anchored)
        if decision == "clarify":
            candidates = self._offer(candidates)
        return MatchResult(
            text,
            decision,
            candidates,
            tuple(tokens),
            explained,
            context.anchors,
            context.offtopic,
        )

    def _offer(self, candidates: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        """What "which one?" offers: the real candidates, then the usual suspects."""
        offered = [c for c in candidates if c.score >= OFFER_SCORE]
        scores = {c.id: c.score for c in candidates}
        taken = {c.id for c in offered}
        padding = [
            Candidate(f.id, scores.get(f.id, 0.0)) for f in self._fallback if f.id not in taken
        ]
        padding.sort(key=lambda c: -c.score)  # stable: ties keep the vocabulary's order
        return tuple(offered + padding)[:MAX_CANDIDATES]

    def _context(self, tokens: Sequence[str]) -> _Context:
        anchors = self._anchors.found(tokens)
        offtopic = self._offtopic.found(tokens)
        anchored = sum(w for _, w in anchors)
        # With a plain e-mail word present ("my hotel wifi blocks mail ports") other topics
        # are the circumstance, not the subject: they count half.
        penalty = sum(w for _, w in offtopic) * (0.5 if anchored >= 1.0 else 1.0)
        return _Context(
            tuple(" ".join(p) for p, _ in anchors),
            tuple(" ".join(p) for p, _ in offtopic),
            anchored,
            penalty,
            anchored - penalty,
        )

    def _evidence(self, tokens: Sequence[str], context: _Context) -> dict[str, Evidence]:
        keywords: dict[int, list[tuple[str, float]]] = defaultdict(list)
        for pattern, (flow, weight) in self._keywords.found(tokens):
            keywords[flow].append((" ".join(pattern), weight))
        phrases = self._phrases.best(set(self._content(tokens)), PHRASE_FLOOR)
        explained: dict[str, Evidence] = {}
        factor = _context_factor(context.anchored)
        for flow in sorted(set(keywords) | set(phrases)):
            phrase, similarity = phrases.get(flow, (None, 0.0))
            bonus = PHRASE_WEIGHT * max(0.0, similarity - PHRASE_FLOOR) / (1 - PHRASE_FLOOR)
            raw = sum(w for _, w in keywords[flow]) + bonus
            total = raw * factor - context.penalty
            explained[self.ids[flow]] = Evidence(
                tuple(sorted(keywords[flow])), phrase, round(similarity, 3), total
            )
        return explained

    def _offtopic_index(self, vocabulary: Vocabulary, wanted: set[Pattern]) -> PatternIndex[float]:
        # A word some flow asks for is on topic, whatever the shared off-topic list says.
        index: PatternIndex[float] = PatternIndex(vocabulary.stopwords)
        for words, weight in vocabulary.offtopic.items():
            pattern = self._pattern(" ".join(words))
            if pattern not in wanted:
                index.add(pattern, weight)
        return index

    def _flow_keywords(self, spec: MatchSpec) -> dict[Pattern, float]:
        # Two spellings of one keyword ("redownload", "download again") count once: the first.
        patterns: dict[Pattern, float] = {}
        for word, weight in spec.keywords:
            patterns.setdefault(self._pattern(word), weight)
        return patterns

    def _pattern(self, text: str) -> Pattern:
        return tuple(self.normalize(text))

    def _content(self, tokens: Sequence[str]) -> list[str]:
        return [t for t in tokens if t != BREAK and t not in self.vocabulary.stopwords]


def _context_factor(context: float) -> float:
    """Share of the evidence that counts: words like "settings" or "arrive" say little until
    something places the text in the e-mail world (a full anchor such as "mail": all of it)."""
    return NO_CONTEXT_FACTOR + (1 - NO_CONTEXT_FACTOR) * min(1.0, max(0.0, context))


def _decide(candidates: Sequence[Candidate], context: float, anchored: float) -> str:
    best = candidates[0].score if candidates else 0.0
    second = candidates[1].score if len(candidates) > 1 else 0.0
    # Not one e-mail word ("stop syncing with this phone"): a flow needs more to start.
    route = ROUTE_SCORE if anchored > 0 else BARE_ROUTE_SCORE
    if best >= route and best - second >= ROUTE_MARGIN:
        return candidates[0].id
    # Plainly about e-mail and one flow alone has evidence: "which one?" would offer a
    # single sensible choice, so start it.
    if context >= LONE_CONTEXT and best >= LONE_SCORE and second <= best * LONE_RATIO:
        return candidates[0].id
    if best >= CLARIFY_SCORE or context >= 1.0:
        return "clarify"
    return "none"


def _rank(explained: Mapping[str, Evidence]) -> tuple[Candidate, ...]:
    scored = [
        Candidate(flow_id, round(ev.total / (ev.total + HALF), 3))
        for flow_id, ev in explained.items()
        if ev.total > 0
    ]
    scored.sort(key=lambda c: (-c.score, c.id))
    return tuple(scored[:MAX_CANDIDATES])
