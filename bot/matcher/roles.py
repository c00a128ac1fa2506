"""Who the people in a line are, and what its counts count: rewrites of the canonical tokens
that the learned terms read alike in the examples and in the text.

The vocabulary reads "customers", "clients", "colleagues" as recipients of the customer's mail;
here mail that comes FROM them makes them senders ("invoices from our biggest client"), the
people a mail of the customer's does not reach become recipients ("my sister says she never
gets my emails"), and an amount of duplicates is a count of copies, not a mailbox grown large
("thousands of duplicates").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.matcher.clauses import NEGATION
from bot.matcher.patterns import BREAK

RECIPIENT, SENDER = "recipient", "sender"  # the vocabulary's canonical words
FROM_REACH = 3  # words between "from" and the people it names ("from our biggest client")


def senders(tokens: Sequence[str]) -> list[str]:
    """The tokens with the people mail comes from named as senders: the vocabulary reads
    "customers", "clients", "colleagues" as the recipients of the customer's mail ("my clients
    never get my emails"), but "invoices from our biggest client" and "mail from colleagues"
    are mail the customer should receive."""
    out = list(tokens)
    for i, token in enumerate(tokens):
        if token != RECIPIENT:
            continue
        for before in reversed(tokens[max(0, i - FROM_REACH) : i]):
            if before in ("to", BREAK):
                break
            if before == "from":
                out[i] = SENDER
                break
    return out


# "thousands of duplicates", "400 copies": a count of the copies, no large mailbox
AMOUNTS = frozenset({
    "thousands", "hundreds", "full", "multiple", "dozens", "dozen", "three", "four", "five",
    "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty", "fifty",
})
COUNTED = frozenset({"duplicate", "same"})  # the vocabulary's canonical words
OF = frozenset({"of", "with", "the"})  # "full of copies", "filling up with the same letters"


def counted(tokens: Sequence[str]) -> list[str]:
    """The tokens with an amount of duplicates read as "multiple": "the inbox has thousands of
    duplicates" or "is filling up with the same letters" tells duplicates, not a mailbox grown
    large."""
    out = list(tokens)
    for i, token in enumerate(tokens):
        if token in AMOUNTS or token.isdigit():
            after = [t for t in tokens[i + 1 : i + 4] if t not in OF][:1]
            if COUNTED.intersection(after):
                out[i] = "multiple"
    return out


# Who else may be the one a mail of the customer's does not reach ("my sister never gets my
# emails", "people don't receive my messages"): the recipients.
OTHERS = frozenset({
    "people", "friends", "friend", "family", "members", "contacts", "contact", "they", "he",
    "she", "anyone", "everyone", "someone", "somebody", "wife", "husband", "partner", "boss",
    "sister", "brother", "mother", "mum", "mom", "father", "dad", "son", "daughter", "kids",
    "children", "parents", "granddaughter", "grandson", "relatives", "team", "staff",
})
RECEIVES = frozenset({"get", "receive", "see"})  # ... what they do not do with it
ARRIVES = frozenset({"arrive", "reach", "receive", "get"})  # ... what it does not do
REACHES = frozenset({"reach", "reaches", "reached"})  # "doesn't reach my sister"
SENDS = frozenset({"send", "sent"})  # "emails I send to my son"
TELLS = frozenset({"tell", "tells", "told", "say", "says", "said", "report", "reports"})
MINE = frozenset({"my", "our"})
OUTBOX, MAIL = "outbox", "mail"  # the vocabulary's canonical words
DELIVERED = "delivered"  # what a recipient gets: mail delivered, not mail the customer gets


def recipients(tokens: Sequence[str]) -> list[str]:
    """The tokens with the people a mail of the customer's does not reach named as recipients,
    and what they do not get as mail not `delivered`: "my sister says she never got my email",
    "he doesn't receive anything from me", "customers tell me my emails never arrive"; and
    whom it is for: "my emails don't reach my sister", "emails I send to my son". In "I don't
    get my emails" nobody is. Not when the mail is still in the outbox: it never left ("he
    never got my emails, they're still in the outbox")."""
    out = list(tokens)
    if OUTBOX in tokens:
        return out
    others = OTHERS | {RECIPIENT}
    teller = next((i - 1 for i, t in enumerate(tokens) if t in TELLS and i and tokens[i - 1]
                   in others), None)
    for i, token in enumerate(tokens):
        later = tokens[i + 1 : i + 5]
        if teller is not None and i > teller and token in ARRIVES and (
            tokens[i - 2 : i] == [MAIL, NEGATION]
        ):
            out[teller], out[i] = RECIPIENT, DELIVERED  # "... tell me my emails never arrive"
        elif token in RECEIVES and (MINE.intersection(later[:1]) or _from_me(later)):
            subject = i - 1
            while subject >= 0 and tokens[subject] == NEGATION:
                subject -= 1
            if subject >= 0 and tokens[subject] in others:
                out[subject] = RECIPIENT
                if token != "see":
                    out[i] = DELIVERED
        elif token in REACHES or (token in SENDS and later[:1] == ["to"]):
            start = i + 1 + (later[:1] == ["to"])
            reached = [t for t in tokens[start : start + 2] if t not in MINE][:1]
            if reached and reached[0] in OTHERS:
                out[tokens.index(reached[0], start)] = RECIPIENT
    return out


def _from_me(words: Sequence[str]) -> bool:
    """The words say the mail comes from the customer ("anything from me")."""
    return any(a == "from" and b in ("me", "us") for a, b in itertools.pairwise(words))
