"""What a written ticket wraps around the trouble: greetings, who is writing, what was tried.

"Hi support team, my inbox is full of duplicates. Thanks in advance, Maria" tells the same
trouble as "my inbox is full of duplicates", and "Good morning. 0x800CCC0E Kind regards, John"
is a pasted error. The words of the wrapping ("team", "office manager", "restarted the computer
twice", "never had problems") name nothing of the trouble, but a matcher that learns from words
reads them as evidence all the same: "twice" for duplicates, "computer" for another device, a
negation for the failing side of a contrast (docs/flow-language.md, "Matching").

`unwrapped` takes the wrapping away and leaves the rest as typed:
- at the start: a subject line that names nothing, a greeting, a "Problem:" label, a hedge
  ("not sure this is the right place to ask, but");
- at the end: a sign-off;
- anywhere: product versions ("Outlook 2016": the name stays), asides about the writer ("sorry
  for my English"), what the customer already tried ("I've restarted the computer twice");
- whole sentences that only introduce the writer, say how urgent it is, how to call back,
  announce a trouble without telling it, say all was well before or who set it up, or nothing
  at all ("Any ideas?").
A part that names a trouble itself stays ("I'm the email admin at a school and nothing sends").
"""

from __future__ import annotations

import re
from collections.abc import Callable

# --- at the start and at the end ---------------------------------------------------------

# A ticket's subject line ("Subject: Email problem", "Re: Fwd: ...") before its text: its label
# goes; a subject that names nothing of its own goes with it (_subject).
_SUBJECT = re.compile(r"^\s*(?:(?i:subject|re|fwd?|aw)\s*:\s*)+([^\n]*)(\n|$)")
_VAGUE_SUBJECT = frozenset({
    "email", "e-mail", "mail", "emails", "problem", "problems", "issue", "issues", "help",
    "question", "urgent", "account", "support", "request", "query", "trouble", "not", "working",
    "my", "with", "the", "a", "an", "please", "needed", "assistance", "ticket", "fault", "error",
    "errors", "outlook", "thunderbird", "again", "our", "of", "for", "and", "-", "!", "?",
})
# A greeting, up to its punctuation: "Hi support team,", "Dear IT -", "Good morning.", "Hello
# there!", "Hi Maria," (only whom it greets: "hi emails not sending." keeps its trouble).
_GREETING = re.compile(
    r"^\s*(?i:hi|hello|hey|hiya|dear|greetings|good\s+(?:morning|afternoon|evening|day))\b"
    r"(?:[^\S\n]+(?:(?i:team|all|everyone|everybody|there|guys|folks|friends|support|it|sir|madam|"
    r"or|help\s*desk|service\s*desk|admin|mr|mrs|ms|dr)|[A-Z][a-z]+)){0,4}"
    r"[^\S\n]*[,.!:;\n\u2013\u2014-]+",
)
_LABEL = re.compile(r"^\s*(?:my\s+|the\s+)?(?:problem|issue|question)(?:\s+is)?\s*:\s*", re.I)
# Words that only open the line: "ok so", "so basically", "as the title says," ("ok" is no
# working side)
_OPENER = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|so|well|right|um+|uh+|hm+|basically|anyway|alright|as\s+the\s+title\s+says"
    r"|like\s+the\s+title\s+says|as\s+i\s+said)\b[\s,.!:-]*)+",
    re.IGNORECASE,
)
_HEDGE = re.compile(  # "I'm not sure if this is the right place to ask, but ..."
    r"^\s*(?:(?:i'?m\s+|i\s+am\s+)?not\s+sure\s+if\s+this\s+is\s+the\s+right\s+\w+"
    r"(?:\s+to\s+(?:ask|post))?|sorry\s+if\s+this\s+(?:has\s+been|was|is)\s+(?:asked|posted)\s+before)"
    r"\s*[,.!]?\s*(?:but\s+)?",
    re.IGNORECASE,
)
# A sign-off after a sentence, a comma or a line: "Thanks in advance, Maria", "Kind regards,
# John Smith", "Cheers!", "Thank you for your help." ("thanks", "kind regards" also after a
# space, as a chat line ends; "best" and "regards" alone only after punctuation: "my best
# customer", "with regards to the outbox"). What it takes away names no trouble (_TROUBLE).
_SIGN_OFF = re.compile(
    r"(?:(?:^|(?<=[.!?,;\n]))[^\S\n]*(?:regards|best|sincerely|yours\s+truly)"
    r"|(?:^|(?<=[.!?,;\n])|(?<=\s))[^\S\n]*(?:many\s+thanks|thanks|thank\s+you|thx|cheers|"
    r"(?:kind|best|warm|many)\s+(?:regards|wishes)))\b[,.!]*(?:[^\S\n]+[\w@'&-]+[,.!]*){0,6}\s*$",
    re.IGNORECASE,
)


# --- anywhere ----------------------------------------------------------------------------

# The version of a product, a system or a device: "Outlook 2016", "Windows 10", "iOS 17.2",
# "Thunderbird 115.12.2", "Galaxy S22" (the name stays; "outlook 2 emails stuck" is a count).
_VERSION = re.compile(
    r"\b(?:outlook|thunderbird|betterbird|windows|win|macos|ios|ipados|android|ubuntu|fedora|"
    r"iphone|ipad|pixel|galaxy|office|exchange|k-?9|evolution|mailspring|em\s+client)"
    r"[^\S\n]+(?:v(?:ersion)?\s*)?(?![245][0-9][0-9]\b)"  # "Exchange 550 5.7.1": a reply code
    r"(?:[0-9]{2,}(?:\.[0-9]+)*|[0-9]+(?:\.[0-9]+)+|[a-z][0-9]+[a-z]*)\b",
    re.IGNORECASE,
)
# An aside about the writer: "sorry for my English", "I'm not very good with computers" (its
# "not" and "computers" are no failing device).
_ASIDE = re.compile(
    r"(?:(?:and|but|,)\s+)?(?:sorry\s+for\s+my\s+(?:bad\s+|poor\s+)?english"
    r"|english\s+is\s+not\s+my\s+first\s+language|(?:i'?m|i\s+am)\s+new\s+(?:here|to\s+this)"
    r"|(?:i'?m|i\s+am)\s+(?:not\s+(?:very\s+|too\s+|so\s+)?good|hopeless|terrible|useless|bad)"
    r"\s+with\s+(?:computers|technology|tech|these\s+things|this\s+stuff))[\s.!,]*",
    re.IGNORECASE,
)
# What the customer already did about it, as a clause, and what came of it: "I've already
# restarted the computer twice", "we rebooted the router", "I searched online but found nothing".
_TRIED = re.compile(
    r"(?:(?:^|(?<=[.!?;,])|(?<=\band)|(?<=\bbut)|(?<=\bso))[^\S\n]*(?:(?:i|we)(?:'ve|\s+have)?\s+)?"
    r"|(?<=\s)(?:i|we)(?:'ve|\s+have)?\s+)"
    r"(?:(?:already|also|even|just)\s+)?"
    r"(?:restarted|rebooted|reinstalled|re-installed|power[- ]cycled|cleared|searched|googled|"
    r"(?:turned|switched)\s+(?:\w+\s+){1,2}?off(?:\s+and\s+on(?:\s+again)?)?|"
    r"tried\s+(?:restarting|rebooting|reinstalling|turning|switching|clearing|everything|all)|"
    r"looked\s+(?:online|everywhere|around|it\s+up)|read\s+(?:the\s+)?forums?)\b"
    r"[^.!?;,\n]{0,80}?(?=[.!?;,\n]|\s+(?:but|and|yet|still)\b|$)"
    r"(?:[^\S\n]*,?[^\S\n]*(?:but|and)?[^\S\n]*(?:found\s+nothing|nothing\s+(?:helped|worked)|"
    r"no\s+luck|(?:it\s+)?didn'?t\s+help|couldn'?t\s+find\s+(?:anything|a\s+solution|an\s+answer)))?",
    re.IGNORECASE,
)

# --- whole sentences ----------------------------------------------------------------------

# Who is writing: "I'm the office manager at a small dental practice.", "This is Maria from
# accounts." (a name is capitalised: the only part read with case).
_WRITER = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?i:i'?m|i\s+am|this\s+is|we\s+are|we're)\s+"
    r"(?:(?i:the|a|an)|[A-Z][a-z]+)\b[^.!?\n]{0,80}?\b(?i:at|for|of|from|in)\b[^.!?\n]{0,60}[.!?]",
)
# How urgent it is: "This is urgent, we have a deadline today."
_URGENT = re.compile(
    r"(?:^|(?<=[.!?]))[^.!?\n]{0,60}\b(?:urgent|urgently|asap|deadline|as\s+soon\s+as\s+possible)"
    r"\b[^.!?\n]{0,60}(?:[.!?]|$)",
    re.IGNORECASE,
)
# How to reach the writer: "Please call me on 555 0123.", "You can reach me at the office.",
# first at the end of a line typed without a full stop ("... please call me back").
_PLEASE_CONTACT = re.compile(
    r"(?<=\s)please\s+(?:can\s+you\s+|could\s+you\s+)?(?:call|ring|phone|text|contact)"
    r"(?:\s+(?:me|us)\b[^.!?\n]{0,60}(?:[.!?]|$)|\s*(?:back\s*)?[.!?]*\s*$)",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"(?:^|(?<=[.!?]))[^.!?\n]{0,40}\b(?:call|ring|phone|text|contact|reach)\s+(?:me|us)\b"
    r"[^.!?\n]{0,60}(?:[.!?]|$)",
    re.IGNORECASE,
)
# Words that name a trouble, and the mail itself: a part holding one is more than its framing.
_TROUBLE_WORDS = (
    r"send\w*|sent|receiv\w*|password|login|log\s+in|sign\w*\s+in|authenticat\w*|certificat\w*|"
    r"warning|outbox|inbox|mailbox|message\w*|spam|junk|bounc\w*|reject\w*|refus\w*|block\w*|"
    r"duplicat\w*|sync\w*|download\w*|slow|full|quota|storage|space|connect\w*|"
    r"server|setting\w*|port|smtp|imap|pop3?|delet\w*|disappear\w*|vanish\w*|missing|gone|lost|"
    r"stuck|error\w*|fail\w*|freez\w*|crash\w*|hang\w*|time[sd]?\s*out|arriv\w*"
)
_COUNTS = r"twice|times|again"  # "every message twice"; but "I restarted it twice" is an attempt
_MAIL_WORDS = r"e-?mails?|mail\w*|outlook|thunderbird"
_NEGATIONS = r"not|no|never|nothing|can'?t|cannot|won'?t|don'?t|doesn'?t|isn'?t|didn'?t"
_TROUBLE = re.compile(
    rf"\b(?:{_NEGATIONS}|{_TROUBLE_WORDS}|{_COUNTS}|{_MAIL_WORDS})\b", re.IGNORECASE
)
# ... in what was tried ("I reinstalled Outlook twice, no luck": no trouble of its own) ...
_TRIED_TROUBLE = re.compile(rf"\b(?:{_TROUBLE_WORDS})\b", re.IGNORECASE)
# ... and without the mail itself ("I have a problem with my email." tells nothing yet)
_NAMED = re.compile(rf"\b(?:{_TROUBLE_WORDS}|{_COUNTS})\b", re.IGNORECASE)

_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")
# A sentence that says nothing: "Quick question.", "Any ideas?", "Please advise.", "It started
# yesterday.", "What should I do?", "Is this a known issue?"
_FILLER = re.compile(
    r"\s*(?:(?:a\s+)?quick\s+question|question|any\s+ideas|please\s+advise|help(?:\s+me)?"
    r"|any\s+help(?:\s+is)?(?:\s+(?:much\s+)?appreciated)?|please\s+help(?:\s+me)?"
    r"|can\s+(?:you|someone|anyone)\s+help(?:\s+me)?(?:\s+please)?"
    r"|(?:this|it)\s+(?:all\s+)?(?:started|began|happened)(?:\s+(?:on\s+\w+|yesterday|today|"
    r"this\s+\w+|last\s+\w+|(?:a\s+few|a\s+couple\s+of|\w+)\s+(?:hours|days|weeks)\s+ago))?"
    r"|what\s+(?:should|can|do|shall)\s+(?:i|we)\s+do(?:\s+now)?"
    r"|is\s+(?:this|it|there)\s+a\s+known\s+(?:issue|problem|bug)"
    r"|is\s+there\s+a\s+(?:fix|solution)(?:\s+for\s+this)?|any\s+(?:suggestions|advice|tips|thoughts)"
    r"|how\s+(?:do|can)\s+(?:i|we)\s+fix\s+(?:this|it)|nothing\s+(?:helped|works?|worked)|no\s+luck"
    r"|(?:i\s+)?hope\s+(?:you|someone)\s+can\s+help(?:\s+me)?|lol|haha|smh|ugh"
    r"|(?:edit|update)\s*:\s*(?:still\s+(?:happening|the\s+same|broken|not\s+fixed))"
    r"|(?:it'?s|this\s+is)\s+(?:driving\s+me\s+(?:crazy|mad|nuts)|(?:so\s+|really\s+|very\s+)?(?:frustrating|annoying)))"
    r"[\s.!?:]*",
    re.IGNORECASE,
)
# A trouble announced before it is told: "I have a problem with my email.", "We're having an
# issue with Outlook:" (only when nothing of the trouble is in it: _NAMED).
_ANNOUNCE = re.compile(
    r"\s*(?:(?:i|we)\s+(?:have|'ve\s+got|got|am\s+having|are\s+having|seem\s+to\s+have|need\s+help\s+with)"
    r"|i'?m\s+having|we'?re\s+having|there\s+is|there'?s)\s+(?:a|an|some|a\s+little|a\s+strange|a\s+weird)?"
    r"\s*(?:problems?|issues?|trouble|question)(?:\s+(?:with|about|regarding)\s+[^.!?:\n]{0,40})?[\s.!:]*",
    re.IGNORECASE,
)
# All was well before: "I've had this account for 10 years and never had problems.", "It has
# always worked fine.", "Nothing has changed on my end." ...
_HISTORY = re.compile(
    r"never\s+(?:had|have\s+had|had\s+any|been)\s+(?:a\s+|any\s+)?(?:problems?|issues?|trouble)"
    r"|(?:with\s+)?no\s+(?:problems?|issues?|trouble)\b"
    r"|(?:always|has|have|had)\s+(?:always\s+)?worked(?:\s+(?:fine|well|perfectly|ok|great))?"
    r"|worked\s+(?:fine|well|perfectly|ok|great)"
    r"|nothing\s+(?:has\s+|was\s+|had\s+)?(?:been\s+)?changed(?:\s+(?:on|at)\s+(?:my|our)\s+(?:end|side))?"
    r"|(?:i|we)\s+(?:haven'?t|didn'?t|have\s+not|did\s+not)\s+changed?\s+anything",
    re.IGNORECASE,
)
# ... or who set it up: "My grandson set up my computer at Christmas."
_SETTER = re.compile(
    r"\b(?:husband|wife|son|daughter|grandson|granddaughter|grandchildren|grandkids|kids|"
    r"nephew|niece|friend|neighbou?r|technician|it\s+guy|it\s+department|someone|he|she|they)\b"
    r"[^.!?\n]{0,20}?\b(?:set\s+(?:\w+\s+){0,3}?up|installed|configured)\b",
    re.IGNORECASE,
)
# ... unless the rest of the sentence tells a trouble, a change or a question
_NEGATIVE = re.compile(
    rf"\b(?:{_NEGATIONS}|but|now|today|since|until|till|how|what|need)\b|\?|{_NAMED.pattern}",
    re.IGNORECASE,
)


def unwrapped(text: str) -> str:
    """The text without its wrapping (see the module's docstring); the text itself when
    nothing else would be left. Linear in the text's length (bounded repetitions only); a rule
    runs only where its cue word is (most lines have none: a few microseconds)."""
    inner = _SUBJECT.sub(_subject, text, count=1)
    inner = _GREETING.sub("", inner, count=1)
    inner = _HEDGE.sub("", _LABEL.sub("", _OPENER.sub("", inner, count=1), count=1), count=1)
    if _CUES["sign-off"].search(inner):
        inner = _SIGN_OFF.sub(_unless(_TROUBLE, ""), inner)
    if _CUES["version"].search(inner):
        inner = _VERSION.sub(lambda m: m.group(0).split()[0], inner)
    if _CUES["aside"].search(inner):
        inner = _ASIDE.sub(" ", inner)
    for cue, framing, keep in _FRAMINGS:
        if _CUES[cue].search(inner):
            inner = framing.sub(_unless(keep), inner)
    if _CUES["sentences"].search(inner.strip()):  # one sentence alone is the whole text
        inner = _SENTENCE.sub(_sentence, inner)
    return inner.strip() or text


# The words without which a rule cannot match: cheap to look for, unlike the rules.
_CUES = {
    name: re.compile(cue, re.IGNORECASE)
    for name, cue in {
        "sign-off": r"thank|thx|cheers|regards|best|wishes|sincerely|yours",
        "version": r"[0-9]",
        "aside": r"english|new\s+(?:here|to)|with\s+(?:comp|tech|these|this)",
        "writer": r"i'?m|i\s+am|this\s+is|we\s+are|we're",
        "urgent": r"urgent|asap|deadline|possible",
        "contact": r"call|ring|phone|text|contact|reach",
        "tried": r"restart|reboot|install|power|clear|search|googl|turn|switch|tried|look|read",
        "sentences": r"[.!?\n]\s*\S",
    }.items()
}
_FRAMINGS = (  # (cue, rule, what makes a part of it more than framing)
    ("writer", _WRITER, _TROUBLE), ("urgent", _URGENT, _TROUBLE),
    ("contact", _PLEASE_CONTACT, _TROUBLE), ("contact", _CONTACT, _TROUBLE),
    ("tried", _TRIED, _TRIED_TROUBLE),
)


def _unless(trouble: re.Pattern[str], instead: str = " ") -> Callable[[re.Match[str]], str]:
    """A replacement that takes a part of the text away unless `trouble` is found in it."""
    return lambda match: match.group(0) if trouble.search(match.group(0)) else instead


def _subject(match: re.Match[str]) -> str:
    """A subject line without its label, or nothing when it names nothing and a text follows."""
    line, body = match.group(1), match.group(2)
    words = re.findall(r"[\w-]+|[!?]", line.lower())
    return "" if body and _VAGUE_SUBJECT.issuperset(words) else f"{line}{body}"


def _sentence(match: re.Match[str]) -> str:
    """A sentence, or a space when it says nothing, announces a trouble without telling it,
    or only says that all was well before or who set it up."""
    sentence = match.group(0)
    if _FILLER.fullmatch(sentence):
        return " "
    if _ANNOUNCE.fullmatch(sentence) and not _NAMED.search(sentence):
        return " "
    rest = _SETTER.sub(" ", _HISTORY.sub(" ", sentence))
    if rest == sentence or _NEGATIVE.search(rest):
        return sentence
    return " "
