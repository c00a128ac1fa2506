"""The shape of a customer's line: its clauses, the side of a contrast that works, a question.

"I can send but not receive", "it's in webmail, not in the app", "works at home, not at the
office": a clause without the negation says what works. The matcher marks its words (the
WORKS prefix) in the examples and in the text alike, so the terms learned from them speak for
the failing side; and a place that works set against one that fails is how a blocked
connection is told (docs/flow-language.md, "Matching").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from bot.matcher.patterns import BREAK

WORKS = "ok:"  # marks the words of the working side of a contrast (see mark_contrast)
WORKING = frozenset({"work", "fine", "ok", "correct"})  # canonical words of a working side
# ... and of a side that has the mail, set against one that names a trouble: "inbox empty
# even though webmail shows 20 unread"
PRESENT = frozenset({"see", "arrive", "visible"})
FAILING = frozenset({"not", "fail", "broken", "timeout", "dead"})  # ... and of a failing one
# Canonical words that name a trouble by themselves: a clause holding one is no working side.
TROUBLE = FAILING | {
    "full", "stuck", "error", "bounce", "slow", "quota", "wrong", "reject", "refuse",
    "warning", "duplicate", "twice", "vanish", "expire", "locked", "untrusted", "unreachable",
    "undeliverable", "spam", "blacklist", "large", "thousands", "delete", "waiting", "limit",
    "exceeded", "empty",
}
SHORT_SIDE = 4  # words of a clause that is a working side by itself ("in webmail", "at home")
ONLY = "only"  # "only works on mobile data": the other places fail
NEGATION = "not"  # the vocabulary's canonical negation
UNSURE = frozenset({"know", "sure", "understand", "remember", "idea", "think"})  # after "not"
# ... or denies a trouble: "never had problems", "nothing has changed" (changed: "reset")
DENIED = frozenset({"problem", "reset", "different"})
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


def fails(clause: Sequence[str]) -> bool:
    """The clause says something does not work: a negation that is not about what the
    customer knows ("I don't know what that means", "not sure") nor denies a trouble ("never
    had problems", "nothing has changed")."""
    negated = [
        right for left, right in itertools.pairwise((*clause, BREAK))
        if left == NEGATION and right not in UNSURE and right not in DENIED
        and not _denies_sign(clause, right)
    ]
    return bool(negated) and len(set(clause)) > 1


def _denies_sign(clause: Sequence[str], right: str) -> bool:
    """The negation only says a sign is absent ("no warning", "doesn't show any error")."""
    return right.startswith(DENIES) or (
        right in SEEN and any(t.startswith(DENIES) for t in clause)
    )


def asks_later(tokens: Sequence[str]) -> bool:
    """A later clause opens with a wh-word: "got a new laptop, how do I get my mail on it".
    Only wh-words: after a comma "can" or "is" opens a statement as often as a question."""
    return any(
        left == BREAK and right in WH_WORDS for left, right in itertools.pairwise(tokens)
    )


# "how do I ...", "can I ...", "is there a way to ...": how to do something, asked without a
# word of trouble ("how do I make text bold in an email", "can I schedule an email") ...
HOW_TO = (
    ("how",), ("can", "i"), ("could", "i"), ("can", "you", "show"), ("is", "there", "a", "way"),
    ("whats", "the", "best"), ("which", "is", "the", "best"),
)
# ... unless it asks for help with the mail itself ("can you fix my email", "how do I get my
# emails back", "how do I get outlook to send", "how do I get rid of the security warning")
HELP = frozenset({
    "help", "fix", "problem", "check", "stop", "solve", "repair", "support", "back", "rid",
    "recover", "restore", "again", "work", "access", "open", "send", "receive", "download",
    "sync", "login", "connect", "password", "warning", "certificate",
})


# What the customer does NOT see: "there's no warning", "it doesn't show any error or password
# box", "without any complaint". A sign denied is no sign of its flow: its words get the
# DENIES mark ("no:warning"), in the examples and in the text alike.
DENIES = "no:"
SIGNS = frozenset({
    "error", "warning", "ask", "password", "login", "box", "certificate", "complains",
    "notification", "bounce", "undeliverable", "exclamation", "code",
})
# "no error or password box", "doesn't ask for my password", "no security warning"
SIGN_LIST = frozenset({"or", "and", "nor", "any", "a", "an", "for", "my", "the", "security",
                       "ssl", "tls"})
SEEN = frozenset({"any", "a", "an", "see", "get", "got", "there", "single", "kind", "of"})
DENIERS = frozenset({NEGATION, "without", "zero"})
SEEN_REACH = 3  # words between "not" and the sign ("doesn't show any kind of error")


def denied(tokens: Sequence[str]) -> list[str]:
    """The canonical tokens with each sign the customer says is absent marked with DENIES:
    "no error or warning at all" → "not no:error or no:warning at all"."""
    out = list(tokens)
    for i, token in enumerate(tokens):
        if token not in DENIERS:
            continue
        j = i + 1
        while j < len(tokens) and j - i <= SEEN_REACH and tokens[j] in SEEN:
            j += 1
        while j < len(tokens) and (tokens[j] in SIGNS or tokens[j] in SIGN_LIST):
            if tokens[j] in SIGNS:
                out[j] = DENIES + tokens[j]
            j += 1
    return out


def asks_how_to(tokens: Sequence[str]) -> bool:
    """The line asks how to use mail, and tells no trouble: "how do I attach a photo to an
    email", "what's the best email client for Linux". A help desk's question about a mail
    app's features is no fault to diagnose."""
    words = [t for t in tokens if t != BREAK]
    opens = any(tuple(words[: len(o)]) == o for o in HOW_TO)
    return opens and not troubled(words) and not HELP.intersection(words) and "why" not in words


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
    # "..., but it's not" says nothing about a place or a side: no contrast; nor does "I
    # don't know what that means".
    failing = [fails(c) for c in clauses]
    # "my mailbox is full, I can't receive": a clause naming a trouble is its cause, not
    # the side that works; nor is one telling what keeps happening ("the same batch arrives
    # again and again, we deleted them").
    works = [not f and not troubled(c) for f, c in zip(failing, clauses, strict=True)]
    # a longer clause says that it works: "cannot deliver, send or even log in from
    # Thunderbird to my server" lists more of what fails
    works = [w and (len(c) <= SHORT_SIDE or bool((WORKING | PRESENT).intersection(c)))
             for w, c in zip(works, clauses, strict=True)]
    if not any(failing):
        # No negation, but a clause says it works ("Outbox (3) for two days, inbox is fine")
        # or has the mail, beside one naming a trouble ("inbox empty, webmail shows 20").
        trouble_told = any(TROUBLE.intersection(c) for c in clauses)
        present = WORKING | PRESENT if trouble_told else WORKING
        works = [w and bool(present.intersection(c)) for w, c in zip(works, clauses, strict=True)]
    # the sides said ("is 587 right?" ends with an empty clause: no side)
    said = [w for w, c in zip(works, clauses, strict=True) if c]
    if len(said) < 2 or not any(said) or all(said):
        return content
    marked: list[str] = []
    for clause, working in zip(clauses, works, strict=True):
        if marked:
            marked.append(BREAK)
        marked.extend([WORKS + t for t in clause] if working else clause)
    return marked


# "..., and also ...", "... plus ...": a second thing added to the first.
ALSO = frozenset({"also", "plus", "additionally", "addition", "separately"})
# "... the outbox too", "... not any new ones either", "... as well": at the end of a clause.
ALSO_AT_END = frozenset({"too", "either", "well"})
SEVERAL = frozenset({"two", "2", "several", "multiple", "couple"})  # "two problems: ..."
PROBLEMS = frozenset({"problem", "things"})  # "problem", "issue", "trouble"; "two things"
JOINS = frozenset({"and", BREAK})
PLACES = frozenset({"on", "in", "from", "at", "with", "for"})  # "also not on my laptop"
# "I also tried restarting": what the customer did about it, not a second trouble.
ATTEMPTS = frozenset({
    "tried", "try", "restart", "reinstall", "remove", "removed", "delete", "deleted", "check",
    "checked", "reset", "change", "changed", "update", "updated", "contact", "contacted",
    "call", "called", "ask", "asked", "have", "did", "done",
})


def two_troubles(tokens: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """The two parts of a line that adds a second trouble to a first: "it keeps asking for
    my password and also some mails are stuck in the outbox", "the mailbox is full and my
    messages are stuck in the outbox too", "two problems: ... and ...". None when the line
    adds nothing, or adds what the customer tried ("I also restarted the phone").

    Only words that add make the split: "and" alone joins a trouble and its consequence as
    often ("never got my messages and they are still in my outbox"). What "too" or "either"
    ends must name a trouble itself ("the outbox is stuck too", "not any new ones either").
    A numbered list ("1) ... 2) ...") gives its first two items.
    """
    for i, token in enumerate(tokens):
        later = tokens[i + 1 :]
        # "also not on my laptop": the same trouble in another place
        if token in ALSO and later[:1] == [NEGATION] and PLACES.intersection(later[1:2]):
            return None
        if token in ALSO and not ATTEMPTS.intersection(later[:1]):
            start = i - 1 if i and tokens[i - 1] in JOINS else i
            return _both(tokens[:start], later)
        at_end = not later or later[0] == BREAK
        if token in ALSO_AT_END and at_end and (token != "well" or tokens[i - 1 : i] == ["as"]):
            joins = [j for j in range(i) if tokens[j] in JOINS]
            added = tokens[joins[-1] + 1 : i] if joins else []
            # "... and I need it on my phone too" adds a wish, not a trouble
            if TROUBLE.intersection(added):
                return _both(tokens[: joins[-1]], added)
        # "as well as": a second thing beside the first ("I tried 587 as well as 465" is not)
        if (token == "well" and tokens[i - 1 : i] == ["as"] and later[:1] == ["as"]
                and not ATTEMPTS.intersection(tokens[: i - 1])):
            return _both(tokens[: i - 1], later[1:])
        if token in SEVERAL and PROBLEMS.intersection(later[:1]):
            # "two problems: ... and ...", "I have 2 issues, ... and ..."
            listed = list(later[1:])
            while listed[:1] == [BREAK]:
                listed.pop(0)
            joins = [j for j, t in enumerate(listed) if t in JOINS]
            if joins:
                return _both(listed[: joins[0]], listed[joins[0] + 1 :])
    # "1) the outbox is stuck 2) my password is rejected": a numbered list
    start = 0
    while start < len(tokens) and tokens[start] in SEVERAL | PROBLEMS | {BREAK}:
        start += 1
    if tokens[start : start + 1] == ["1"] and "2" in tokens[start + 1 :]:
        second = tokens.index("2", start + 1)
        return _both(tokens[start + 1 : second], tokens[second + 1 :])
    for i, token in enumerate(tokens[:-1]):
        # ", and ...": a clause of its own added to the first
        if token == BREAK and tokens[i + 1] == "and" and troubled(_clause(tokens[i + 2 :])):
            return _both(tokens[:i], tokens[i + 2 :])
        # "... and can't receive", "... and I cannot log in": a second failure (after a
        # comma alone it is as often a denial: "not syncing, no auth errors")
        if (token == "and" and NEGATION in tokens[:i] and NEGATION in tokens[i + 1 : i + 3]
                and fails(tokens[i + 1 : i + 4])):  # not "... and I have no idea why"
            return _both(tokens[:i], tokens[i + 1 :])
    return None


# "I added my account and ...": what the customer did before the trouble, not a trouble.
DONE = ATTEMPTS | {
    "added", "add", "setup", "installed", "install", "moved", "switched", "upgrade", "upgraded",
    "migrated", "created", "bought", "got", "configured",
}
# "... and now ...", "... and so ...", "... and I'll stop getting mail", "... and it turned out
# ...": what follows "and" is what the first trouble leads to or why, not a second trouble.
CONSEQUENCE = frozenset({
    "now", "so", "therefore", "thus", "ill", "will", "turned", "turns", "seems", "seemed",
})
PRONOUNS = frozenset({"it", "that", "this"})  # "... and it turned out": the word after counts
SPEAKERS = frozenset({"i", "we"})
AGAIN = frozenset({"keep", "ask", "again"})  # "keeps asking", "again and again"
MAX_JOINS = 3  # plain "and"s looked at in one line: the cost stays bounded on a pasted log


def joined(tokens: Sequence[str]) -> list[tuple[list[str], list[str]]]:
    """Where a plain "and" may join two troubles, first "and" first: the words before it and
    the words after it, when the clause just before it and the one just after it each tell
    something wrong ("my emails bounce back and my inbox has stopped syncing"). Not where the
    clause before tells what the customer did ("I set up POP on the phone and ...") or the one
    after opens with a consequence ("... and now", "... and so").

    "and" alone joins one trouble and its consequence as often as two troubles: whether each
    side names a trouble of its own is for the matcher to judge, side by side.
    """
    ands = [i for i, token in enumerate(tokens) if token == "and"][:MAX_JOINS]
    ends = [-1, *ands, len(tokens)]
    splits: list[tuple[list[str], list[str]]] = []
    for k, i in enumerate(ands):
        before, after = tokens[ends[k] + 1 : i], tokens[i + 1 : ends[k + 2]]
        done = [t for t in before if t not in SPEAKERS and t != BREAK][:1]
        opens = [t for t in after[:2] if t not in PRONOUNS][:1]
        # "... and tried three times, same thing": what the customer did, not a trouble
        if CONSEQUENCE.intersection(opens) or DONE.intersection(done) or ATTEMPTS.intersection(
            t for t in after[:2] if t not in SPEAKERS
        ):
            continue
        if len(before) >= 2 and len(after) >= 2 and troubled(before) and troubled(after):
            splits.append((list(tokens[:i]), list(tokens[i + 1 :])))
    return splits


# "... because ...", "..., so ...", "... since ...": the line says which trouble causes which
BECAUSE = frozenset({"because", "cause", "since", "so", "due"})


def caused(tokens: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """The two sides of the first causal word between clauses that each tell something wrong
    ("I don't receive mail because my inbox is full", "the server times out, so my mails stay
    in the outbox"); None without one."""
    for i, token in enumerate(tokens):
        if token in BECAUSE:
            before = [t for t in tokens[:i] if t != BREAK]
            after = [t for t in tokens[i + 1 :] if t != BREAK]
            if len(before) >= 2 and len(after) >= 2 and troubled(before) and troubled(after):
                return before, after
    return None


SEND, RECEIVE, BOTH_WAYS = "send", "receive", "sendreceive"  # the vocabulary's canonical words
FETCHES = frozenset({"download", "arrive", "receive", "get", "fetch", "load", "sync", "bring"})
# what one does to Outlook's Send/Receive button, and what the button does
PRESSES = frozenset({"press", "click", "hit", "tap", "run", "ran"})
BUTTON = frozenset({"button", "finish", "runs", "succeeds", "successful", "done"})


def both_ways(content: Sequence[str]) -> bool:
    """The line tells that mail neither goes out nor comes in: "can't send or receive",
    "sending and receiving both stopped", "problems sending and receiving" (not Outlook's
    Send/Receive button: "send/receive finishes without error")."""
    for i, token in enumerate(content):
        if token == BOTH_WAYS:
            before, after = content[max(0, i - 2) : i], content[i + 1 : i + 3]
            button = PRESSES.intersection(before) or BUTTON.intersection(after[:1])
            if button or FETCHES.intersection(after):
                # the button: "I click Send/Receive and nothing comes in", "Send/Receive
                # doesn't download anything", "Send/Receive finishes without errors"
                continue
            if {*before, *after} & {NEGATION, "neither", "both", "problem", "fail", "broken"}:
                return True
    return False


def told(part: Sequence[str]) -> list[str]:
    """A part of a line without its clauses that tell what the customer did ("tried again
    twice, same result"): they say nothing of which trouble it is."""
    kept: list[str] = []
    clause: list[str] = []
    tried = False
    for token in (*part, BREAK):
        if token not in JOINS:
            clause.append(token)
            continue
        opens = [t for t in clause if t not in SPEAKERS][:1]
        # "tried again twice, same result": the attempt and what came of it
        tried = bool(ATTEMPTS.intersection(opens) or (tried and opens == ["same"]))
        if clause and not tried:
            kept.extend([*clause, token])
        clause = []
    return kept[:-1] if kept else []


def _clause(tokens: Sequence[str]) -> list[str]:
    """The words up to the next clause boundary or "and"."""
    words: list[str] = []
    for token in tokens:
        if token in JOINS:
            break
        words.append(token)
    return words


def troubled(clause: Sequence[str]) -> bool:
    """The words tell something wrong: a negation that denies no sign ("doesn't show any
    error" tells nothing wrong), a trouble word, or what keeps happening."""
    named = TROUBLE.intersection(clause) - {NEGATION}
    return bool(named or AGAIN.intersection(clause) or fails(clause))


def _both(first: Sequence[str], second: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """Both parts, when each says something."""
    def says(part: Sequence[str]) -> bool:
        return any(t != BREAK for t in part)
    return (list(first), list(second)) if says(first) and says(second) else None


# The end of a sentence, outside quotes: the next one starts with a capital letter.
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)'])[.!?]+\s+(?=[A-Z])")
_QUOTED = re.compile(r'("[^"]*")')


def told_apart(text: str) -> str:
    """The text with each end of a sentence outside quotes read as "and": a pasted error in
    quotes keeps its own sentences."""
    pieces = _QUOTED.split(text)
    return "".join(
        piece if index % 2 else _SENTENCE_END.sub(" and ", piece)
        for index, piece in enumerate(pieces)
    )
