"""The symptom matcher: text → a symptom id, `clarify` or `none`, with scored candidates.

Pure and deterministic. Evidence for a flow is the sum of the weights of its terms found in the
text (learned from the flow's example sentences, bot.matcher.terms), plus a bonus for its
closest example, plus any rare hand-set keyword; words of other topics (from the vocabulary)
count against every flow, and without e-mail words only part of the evidence counts
(docs/flow-language.md, "Matching"). bot.matcher.decide turns the evidence into a decision.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.matcher.clauses import (
    NEGATION,
    asks_how_to,
    asks_later,
    both_ways,
    caused,
    denied,
    joined,
    mark_contrast,
    told,
    told_apart,
    two_troubles,
)
from bot.matcher.decide import (
    LONE_CONTEXT,
    MAX_CANDIDATES,
    NEAR_LINE,
    ROUTE_RATIO,
    Candidate,
    Context,
    Evidence,
    MatchResult,
    context_factor,
    decide,
    like_background,
    rank,
    score,
)
from bot.matcher.framing import unwrapped
from bot.matcher.patterns import BREAK, Pattern, PatternIndex, PhraseIndex
from bot.matcher.roles import counted, recipients, senders
from bot.matcher.spec import MatchSpec
from bot.matcher.terms import TermWeights, fit, terms
from bot.matcher.topics import ENHANCED_STATUS, Topics
from bot.matcher.vocabulary import Vocabulary, load_yaml, tokenize

MAX_TEXT = 2000  # characters of a line read, as for a typed line (bot.engine.answers.MAX_LINE)
PHRASE_WEIGHT = 3.0  # evidence of a perfectly matching example
PHRASE_FLOOR = 0.4  # example similarity below this is no evidence
SPECIFIC_WEIGHT = 2.5  # a lone word this specific to a flow describes a problem ("outbox")
WANTED_WEIGHT = 2.0  # a term this specific to a flow is never an off-topic word
PASTED_ERROR_WEIGHT = 4.0  # evidence for the flow a recognised pasted error points at
PASTED_SCORE = 0.9  # the score of the flow a line that is only a pasted error belongs to
SYMPTOM_TERM = 1.0  # a flow is started on a term at least this specific to it ...
SYMPTOM_PHRASE = 0.7  # ... or an example at least this close to the text
SAME_PHRASE = 0.9  # ... (this close, even when its words name nothing alone)
AS_WRITTEN = 0.99  # ... and an example this close is the text as a help desk wrote it
GENERIC_LINES = 3  # a term in this many vague lines names no symptom by itself
COMMON_LINES = 6  # ... nor a term made only of words each in this many
SHORTLIST = 8  # flows compared example by example (by most term evidence)
NEGATED = f"{NEGATION} "  # "not mail" ("no mail for days") names something; "mail not" may not
QUESTION = "(question)"  # the term of a line that opens with a question word
DEVICES_TERM = "(devices)"  # the term of a line that names two devices ("on the phone, not the PC")
DEVICES = frozenset({"phone", "computer", "tablet", "device", "imac"})  # canonical words
# where and since when it happens: the setting names no symptom ("problems on two office computers")
SETTING = DEVICES | {"update", "upgrade", "office", "windows", "mac"}
ALIKE = frozenset({"also", "either", "neither", "nor", "too", "both"})
BACKGROUND = "(vague or other topic)"  # the vocabulary's background lines, in explanations
CAUSE_SHARE = 0.4  # a cause's evidence, as a share of its effect's, for the line to be the cause's
TROUBLES_MARGIN = 0.3  # two troubles this far apart in score: the first is the line's
JOINED_SCORE = 0.55  # each side of a plain "and" scoring this for its own flow: two troubles
SENDING, RECEIVING = "outbox_stuck", "cannot_receive"  # the flows of mail that won't go, won't come
OFFER_SCORE = 0.15  # weaker candidates are not offered when asking the user to choose

# An error code on its own: Outlook's 0x800CCC0E, an enhanced status code 5.7.8 (RFC 3463).
_CODE = re.compile(rf"0x[0-9a-f]{{6,8}}|{ENHANCED_STATUS.pattern}")

# Text → the symptom id a pasted server or app error points at (None: not a known error).
ErrorLookup = Callable[[str], str | None]


class Matcher:
    """Maps what a customer types to a flow id, `clarify` or `none`."""

    def __init__(
        self,
        specs: Mapping[str, MatchSpec],
        vocabulary: Vocabulary,
        errors: ErrorLookup | None = None,
        pasted: ErrorLookup | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.specs: Mapping[str, MatchSpec] = dict(specs)
        self.ids: tuple[str, ...] = tuple(sorted(specs))
        self._errors = errors
        # A line that is ONLY a pasted error (no words of the customer's own): its flow, as
        # the error catalogue says, decides (bot/data/errors.yaml).
        self._pasted_only = pasted
        # Each example is tokenized once, for the speller's word list and for its terms.
        tokenized = {
            text: tokenize(text)
            for spec in specs.values()
            for text in (*spec.examples, *(k for k, _ in spec.keywords))
        }
        # canonical forms are synonym targets: known already
        flow_words = {word for words in tokenized.values() for word in words}
        self._speller = vocabulary.speller(flow_words)
        skip = vocabulary.stopwords
        self._keywords: PatternIndex[tuple[int, float]] = PatternIndex(skip)
        phrases: list[tuple[int, str, frozenset[str]]] = []
        learned: list[list[set[str]]] = []
        for index, flow_id in enumerate(self.ids):
            spec = specs[flow_id]
            for pattern, weight in self._flow_keywords(spec).items():
                self._keywords.add(pattern, (index, weight))
            contents = [self._content(self._canonical(tokenized[e])) for e in spec.examples]
            phrases.extend(
                (index, e, frozenset(c) - {BREAK})
                for e, c in zip(spec.examples, contents, strict=True)
            )
            learned.append([terms(c) for c in contents])
        # Vague and off-topic lines of the vocabulary are one more, never-offered class: the
        # words they share with a flow ("wrong", "account", "help") weigh less for it, and a
        # text close to one of them is not routed.
        lines = (*vocabulary.vague, *vocabulary.background)
        contents = [self._content(self.normalize(e)) for e in lines]
        phrases.extend(
            (len(self.ids), e, frozenset(c) - {BREAK}) for e, c in zip(lines, contents, strict=True)
        )
        self._phrases = PhraseIndex(phrases)
        vague = [terms(c) for c in contents[: len(vocabulary.vague)]]
        other = [terms(c) for c in contents[len(vocabulary.vague) :]]
        self.terms: TermWeights = fit(learned, vague, other)
        self._topics = Topics.from_vocabulary(vocabulary, self._pattern, self._wanted(specs))
        self._other_lines = frozenset(vocabulary.background)
        # Terms that several vague lines use ("wrong", "not work", "problem"): alone, they
        # name no symptom.
        used = Counter(t for line in vague for t in line)
        self._generic = frozenset(t for t, n in used.items() if n >= GENERIC_LINES)
        # Words so common in them ("mail", "computer", "not") that terms made only of them
        # ("mail computer", "computer not") name nothing either.
        self._common = frozenset(
            t for t, n in used.items() if n >= COMMON_LINES and " " not in t
        )
        # Lone words the vocabulary lists as background lines ("imap", "587", "yes"): answers.
        self._answers = frozenset(
            c[0] for c in contents[len(vocabulary.vague) :] if len(c) == 1 and c[0] != BREAK
        )
        self._fallback = tuple(
            Candidate(flow_id, 0.0) for flow_id in vocabulary.clarify_fallback if flow_id in specs
        )[:MAX_CANDIDATES]

    @classmethod
    def from_flows_dir(cls, path: Path | str, errors: ErrorLookup | None = None,
                       pasted: ErrorLookup | None = None) -> Matcher:
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
        return cls(specs, Vocabulary.load(folder / "_vocabulary.yaml"), errors, pasted)

    def normalize(self, text: str) -> list[str]:
        """Canonical tokens: spelling repaired, synonyms applied."""
        return self._canonical(tokenize(text))

    def _canonical(self, tokens: Sequence[str]) -> list[str]:
        repaired = [w for token in tokens for w in self._speller.repair(token)]
        return counted(denied(recipients(senders(self.vocabulary.canonical(repaired)))))

    def match(self, text: str) -> MatchResult:
        """Classify one utterance (its first MAX_TEXT characters: a pasted log's tail adds
        nothing and must not cost seconds)."""
        whole, text = text, unwrapped(text.strip()[:MAX_TEXT])
        tokens = self.normalize(text)
        context = self._topics.context(tokens)
        pasted = self._pasted_only(text) if self._pasted_only is not None else None
        # a pasted error of another tool ("docker pull x509: certificate signed by unknown
        # authority") is that tool's trouble
        if pasted in self.specs and not context.elsewhere:
            assert pasted is not None
            return MatchResult(whole, pasted, (Candidate(pasted, PASTED_SCORE),))
        language = self.vocabulary.language(text)
        if language is not None:
            return MatchResult(whole, "none", (), language=language)
        decision, candidates, explained, _ = self._judge(text, tokens, context)
        both = (
            self._two_troubles(tokens, context, explained, text) if decision != "none" else None
        )
        if both is not None and len(both) == 1:
            # the cause of the other trouble the line tells: its flow, first
            decision = both[0].id
            candidates = (both[0], *(c for c in candidates if c.id != decision))
            candidates, both = candidates[:MAX_CANDIDATES], None
        elif both is not None and both[0].score - both[1].score >= TROUBLES_MARGIN:
            both = None  # the second trouble is a faint reading beside the first: the first
        elif both is not None:
            decision, candidates = "clarify", both
        elif decision != "none" and self._both_ways(tokens, decision):
            # sending and receiving are two troubles told at once
            decision, candidates = "clarify", self._either_way(candidates, explained)
            both = tuple(c for c in candidates if c.id in (SENDING, RECEIVING))
        return MatchResult(
            whole,
            decision,
            candidates,
            tuple(tokens),
            explained,
            context.anchors,
            context.offtopic,
            troubles=tuple(c.id for c in both or ()),
        )

    def _two_troubles(
        self, tokens: list[str], context: Context, explained: Mapping[str, Evidence], text: str
    ) -> tuple[Candidate, ...] | None:
        """The two flows of a line that adds a second trouble to a first ("... and also some
        are stuck in the outbox"), best first: each part on its own starts a different flow,
        and each shows in the whole line ("same here, I can't receive either": "same here"
        alone leans to duplicates, the line does not); or that joins two with a plain "and" or
        tells them in sentences side by side, each side clearly a flow of its own ("my mails
        bounce and my inbox stopped syncing"). None otherwise; and the one flow whose trouble
        causes the other's (its `explains`) when such a line tells a cause and its effect ("my
        mailbox is full and I get no mail": a full mailbox)."""
        parts = two_troubles(tokens)
        if parts is not None:
            each = {self._judge(" ".join(t), t, context)[0] for t in map(told, parts)}
        else:
            # sentences side by side join as "and" does ("my mailbox is full. I get a warning")
            apart = told_apart(text)
            joins = self.normalize(apart) if apart != text else tokens
            found = self._joined(joins, explained)
            if found is None:
                # "... because ...": one trouble causes the other, told so
                return self._cause(self._sides(caused(tokens)), explained)
            each = found
            if (cause := self._cause(each, explained)) is not None:
                return cause
        named = sorted(
            (Candidate(d, score(explained[d])) for d in each if d in explained),
            key=lambda c: (-c.score, c.id),
        )
        if len(named) == 2 and named[1].score >= OFFER_SCORE:
            return tuple(named)
        return None

    def _both_ways(self, tokens: list[str], decision: str) -> bool:
        """Mail neither goes out nor comes in, and the flow chosen explains only one of them
        ("sending and receiving both stopped on my laptop" is no mail vanishing elsewhere):
        which one? A flow whose trouble stops both (a rejected password, a blocked port) or a
        question ("what are the send and receive settings") stands."""
        if self._asks(tokens) or not both_ways(self._content(tokens)):
            return False
        spec = self.specs.get(decision)  # None: "clarify", offering the usual suspects
        return spec is None or not {SENDING, RECEIVING} <= set(spec.explains)

    def _either_way(
        self, candidates: tuple[Candidate, ...], explained: Mapping[str, Evidence]
    ) -> tuple[Candidate, ...]:
        """What "which one?" offers when mail neither goes out nor comes in: sending and
        receiving, and any candidate whose trouble stops both, best first."""
        both = (SENDING, RECEIVING)
        causes = [
            c.id for c in candidates
            if c.score >= OFFER_SCORE and set(both) <= set(self.specs[c.id].explains)
        ][: MAX_CANDIDATES - len(both)]  # candidates come best first
        offered = [
            Candidate(f, score(explained[f]) if f in explained else 0.0)
            for f in (*both, *causes) if f in self.specs
        ]
        offered.sort(key=lambda c: (-c.score, c.id))
        return tuple(offered)

    def _cause(
        self, each: set[str] | None, explained: Mapping[str, Evidence]
    ) -> tuple[Candidate, ...] | None:
        """Of two flows, the one whose trouble causes the other's (its `explains`), scored
        with the better of the two: what the effect's words say speaks for its cause."""
        if each is None or len(each) != 2 or not each <= set(explained):
            return None
        for cause in sorted(each & set(self.specs)):
            (effect,) = each - {cause}
            # the whole line must speak for the cause too: "webmail has the new ones" read
            # alone is a mail taken elsewhere, but not beside "I'm not getting any emails"
            weak = explained[cause].total < explained[effect].total * CAUSE_SHARE
            if effect in self.specs[cause].explains and not weak:
                return (Candidate(cause, max(score(explained[f]) for f in each)),)
        return None

    def _sides(self, parts: tuple[list[str], list[str]] | None) -> set[str] | None:
        """The flows two parts of a line clearly start, each read on its own; None unless
        each does, with JOINED_SCORE or more."""
        if parts is None:
            return None
        judged = [self._judge(" ".join(t), t) for t in map(told, parts)]
        if any(not offered or offered[0].score < JOINED_SCORE for _, offered, _, _ in judged):
            return None
        return {decision for decision, _, _, _ in judged}

    def _joined(
        self, tokens: list[str], explained: Mapping[str, Evidence]
    ) -> set[str] | None:
        """The flows of the first plain "and" whose sides, each read on its own, clearly start
        a flow of its own (bot.matcher.clauses.joined); None when no "and" does, or when the
        line's best flow has an example that tells both sides as one trouble."""
        for parts in joined(tokens):
            each = self._sides(parts)
            if each is None:
                continue
            return None if self._told_together(parts, explained) else each
        return None

    def _told_together(
        self, parts: Sequence[list[str]], explained: Mapping[str, Evidence]
    ) -> bool:
        """The example closest to the line, of its strongest flow, is at least SYMPTOM_PHRASE
        alike and shares with each part a word that names something: that flow's examples tell
        both as one trouble ("my mailbox is full and I can't receive"), where an example alike
        only one part ("I get a certificate warning") does not."""
        flows = [e for flow_id, e in explained.items() if flow_id != BACKGROUND]
        strongest = max(flows, key=lambda e: e.total, default=None)
        if strongest is None or strongest.phrase is None:
            return False
        if strongest.phrase_similarity < SYMPTOM_PHRASE:
            return False
        plain = self._generic | self._common
        example = set(self._content(self.normalize(strongest.phrase))) - plain
        # a part that names nothing of its own ("I can't get new mail") is in any such example
        naming = [set(self._content(part)) - plain - {BREAK} for part in parts]
        return all(not words or example & words for words in naming)

    def _judge(
        self, text: str, tokens: list[str], context: Context | None = None
    ) -> tuple[str, tuple[Candidate, ...], dict[str, Evidence], Context]:
        """The decision, the candidates (offered ones when it is `clarify`), the evidence
        for each flow (and the background) and the context, for the canonical tokens of a
        text; a part of a line is judged in the `context` of the whole line."""
        context = context or self._topics.context(tokens)
        explained = self._evidence(text, tokens, context)
        background = explained.pop(BACKGROUND, None)
        candidates = rank(explained)
        decision = decide(
            candidates, context, self._describes(tokens), self._asks(tokens)
        )
        # a help desk's example, typed as written, starts its flow
        if decision in ("clarify", "none") and self._as_written(candidates, explained, context):
            decision = candidates[0].id
        flow = explained.get(decision)
        # A little evidence from several common words ("my mail app is weird today") names
        # no symptom: which one is it?
        if flow is not None and not self._names_symptom(flow):
            decision = "clarify" if context.score >= LONE_CONTEXT else "none"
        # The text reads more like the vague or off-topic lines than like the flow.
        vague = (
            flow is not None
            and background is not None
            and like_background(background, flow, context.plain)
        )
        if vague:
            decision = "clarify" if context.score >= 1.0 else "none"
            # Nearly an other-topic line ("which email provider is the best"): a question
            # about something else, however many e-mail words it has.
            assert background is not None
            if background.phrase in self._other_lines and background.phrase_similarity >= NEAR_LINE:
                decision = "none"
        if background is not None:
            explained[BACKGROUND] = background
        if decision == "clarify" and asks_how_to(tokens):
            decision = "none"  # how to use a feature of mail: nothing to diagnose
        if decision == "clarify":
            candidates = self._offer(candidates, vague)
        return decision, candidates, explained, context

    def _as_written(
        self, candidates: Sequence[Candidate], explained: Mapping[str, Evidence], context: Context
    ) -> bool:
        """The best flow has an example word for word the text (AS_WRITTEN), and no
        other flow comes near it: "my account is out of space" is an example of a full
        mailbox, whatever its lack of e-mail words."""
        if not candidates or context.elsewhere:
            return False
        best = explained[candidates[0].id]
        second = explained[candidates[1].id].total if len(candidates) > 1 else 0.0
        return best.phrase_similarity >= AS_WRITTEN and second <= best.total * ROUTE_RATIO

    def _names_symptom(self, flow: Evidence) -> bool:
        """A term that vague lines do not use, nor only their most common words, speaks
        clearly for the flow ("wrong" is in "wrong password" and in "something is wrong with
        outlook": it names nothing; nor does "mail computer", though "not mail", what is
        missing, does: "no mail for days"); or one of the flow's examples
        is nearly the text, and alike in such a term or nearly word for word ("outlook error"
        is alike "password error in outlook" only in words that name nothing)."""
        generic, common = self._generic, self._common
        naming = [
            w for t, w in flow.keywords
            if t not in generic and (t.startswith(NEGATED) or not common.issuperset(t.split(" ")))
            and not SETTING.issuperset(t.split(" "))
        ]
        near = flow.phrase_similarity
        if near >= SAME_PHRASE or (near >= SYMPTOM_PHRASE and naming):
            return True
        return any(w >= SYMPTOM_TERM for w in naming)

    def _describes(self, tokens: Sequence[str]) -> bool:
        """False for a lone word that is an answer ("imap", "587", "yes"), not a problem: only
        an error code or a word its examples make specific to one flow ("outbox") is one, and
        never a word the vocabulary's background lines hold on its own ("imap")."""
        if len(tokens) != 1:
            return bool(tokens)
        word = tokens[0]
        if word in self._answers:
            return False
        weights = [w for _, w in self.terms.by_term.get(word, ())]
        return bool(_CODE.fullmatch(word)) or max(weights, default=0.0) >= SPECIFIC_WEIGHT

    def _asks(self, tokens: Sequence[str]) -> bool:
        """The text is a question: it opens with a question word or a later clause does."""
        return bool(tokens) and (tokens[0] in self.vocabulary.questions or asks_later(tokens))

    def _offer(self, candidates: tuple[Candidate, ...], vague: bool) -> tuple[Candidate, ...]:
        """What "which one?" offers: the real candidates, then the usual suspects.

        A vague text ("my email is not working") gets the usual suspects in their order, at
        score 0: it names no symptom, whatever its words share with the flows' examples.
        """
        if vague:
            return self._fallback
        offered = [c for c in candidates if c.score >= OFFER_SCORE]
        scores = {c.id: c.score for c in candidates}
        taken = {c.id for c in offered}
        padding = [
            Candidate(f.id, scores.get(f.id, 0.0)) for f in self._fallback if f.id not in taken
        ]
        padding.sort(key=lambda c: -c.score)  # stable: ties keep the vocabulary's order
        return tuple(offered + padding)[:MAX_CANDIDATES]

    def _evidence(
        self, text: str, tokens: Sequence[str], context: Context
    ) -> dict[str, Evidence]:
        content = self._content(tokens)
        found = self.terms.found(terms(content))
        for pattern, (flow, weight) in self._keywords.found(tokens):
            found[flow].append((" ".join(pattern), weight))
        pasted = self._pasted(text)
        if pasted is not None:
            found[pasted].append(("(pasted error)", PASTED_ERROR_WEIGHT))
        words = [t for t in content if t != BREAK]
        # One word is an answer ("587", "imap"), not a description: no closest example; an
        # error code alone ("0x800ccc0e", "5.7.8") is a pasted error, and is one.
        several = len(words) > 1 or any(_CODE.fullmatch(w) for w in words)
        shortlist = self._shortlist(found)
        phrases = (
            self._phrases.best(set(words), PHRASE_FLOOR, shortlist, NEGATION) if several else {}
        )
        explained: dict[str, Evidence] = {}
        factor = context_factor(context.anchored)
        for flow in sorted(set(found) | set(phrases)):
            phrase, similarity = phrases.get(flow, (None, 0.0))
            bonus = PHRASE_WEIGHT * max(0.0, similarity - PHRASE_FLOOR) / (1 - PHRASE_FLOOR)
            total = (sum(w for _, w in found[flow]) + bonus) * factor - context.penalty
            if flow == len(self.ids):
                explained[BACKGROUND] = Evidence(
                    tuple(found[flow]), phrase, round(similarity, 3), total
                )
                continue
            explained[self.ids[flow]] = Evidence(
                tuple(sorted(found[flow], key=lambda kw: (-kw[1], kw[0]))),
                phrase,
                round(similarity, 3),
                total,
            )
        return explained

    def _shortlist(self, found: Mapping[int, list[tuple[str, float]]]) -> list[int]:
        """The flows worth a closest-example search: the SHORTLIST with the most term
        evidence, and the background."""
        ranked = sorted(found, key=lambda flow: (-sum(w for _, w in found[flow]), flow))
        return [*ranked[:SHORTLIST], len(self.ids)]

    def _pasted(self, text: str) -> int | None:
        """The flow a recognised pasted error points at (through the error catalogue)."""
        if self._errors is None:
            return None
        symptom = self._errors(text)
        return self.ids.index(symptom) if symptom in self.ids else None

    def _wanted(self, specs: Mapping[str, MatchSpec]) -> set[Pattern]:
        """Words a flow asks for by hand or that its examples make specific to it."""
        wanted = {
            self._pattern(word)
            for spec in specs.values()
            for word, weight in spec.keywords
            if weight > 0
        }
        background = len(self.ids)  # its terms ("sms", "bank") are the other topics
        for term, flows in self.terms.by_term.items():
            if any(w >= WANTED_WEIGHT for flow, w in flows if flow != background):
                wanted.add(tuple(term.split(" ")))
        return wanted

    def _flow_keywords(self, spec: MatchSpec) -> dict[Pattern, float]:
        # Two spellings of one keyword ("redownload", "download again") count once: the first.
        patterns: dict[Pattern, float] = {}
        for word, weight in spec.keywords:
            patterns.setdefault(self._pattern(word), weight)
        return patterns

    def _pattern(self, text: str) -> Pattern:
        return tuple(self.normalize(text))

    def _content(self, tokens: Sequence[str]) -> list[str]:
        """The words that carry meaning, the working side of a contrast marked; a line that
        opens with a question word ("what", "which", "how") starts with the QUESTION term, so
        examples can teach that settings are asked for and symptoms are told."""
        stopwords = self.vocabulary.stopwords
        content = mark_contrast([t for t in tokens if t == BREAK or t not in stopwords])
        # two devices, one against the other ("on the laptop, not on the phone"); not the
        # same trouble on both ("not on my phone, also not on my laptop")
        if len(DEVICES.intersection(content)) >= 2 and not ALIKE.intersection(tokens):
            content = [DEVICES_TERM, BREAK, *content]
        if self._asks(tokens):
            return [QUESTION, *content]
        return content


