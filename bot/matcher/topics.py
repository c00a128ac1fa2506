"""How much a line is about e-mail: its e-mail words (anchors), other topics' words, and
whether those are the subject or only the setting (docs/flow-language.md, "Matching").

"my hotel wifi blocks mail ports" is e-mail told with a place; "my bank password is
rejected" is a bank told with an e-mail word. The vocabulary's `anchors`, `offtopic`,
`circumstances` and `circumstances_waived_by` sections, in canonical form, are the data.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Sequence, Set
from dataclasses import dataclass

from bot.matcher.clauses import DENIES, contrasts
from bot.matcher.decide import Context
from bot.matcher.patterns import Pattern, PatternIndex
from bot.matcher.vocabulary import Vocabulary

CONTRAST_CONTEXT = 0.5  # how much a contrast of places says the text is about a connection
SUBJECT_WORDS = 2  # other-topic words (not places) that are the subject, e-mail words or not
SUBJECT_WEIGHT = 6.0  # ... or one other-topic word this heavy: a mail app's calendar, signature
PLAIN_WEIGHT = 1.0  # an anchor weighing this is e-mail by itself ("mail", "inbox", "outlook")


# An enhanced status code (RFC 3463 §2: class.subject.detail)
ENHANCED_STATUS = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")


def smtp_reply(tokens: Sequence[str]) -> bool:
    """An SMTP reply code followed by an enhanced status code of the same class ("554 5.7.1",
    "421 4.7.0"; RFC 5321 §4.2, RFC 3463 §2): only mail speaks so, whatever else the line
    names ("Postal: 554 5.7.1 Relay access denied", Postal being a mail server)."""
    return any(
        len(code) == 3 and code.isdigit() and code[0] in "245"
        and enhanced.startswith(code[0] + ".") and bool(ENHANCED_STATUS.fullmatch(enhanced))
        for code, enhanced in itertools.pairwise(tokens)
    )


# Words that make a place or network the setting of a trouble: "on hotel wifi", "from my
# phone's hotspot", "over the vpn", "at the office network".
SETTING_WORDS = frozenset({
    "on", "over", "from", "at", "in", "via", "through", "behind", "using", "with", "to", "into",
    "off", "without", "when", "while", "outside",
})
SETTING_REACH = 3  # words between the setting word and the place ("on the airport wifi")


def _as_setting(tokens: Sequence[str], place: Pattern) -> bool:
    """The place is told where the trouble happens: a setting word shortly before it."""
    for i in range(len(tokens) - len(place) + 1):
        if tuple(tokens[i : i + len(place)]) == place:
            return bool(SETTING_WORDS.intersection(tokens[max(0, i - SETTING_REACH) : i]))
    return True  # found in another spelling: the setting, as before


@dataclass(frozen=True)
class Topics:
    """The canonical anchors and other-topic words, and which of those are a setting."""

    anchors: PatternIndex[float]
    offtopic: PatternIndex[float]
    circumstances: Collection[Pattern]  # places and networks: hotel, Wi-Fi, VPN, browser
    medium: Collection[str]  # e-mail words that make a circumstance the setting ("send")

    @classmethod
    def from_vocabulary(
        cls, vocabulary: Vocabulary, pattern: Callable[[str], Pattern], wanted: Set[Pattern]
    ) -> Topics:
        """The vocabulary's sections in canonical form (`pattern`: text → canonical words);
        an off-topic word that some flow's examples ask for (`wanted`) is on topic, whatever
        the shared list says."""
        anchors: PatternIndex[float] = PatternIndex(vocabulary.stopwords)
        for words, weight in vocabulary.anchors.items():
            anchors.add(pattern(" ".join(words)), weight)
        # two spellings of one word ("caldav" is "calendar") count once, at the higher weight
        weights: dict[Pattern, float] = {}
        for words, weight in vocabulary.offtopic.items():
            canonical = pattern(" ".join(words))
            weights[canonical] = max(weight, weights.get(canonical, 0.0))
        offtopic: PatternIndex[float] = PatternIndex(vocabulary.stopwords)
        for canonical, weight in weights.items():
            if canonical not in wanted:
                offtopic.add(canonical, weight)
        return cls(
            anchors,
            offtopic,
            frozenset(pattern(" ".join(c)) for c in vocabulary.circumstances),
            frozenset(" ".join(pattern(" ".join(c))) for c in vocabulary.circumstances_waived_by),
        )

    def context(self, tokens: Sequence[str]) -> Context:
        """The context of a line's canonical tokens (a sign said to be absent is still a word of
        its topic: "it doesn't prompt for a password" is about a mail login)."""
        tokens = [t.removeprefix(DENIES) for t in tokens]
        anchors = self.anchors.found(tokens)
        offtopic = self.offtopic.found(tokens)
        anchored = sum(w for _, w in anchors)
        contrast = contrasts(tokens)
        if contrast:
            # Where it works set against where it fails is how a broken connection is told.
            anchored += CONTRAST_CONTEXT
        # With a plain e-mail word present ("my hotel wifi blocks mail ports") other topics
        # are the setting, not the subject: they count half; places and networks (hotel,
        # Wi-Fi, VPN) not at all once a word of the medium is there ("send", "inbox"), or
        # when the text sets a place that works against one that fails ("works on wifi, not
        # on mobile data", "only works when I turn off the vpn"): a network told as a contrast.
        # Only a word that is e-mail by itself ("mail", "inbox", "outlook") does that:
        # "message" and "send" are what chat apps do too ("my instagram messages won't send").
        plain = any(w >= PLAIN_WEIGHT for _, w in anchors) or smtp_reply(tokens)
        waived = any(" ".join(p) in self.medium for p, _ in anchors) or contrast
        # a place or network told as what has the trouble ("my vpn won't let me log in", "the
        # router says connection timed out"), not where ("on the hotel wifi"), is the subject
        subject = [
            (p, w) for p, w in offtopic
            if p not in self.circumstances or not (waived or plain or _as_setting(tokens, p))
        ]
        # ... unless two words of other topics, or one weighing SUBJECT_WEIGHT ("calendar",
        # "signature"), make another topic the subject ("contacts I change on the phone never
        # show in the webmail address book"): they count in full.
        named = len(subject) >= SUBJECT_WORDS or any(w >= SUBJECT_WEIGHT for _, w in subject)
        factor = 0.5 if plain and not named else 1.0
        topic = sum(w for _, w in subject)
        penalty = sum(
            0.0 if waived and p in self.circumstances else w * factor for p, w in offtopic
        )
        return Context(
            tuple(" ".join(p) for p, _ in anchors),
            tuple(" ".join(p) for p, _ in offtopic),
            anchored,
            penalty,
            topic,
            anchored - penalty,
            plain,
            named,
        )
