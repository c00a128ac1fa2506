"""What a written ticket wraps around the trouble: a greeting, a sign-off, who is writing.

"Hi support team, my inbox is full of duplicates. Thanks in advance, Maria" tells the same
trouble as "my inbox is full of duplicates", and "Good morning. 0x800CCC0E Kind regards, John"
is a pasted error. The words of the wrapping ("team", "office manager", "advance") name nothing
of mail, but a matcher that learns from words reads them as evidence all the same
(docs/flow-language.md, "Matching"). Only a short greeting at the start, a short sign-off at
the end and a sentence that only says who is writing are taken away; the rest stays as typed.
"""

from __future__ import annotations

import re

# A greeting that opens the text, up to its punctuation: "Hi support team,", "Dear IT -",
# "Good morning.", "Hello there!" (at most a few words: "hi, my outbox ..." keeps its trouble).
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|dear|greetings|good\s+(?:morning|afternoon|evening|day))\b"
    r"(?:[^\S\n]+[\w@'&-]+){0,4}?[^\S\n]*[,.!:;\n\u2013\u2014-]+",
    re.IGNORECASE,
)
# A ticket's subject line ("Subject: Email problem", "Re: Fwd: ...") before its text: its label
# goes; a subject that names nothing of its own goes with it.
_SUBJECT = re.compile(r"^\s*(?:(?i:subject|re|fwd?|aw)\s*:\s*)+([^\n]*)(\n|$)")
_VAGUE_SUBJECT = frozenset({
    "email", "e-mail", "mail", "emails", "problem", "problems", "issue", "issues", "help",
    "question", "urgent", "account", "support", "request", "query", "trouble", "not", "working",
    "my", "with", "the", "a", "an", "please", "needed", "assistance", "ticket", "fault", "error",
    "errors", "outlook", "thunderbird", "again", "our", "of", "for", "and", "-", "!", "?",
})
# A sign-off that closes it, after a sentence or a comma: "Thanks in advance, Maria",
# "Kind regards, John Smith", "Cheers!", "Thank you for your help."
_SIGN_OFF = re.compile(
    r"(?:^|(?<=[.!?,;\n])|(?<=\s))[^\S\n]*(?:many\s+thanks|thanks|thank\s+you|thx|cheers|"
    r"(?:kind|best|warm|many)\s+(?:regards|wishes)|regards|best|sincerely|yours\s+truly)\b"
    r"[,.!]*(?:[^\S\n]+[\w@'&-]+[,.!]*){0,6}\s*$",
    re.IGNORECASE,
)
# A sentence that only says who is writing: "I'm the office manager at a small dental
# practice.", "This is Maria from accounts."
_WRITER = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?i:i'?m|i\s+am|this\s+is|we\s+are|we're)\s+"
    r"(?:(?i:the|a|an)|[A-Z][a-z]+)\b[^.!?\n]{0,80}?\b(?i:at|for|of|from|in)\b[^.!?\n]{0,60}[.!?]",
)
# A clause that only tells what the customer already did about it: "I've already restarted the
# computer twice", "we rebooted the router", "tried reinstalling Outlook" (its words, "twice",
# "computer", are no evidence of duplicates or of another device) ...
_TRIED = re.compile(
    r"(?:(?:^|(?<=[.!?;,])|(?<=\band)|(?<=\bbut)|(?<=\bso))[^\S\n]*(?i:(?:i|we)(?:'ve|\s+have)?\s+)?"
    r"|(?<=\s)(?i:(?:i|we)(?:'ve|\s+have)?\s+))"
    r"(?i:(?:already|also|even|just)\s+)?"
    r"(?i:restarted|rebooted|reinstalled|re-installed|power[- ]cycled|cleared|"
    r"(?:turned|switched)\s+(?:\w+\s+){1,2}?off(?:\s+and\s+on(?:\s+again)?)?|"
    r"tried\s+(?:restarting|rebooting|reinstalling|turning|switching|clearing|everything|all))\b"
    r"[^.!?;,\n]{0,80}?(?=[.!?;,\n]|\s+(?i:but|and|yet|still)\b|$)",
)
# ... or how urgent it is: "This is urgent, we have a deadline today."
_URGENT = re.compile(
    r"(?:^|(?<=[.!?]))[^.!?\n]{0,60}\b(?i:urgent|urgently|asap|deadline|as\s+soon\s+as\s+possible)"
    r"\b[^.!?\n]{0,60}(?:[.!?]|$)",
)
# ... or how to reach the writer: "Please call me on 555 0123.", "You can reach me at the office."
_CONTACT = re.compile(
    r"(?:^|(?<=[.!?]))[^.!?\n]{0,40}\b(?i:call|ring|phone|text|contact|reach)\s+(?i:me|us)\b"
    r"[^.!?\n]{0,60}(?:[.!?]|$)",
)
_PLEASE_CONTACT = re.compile(  # ... asked at the end of a run-on line: "... Please call me back"
    r"(?<=\s)(?i:please)\s+(?i:can\s+you\s+|could\s+you\s+)?(?i:call|ring|phone|text|contact)"
    r"\s+(?i:me|us)\b[^.!?\n]{0,60}(?:[.!?]|$)",
)
# The version of a product, an operating system or a device: "Outlook 2016", "Windows 10",
# "iOS 17.2", "Thunderbird 115.12.2", "iPhone 13", "Galaxy S22" (the name stays).
_VERSION = re.compile(
    r"(?i:\b(?:outlook|thunderbird|betterbird|windows|win|macos|ios|ipados|android|ubuntu|fedora|"
    r"iphone|ipad|pixel|galaxy|office|exchange|k-9|k9|evolution|mailspring|em\s+client))"
    r"[^\S\n]+(?i:v(?:ersion)?\s*)?(?:[0-9]{2,}(?:\.[0-9]+)*|[0-9]+(?:\.[0-9]+)+|(?i:[a-z][0-9]+[a-z]*))\b",
)
# A sentence that only says all was well before: "I've had this account for 10 years and
# never had problems.", "It has always worked fine until now."
_HISTORY = re.compile(
    r"(?i:never\s+(?:had|have\s+had|had\s+any|been)\s+(?:a\s+|any\s+)?(?:problems?|issues?|trouble)"
    r"|(?:with\s+)?no\s+(?:problems?|issues?|trouble)\b"
    r"|(?:always|has|have|had)\s+(?:always\s+)?worked(?:\s+(?:fine|well|perfectly|ok|great))?"
    r"|worked\s+(?:fine|well|perfectly|ok|great)"
    r"|nothing\s+(?:has\s+|was\s+|had\s+)?(?:been\s+)?changed(?:\s+(?:on|at)\s+(?:my|our)\s+(?:end|side))?"
    r"|(?:i|we)\s+(?:haven'?t|didn'?t|have\s+not|did\s+not)\s+changed?\s+anything)",
)
# ... or who set it up: "My grandson set up my computer at Christmas."
_SETTER = re.compile(
    r"(?i:\b(?:husband|wife|son|daughter|grandson|granddaughter|grandchildren|grandkids|kids|"
    r"nephew|niece|friend|neighbou?r|technician|it\s+guy|it\s+department|someone|he|she|they)\b"
    r"[^.!?\n]{0,20}?\b(?:set\s+(?:\w+\s+){0,3}?up|installed|configured)\b)"
)
# ... or nothing at all: "Quick question.", "Any ideas?", "Please advise.", "It started yesterday."
_FILLER = re.compile(
    r"\s*(?i:(?:a\s+)?quick\s+question|question|any\s+ideas|any\s+help(?:\s+is)?(?:\s+(?:much\s+)?appreciated)?"
    r"|please\s+advise|please\s+help(?:\s+me)?|help(?:\s+me)?|can\s+(?:you|someone|anyone)\s+help(?:\s+me)?"
    r"(?:\s+please)?|(?:this|it)\s+(?:all\s+)?(?:started|began|happened)(?:\s+(?:on\s+\w+|yesterday|today|"
    r"this\s+\w+|last\s+\w+|(?:a\s+few|a\s+couple\s+of|\w+)\s+(?:hours|days|weeks)\s+ago))?)[\s.!?:]*"
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")
_NEGATIVE = re.compile(
    r"(?i:\b(?:not|no|never|can'?t|cannot|won'?t|don'?t|doesn'?t|isn'?t|error|fail\w*|stuck|"
    r"bounc\w*|reject\w*|full|slow|missing|gone|but|now|since|until|till|how|what|need)\b|\?)"
)
# Words that make a sentence more than an introduction: it tells the trouble too.
_TROUBLE = re.compile(
    r"\b(?:not|no|never|can'?t|cannot|won'?t|don'?t|doesn'?t|isn'?t|error|fail\w*|stuck|"
    r"bounc\w*|reject\w*|full|slow|missing|gone|password|certificate|warning|"
    r"mail\w*|e-?mails?|inbox|outbox|send\w*|receiv\w*)\b",
    re.IGNORECASE,
)


def unwrapped(text: str) -> str:
    """The text without a greeting at its start, a sign-off at its end and sentences that
    only introduce the writer; the text itself when nothing else would be left."""
    inner = _SUBJECT.sub(_subject, text, count=1)
    inner = _GREETING.sub("", inner, count=1)
    inner = _VERSION.sub(lambda m: m.group(0).split()[0], inner)
    inner = _SIGN_OFF.sub("", inner, count=1)
    for framing in (_WRITER, _URGENT, _PLEASE_CONTACT, _CONTACT, _TRIED):
        inner = framing.sub(lambda m: m.group(0) if _TROUBLE.search(m.group(0)) else " ", inner)
    inner = _SENTENCE.sub(_untroubled_history, inner)
    return inner.strip() or text


def _subject(match: re.Match[str]) -> str:
    """A subject line without its label, or nothing when it names nothing and a text follows."""
    line, body = match.group(1), match.group(2)
    words = re.findall(r"[\w-]+|[!?]", line.lower())
    return "" if body and _VAGUE_SUBJECT.issuperset(words) else f"{line}{body}"


def _untroubled_history(match: re.Match[str]) -> str:
    """A sentence, or nothing when it says nothing, or only that all was well before or who
    set it up."""
    sentence = match.group(0)
    if _FILLER.fullmatch(sentence):
        return " "
    rest = _SETTER.sub(" ", _HISTORY.sub(" ", sentence))
    if rest == sentence or _NEGATIVE.search(rest):
        return sentence
    return " "
