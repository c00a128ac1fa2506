"""From evidence to a decision: a flow id, `clarify` or `none` (docs/flow-language.md,
"Matching"), and the MatchResult that carries it.

Evidence e for a flow becomes the score e / (e + HALF): one scale and one set of thresholds for
all flows. Ratios between flows are taken on the evidence, which keeps its proportions where
the score saturates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

HALF = 5.0  # evidence at which a flow scores 0.5
ROUTE_SCORE = 0.35  # start a flow at or above this ...
ROUTE_RATIO = 0.98  # ... when the runner-up has less than this share of its evidence: a near tie
SUBJECT_ROUTE = 0.5  # a flow scoring less, when another topic is the subject: none
BARE_ROUTE_SCORE = 0.5  # the same without a single e-mail word in the text
BARE_QUESTION_SCORE = 0.6  # ... and for a question without one ("how do I install an app")
LONE_SCORE = 0.25  # ... or this, with e-mail words present and no real runner-up:
LONE_RATIO = 0.3  # the runner-up has at most this share of the best's evidence
LONE_CONTEXT = 0.5  # ... and the e-mail words weigh at least this
CLARIFY_SCORE = 0.4  # below this, only e-mail words make the text "about e-mail"
NO_CONTEXT_FACTOR = 0.4  # share of the evidence kept when no e-mail word is present
FULL_CONTEXT = 0.5  # e-mail words weighing this much keep all of it
TOPIC_WEIGHT = 3.0  # other-topic words weighing this, with no plain e-mail word: not e-mail
SHARED_WITH_CHAT = frozenset({"message", "send", "receive", "reply"})  # chat apps' words too
MAX_CANDIDATES = 3
BACKGROUND_RATIO = 0.85  # background evidence at this share of the best flow's stops routing
NEAR_LINE = 0.85  # a text this close to a vague or off-topic line ...
NEAR_MARGIN = 0.15  # ... and this much closer to it than to any example of the flow is one
NEAR_EVIDENCE = 0.5  # ... unless the flow's term evidence is over twice the background's
EXACT_LINE = 0.95  # ... or this close and closer than any example of the flow


@dataclass(frozen=True)
class Candidate:
    """A symptom the text may be about, with a score in [0, 1]."""

    id: str
    score: float


@dataclass(frozen=True)
class Evidence:
    """Why a flow scored what it did (for `--explain`).

    `keywords` are the learned terms and hand keywords found, with their weights; `phrase` is
    the flow's closest example and `phrase_similarity` its similarity in [0, 1].
    """

    keywords: tuple[tuple[str, float], ...]
    phrase: str | None
    phrase_similarity: float
    total: float


@dataclass(frozen=True)
class Context:
    """How much the text is about e-mail at all."""

    anchors: tuple[str, ...]
    offtopic: tuple[str, ...]
    anchored: float  # sum of the anchor weights
    penalty: float  # counted against every flow
    topic: float  # weight of the other topics' words that are not a mere setting (bank, calendar)
    score: float  # anchor weights minus the penalty
    plain: bool  # a word that is e-mail by itself ("mail", "inbox", "outlook") is present
    named: bool  # words of another topic name the subject ("calendar", "contacts")

    @property
    def elsewhere(self) -> bool:
        """Another topic is the subject: no word that is e-mail by itself, and other-topic
        words that are more than the setting weigh TOPIC_WEIGHT or more ("can't log in to
        my bank, password rejected", "the discord server times out")."""
        return not self.plain and self.topic >= TOPIC_WEIGHT


def like_background(background: Evidence, flow: Evidence, plain: bool = False) -> bool:
    """The text reads more like the vocabulary's vague or off-topic lines than like the flow:
    their evidence comes close to the flow's, or one of those lines is nearly the text itself
    and clearly nearer than any example of the flow ("whatsapp is not sending messages" is the
    line "text messages are not sending", not "failed to send message")."""
    if background.total >= flow.total * BACKGROUND_RATIO:
        return True
    near = background.phrase_similarity
    # the text may be an other-topic line plus the e-mail complaint it causes ("my icloud
    # storage is full, do mails to me bounce?"): a word that is e-mail by itself (`plain`)
    # and the flow's terms outweighing the line's let the complaint stand
    if plain and background.total < flow.total * NEAR_EVIDENCE:
        return False
    if near >= EXACT_LINE and near >= flow.phrase_similarity:
        return True  # nearly word for word a vague or other-topic line ("phone storage is full")
    return near >= NEAR_LINE and near >= flow.phrase_similarity + NEAR_MARGIN


def context_factor(context: float) -> float:
    """Share of the evidence that counts: words like "settings" or "arrive" say little until
    something places the text in the e-mail world (a full anchor such as "mail": all of it)."""
    return NO_CONTEXT_FACTOR + (1 - NO_CONTEXT_FACTOR) * min(1.0, max(0.0, context / FULL_CONTEXT))


def decide(
    candidates: Sequence[Candidate], about: Context, several: bool, asks: bool
) -> str:
    """A flow id, `clarify` or `none` from the ranked candidates (best first) and what the
    text is about; `several`: the text describes something (not a lone answer word such as
    "imap"); `asks`: it is a question."""
    best = candidates[0].score if candidates else 0.0
    second = candidates[1].score if len(candidates) > 1 else 0.0
    # Ratios are taken on the evidence (score s ⇔ evidence s / (1 - s) · HALF), which keeps
    # its proportions where the score saturates.
    best, second = evidence_of(best), evidence_of(second)
    context = about.score
    # Not one e-mail word ("stop syncing with this phone"): a flow needs more to start, and
    # a question needs more still: "how do I install a new app on my phone" is a general
    # question about a device, while a setup question names the mail, a server or a port.
    # Another topic and only the words e-mail shares with chat apps ("my instagram messages
    # won't send"): no flow.
    if about.topic >= TOPIC_WEIGHT and about.anchors and set(about.anchors) <= SHARED_WITH_CHAT:
        return "none"
    # Another topic is the subject, however well its words fit a flow.
    if about.elsewhere:
        return "none"
    route = ROUTE_SCORE if about.anchored > 0 else bare_route(asks)
    # Another topic named as the subject ("the Google calendar in Thunderbird keeps asking for
    # my password"): only a flow told clearly starts; "which one?" would offer mail troubles.
    if about.named and best < evidence_of(SUBJECT_ROUTE):
        return "none"
    # One reading clearly ahead starts its flow; "which one?" is for a genuine tie. A lone
    # word that is an answer ("imap", "587") starts none, however its examples weigh it.
    if several and best >= evidence_of(route) and second <= best * ROUTE_RATIO:
        return candidates[0].id
    # Plainly about e-mail and one flow alone has evidence: "which one?" would offer a
    # single sensible choice, so start it. (One word is an answer, "imap", not a problem.)
    lone = best >= evidence_of(LONE_SCORE) and second <= best * LONE_RATIO
    if several and context >= LONE_CONTEXT and lone:
        return candidates[0].id
    # A question that names nothing of e-mail is another topic, not a vague e-mail problem.
    if about.anchored == 0 and asks:
        return "none"
    if best >= evidence_of(CLARIFY_SCORE) or context >= 1.0:
        return "clarify"
    return "none"


def bare_route(asks: bool) -> float:
    """The score a flow needs when not one e-mail word is in the text."""
    return BARE_QUESTION_SCORE if asks else BARE_ROUTE_SCORE


def evidence_of(score: float) -> float:
    """The evidence behind a score in [0, 1] (the inverse of e / (e + HALF))."""
    return score / (1 - score) * HALF if score < 1 else float("inf")


def score(evidence: Evidence) -> float:
    """The score in [0, 1] of a flow's evidence (positive): e / (e + HALF), rounded."""
    return round(evidence.total / (evidence.total + HALF), 3)


def rank(explained: Mapping[str, Evidence]) -> tuple[Candidate, ...]:
    """The MAX_CANDIDATES flows with positive evidence, by score, then id."""
    scored = [
        Candidate(flow_id, score(ev)) for flow_id, ev in explained.items() if ev.total > 0
    ]
    scored.sort(key=lambda c: (-c.score, c.id))
    return tuple(scored[:MAX_CANDIDATES])


@dataclass(frozen=True)
class MatchResult:
    """The decision for one utterance (CONTRACT.md, `deskbot match`).

    `language` names the language when the text is not English (decision `none`);
    `troubles` the two flows of a line that tells two troubles (decision `clarify`).
    """

    text: str
    decision: str
    candidates: tuple[Candidate, ...]
    tokens: tuple[str, ...] = field(default=(), compare=False)
    evidence: Mapping[str, Evidence] = field(default_factory=dict, compare=False)
    anchors: tuple[str, ...] = field(default=(), compare=False)
    offtopic: tuple[str, ...] = field(default=(), compare=False)
    language: str | None = field(default=None, compare=False)
    troubles: tuple[str, ...] = field(default=(), compare=False)  # two told in one line

    def to_dict(self) -> dict[str, object]:
        """The JSON object of the contract."""
        return {
            "text": self.text,
            "decision": self.decision,
            "candidates": [{"id": c.id, "score": c.score} for c in self.candidates],
        }
