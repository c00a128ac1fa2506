"""Which language a customer's line is in: English, or the other language to name.

deskbot speaks English only; a line in another language gets decision `none` and a reply in
English that says so (docs/flow-language.md, "Matching"). Two signals, both deterministic:
the script (a line mostly in Cyrillic, Greek, Arabic, CJK ... letters) and, for Latin-script
languages, the common words listed in the vocabulary's `foreign` section. A quoted part ("the
error says 'Der Server hat die Verbindung abgelehnt'") is what an app showed, not the
customer's language, and is left out when the rest holds words of its own.

A library was measured first (py3langid 0.4: 0.66 s to load, and it calls short English
e-mail lines French or Italian: "emails duplicated", "certificate invalid"); lingua's wheel is
96 MB. Word lists over the ten languages customers write in do better on these lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence

# Letters outside Latin, by the first word of their Unicode name → how the reply names them.
_SCRIPTS = {
    "CYRILLIC": "Cyrillic script", "GREEK": "Greek", "ARABIC": "Arabic script",
    "HEBREW": "Hebrew", "CJK": "Chinese or Japanese", "HIRAGANA": "Japanese",
    "KATAKANA": "Japanese", "HANGUL": "Korean", "THAI": "Thai", "DEVANAGARI": "Hindi",
    "ARMENIAN": "Armenian", "GEORGIAN": "Georgian", "BENGALI": "Bengali", "TAMIL": "Tamil",
}
# What a quote is wrapped in: straight, curly and angle quotes.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|‘[^’]*’|„[^“”]*[“”]|«[^»]*»")
MIN_OWN_WORDS = 2  # the words outside quotes that make them the customer's own


def script_language(text: str) -> str | None:
    """The name of a non-Latin script that makes up most of the letters (two at least)."""
    counts: dict[str, int] = {}
    latin = 0
    for char in text:
        if not char.isalpha():
            continue
        if char.isascii():
            latin += 1
            continue
        name = unicodedata.name(char, "LATIN")
        if "LATIN" in name:  # accented and fullwidth Latin letters too ("ｍａｉｌ")
            latin += 1
        else:
            first = name.split(" ", 1)[0]
            counts[first] = counts.get(first, 0) + 1
    if not counts:
        return None
    script, found = max(counts.items(), key=lambda item: (item[1], item[0]))
    if found >= 2 and found >= latin:
        return _SCRIPTS.get(script, f"{script.title()} script")
    return None


def unquoted(text: str) -> str:
    """The text without its quoted parts, when what is left is a sentence of its own (the
    quoted error a customer pastes may be in any language and script)."""
    rest = _QUOTED.sub(" ", text)
    return rest if len(rest.split()) >= MIN_OWN_WORDS else text


def word_language(
    tokens: Sequence[str],
    foreign: Mapping[str, Collection[str]],
    english: Collection[str],
    universal: Collection[str],
) -> str | None:
    """The Latin-script language whose common words make up the line; None: English.

    Words every language uses for e-mail (`universal`: "mail", "outlook", "smtp") do not
    count, nor does a listed word that is an `english` stopword too ("an", "me"). Two
    distinct common words of one language at least, more of them than English stopwords, and
    half the remaining words or more: "mijn e-mail wordt niet verzonden" is Dutch, "my email
    is on the Bodensee server" and "the message says el servidor no responde" stay English.
    """
    words = [t for t in tokens if t.isalpha() and len(t) > 1 and t not in universal]
    own = sum(1 for w in words if w in english)
    for name, common in foreign.items():
        hits = len({w for w in words if w in common and w not in english})
        if hits >= 2 and hits > own and 2 * hits >= len(words):
            return name
    return None
