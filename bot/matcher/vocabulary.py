"""The shared domain vocabulary: turns what a customer types into canonical tokens.

Knowledge lives in `flows/_vocabulary.yaml`; this module only applies it:
contractions → multi-word synonyms (longest first) → spelling repair of unknown words
(inflection, run-together words, rapidfuzz against the known words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.english import SUFFIXES, bases, english_word
from bot.matcher.language import script_language, unquoted, word_language
from bot.matcher.patterns import BREAK
from bot.yamlguard import listed_twice

# An address is a whole word holding an @. Anchored at a word start and possessive, so a long
# word without one is scanned once, not once per letter (`\S+@\S+` is quadratic there).
_ADDRESS = re.compile(r"(?<!\S)[^\s@]++@\S+")
_APOSTROPHE = re.compile(r"['’`´]")
# A dotted run ("imap.mail.me.com", "5.7.8"), matched once from its first character, each part
# possessively: linear in its length (a pasted "a.a.a..." must not take seconds). _host_words
# reads a host name as its service and provider; the labels between ("mail.me") would read as
# words they are not.
_DOTTED = re.compile(r"(?<![a-z0-9.-])[a-z0-9-]++(?:\.[a-z0-9-]++)++")
_TLD = re.compile(r"[a-z]{2,24}")  # a top-level domain: letters only
MAX_LABELS = 127  # a host name has at most this many labels (RFC 1035: 253 characters)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov"})  # "example.co.uk"
# Keeps error codes whole: "5.7.8", "0x800ccc0e", "4.4.1".
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*|[,;!?]|(?<!\.)\.(?=\s|$)|\s-\s")
# A count, not a code or a port: "30,000", "12.500" (thousands separated) or five digits and
# more ("20000 emails"). It reads "thousands", a word the vocabulary knows; an error's number
# ("socket error 10060", "code 12345") stays a code.
_COUNT = re.compile(r"(?<![\w.,])(?<!error )(?<!error: )(?<!code )(?<!code: )"
                    r"(?:[0-9]{1,3}(?:[,.][0-9]{3})+|[0-9]{5,})(?![\w.,]?[0-9a-z])")
# A size or a share glued to its number ("2GB", "103%"): the unit is a word of its own.
_UNIT = re.compile(r"(?<=[0-9])(?=(?:gb|mb|tb|kb)\b)|%")
_MIN_FUZZY = 5  # shorter words are too easily one edit away from another real word


class _UniqueKeys(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's parser when present), refusing a key listed twice in one
    mapping: YAML would keep the last one silently (a second `port:` synonym list would drop
    the first)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[object, object]:
    first: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool) and key in first:
            raise listed_twice(key, first[key], key_node.start_mark)
        first[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(path: Path) -> object:
    """Parse a YAML file safely, with libyaml when present (ten times faster at start-up).

    Raises ValueError naming the file and line when it is not valid YAML or a mapping lists
    a key twice.
    """
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeys)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ValueError(f"{where}: not valid YAML: {problem}") from exc


def tokenize(text: str) -> list[str]:
    """Lower-cased word and code tokens; addresses and apostrophes removed, accents folded
    ("não" → "nao", "ständig" → "standig", "ß" → "ss")."""
    text = text.lower()
    if not text.isascii():
        text = _fold(text.translate(_INVISIBLE))
    text = _ADDRESS.sub(" ", text)
    text = _DOTTED.sub(_host_words, text)
    text = _APOSTROPHE.sub("", text)
    text = _COUNT.sub(" thousands ", text)
    text = _UNIT.sub(lambda unit: " percent " if unit.group(0) else " ", text)
    return [t if t[0].isalnum() else BREAK for t in _TOKEN.findall(text)]


def _host_words(run: re.Match[str]) -> str:
    """The first label and the provider's name of a host name ("imap", "gmail"); any other
    dotted run (a code such as 5.7.8, a version) as it is."""
    labels = run.group(0).split(".")
    if not _TLD.fullmatch(labels[-1]) or len(labels) > MAX_LABELS:
        return run.group(0)
    labels.pop()
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels.pop()
    return labels[0] if len(labels) == 1 else f"{labels[0]} {labels[-1]}"


# Latin letters NFKD leaves whole: Polish "ł", Danish "ø", German "ß" ...
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
                               "ı": "i", "þ": "th", "ð": "d"})


# Characters that show nothing: zero-width spaces and joiners, the word joiner, a BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _fold(text: str) -> str:
    """Latin letters without their accents (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Vocabulary:
    """Domain vocabulary shared by all flows (see docs/flow-language.md, "Matching")."""

    synonyms: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    breaks: frozenset[str] = frozenset()
    protected: frozenset[str] = frozenset()
    anchors: Mapping[tuple[str, ...], float] = field(default_factory=dict)
    offtopic: Mapping[tuple[str, ...], float] = field(default_factory=dict)
    clarify_fallback: tuple[str, ...] = ()
    circumstances: frozenset[tuple[str, ...]] = frozenset()
    background: tuple[str, ...] = ()
    vague: tuple[str, ...] = ()
    questions: frozenset[str] = frozenset()
    circumstances_waived_by: frozenset[tuple[str, ...]] = frozenset()
    foreign: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> Vocabulary:
        """Build from the parsed `_vocabulary.yaml`; ValueError with a message when malformed."""
        synonyms: dict[tuple[str, ...], tuple[str, ...]] = {}
        for canonical, variants in _mapping(raw, "synonyms").items():
            target = tuple(tokenize(str(canonical)))
            if not isinstance(variants, list):
                raise ValueError(f"synonyms.{canonical}: expected a list of variants")
            for variant in variants:
                source = tuple(tokenize(_text(variant, f"synonyms.{canonical}")))
                if source and source != target:
                    synonyms[source] = target
        return cls(
            synonyms=synonyms,
            stopwords=frozenset(_words(raw, "stopwords")),
            breaks=frozenset(_words(raw, "breaks")),
            protected=frozenset(_words(raw, "protected")),
            anchors={tuple(tokenize(k)): float(v) for k, v in _weights(raw, "anchors").items()},
            offtopic={tuple(tokenize(k)): float(v) for k, v in _weights(raw, "offtopic").items()},
            clarify_fallback=tuple(str(x) for x in _list(raw, "clarify_fallback")),
            circumstances=frozenset(
                tuple(tokenize(_text(c, "circumstances"))) for c in _list(raw, "circumstances")
            ),
            circumstances_waived_by=frozenset(
                tuple(tokenize(_text(c, "circumstances_waived_by")))
                for c in _list(raw, "circumstances_waived_by")
            ),
            background=tuple(_text(b, "background") for b in _list(raw, "background")),
            vague=tuple(_text(b, "vague") for b in _list(raw, "vague")),
            questions=frozenset(_words(raw, "questions")),
            foreign={
                name: frozenset(tokenize(" ".join(_text(w, f"foreign.{name}") for w in words)))
                for name, words in _foreign(raw).items()
            },
        )

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """Read a vocabulary file; a missing file gives the empty vocabulary."""
        if not path.exists():
            return cls()
        raw = load_yaml(path) or {}
        if not isinstance(raw, Mapping):
            raise ValueError(f"{path}: expected a mapping at the top level")
        return cls.from_mapping(raw)

    def language(self, text: str) -> str | None:
        """The language a line is in when it is not English (bot.matcher.language); None:
        English. Its script first, then the `foreign` common words outside quoted parts."""
        own = unquoted(text)
        script = script_language(own)
        if script is not None:
            return script
        return word_language(tokenize(own), self.foreign, self.stopwords, self._universal)

    @cached_property
    def _universal(self) -> frozenset[str]:
        """Single words that are e-mail in any language: the one-word anchors ("smtp",
        "server") and the one-word variants of those that are e-mail by themselves ("email",
        "mails" for "mail"); not a variant of a technical word ("certificat" is French)."""
        anchors = {a[0] for a in self.anchors if len(a) == 1}
        plain = {a for a, weight in self.anchors.items() if weight >= 1.0}
        variants = {s[0] for s, t in self.synonyms.items() if len(s) == 1 and t in plain}
        return frozenset(anchors | (variants - self.stopwords))

    def canonical(self, tokens: Sequence[str]) -> list[str]:
        """Apply multi-word synonyms, longest match first, without spelling repair.

        Two passes, so that variants compose: "cant" → "not", then "not reach" → "unreachable".
        Clause words ("but", "however") become the boundary token.
        """
        once = self._substitute(tokens)
        lengths = self._lengths
        # A second pass only matters when a multi-word variant may now start somewhere.
        if any(lengths.get(t, (1,))[0] > 1 for t in once):
            once = self._substitute(once)
        breaks = self.breaks
        return [BREAK if t in breaks else t for t in once]

    @cached_property
    def _lengths(self) -> dict[str, tuple[int, ...]]:
        """For each word that starts a variant, the lengths of its variants, longest first."""
        lengths: dict[str, set[int]] = {}
        for source in self.synonyms:
            lengths.setdefault(source[0], set()).add(len(source))
        return {word: tuple(sorted(n, reverse=True)) for word, n in lengths.items()}

    def _substitute(self, tokens: Sequence[str]) -> list[str]:
        out: list[str] = []
        lengths, synonyms = self._lengths, self.synonyms
        i, end = 0, len(tokens)
        while i < end:
            starts = lengths.get(tokens[i])
            if starts is None:  # most words start no variant
                out.append(tokens[i])
                i += 1
                continue
            for n in starts:
                if i + n > end:
                    continue
                target = synonyms.get(tuple(tokens[i : i + n]))
                if target is not None:
                    out.extend(target)
                    i += n
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def speller(self, known: Iterable[str]) -> Speller:
        """A spelling repairer that knows these words plus `known` (the flows' own words)."""
        domain = set(known) | {w for anchor in self.anchors for w in anchor}
        for source, target in self.synonyms.items():
            domain.update(source)
            domain.update(target)
        common = set(self.protected) | set(self.stopwords) | set(self.breaks)
        for phrase in self.offtopic:
            common.update(phrase)
        return Speller(frozenset(domain - common), frozenset(common))


class Speller:
    """Repairs words it does not know: inflections, run-together words, typos."""

    def __init__(self, domain: frozenset[str], common: frozenset[str]) -> None:
        self.words = domain | common
        self._domain = domain - common
        # Only domain words are typo targets; common words are never "corrected" into them.
        self._targets: dict[str, list[str]] = {}
        for word in sorted(domain):
            if len(word) >= _MIN_FUZZY - 1 and word.isalpha():
                self._targets.setdefault(word[0], []).append(word)
        # No repair can make a token much longer than every known word into one: cutting
        # there bounds the work per token (a 100,000-letter "word" once took 8 s to split).
        self._longest_word = max((len(w) for w in self.words), default=0)
        self.repair = lru_cache(maxsize=65536)(self._repair)

    def _repair(self, token: str) -> tuple[str, ...]:
        if token in self.words or len(token) < 3 or not token.isalpha():
            return (token,)
        if len(token) > 2 * self._longest_word:  # no split, stem or one-typo match can fit
            return (token,)
        stem = self._strip_inflection(token)
        if stem is not None:
            return (stem,)
        split = self._split(token)
        fixed = None if split is not None else self._fuzzy(token)
        if (split or fixed) and english_word(token):
            # a real word is no typo ("collection" is not "connection", nor "useless" two
            # words), but may be another form of a known one ("queue" of "queued")
            return (fixed,) if fixed is not None and _same_word(token, fixed) else (token,)
        return split or (fixed or token,)

    def _strip_inflection(self, token: str) -> str | None:
        return next((base for base in bases(token) if base in self.words), None)

    def _split(self, token: str) -> tuple[str, str] | None:
        # Run-together words ("cantsend", "mailserver"): both halves domain words, so
        # "without" or "network" stay one word.
        if len(token) < 7:
            return None
        for cut in range(3, len(token) - 2):
            left, right = token[:cut], token[cut:]
            if left in self._domain and right in self._domain:
                return (left, right)
        return None

    def _fuzzy(self, token: str) -> str | None:
        if len(token) < _MIN_FUZZY:
            return None
        # One edit (a swap counts as one) below ten letters, two above; typos rarely touch the
        # first letter, and requiring it keeps "need" from becoming "reed".
        limit = 1 if len(token) < 10 else 2
        found = process.extractOne(
            token,
            self._targets.get(token[0], []),
            scorer=DamerauLevenshtein.distance,
            score_cutoff=limit,
        )
        return None if found is None else str(found[0])


_ENDINGS = (*SUFFIXES, "d", "y")  # "queue(d)", "glitch(y)"


def _same_word(word: str, other: str) -> bool:
    """Two forms of one word: "queue" and "queued", "tries" and "tried" (not "copier" and
    "copies", "stack" and "stuck")."""
    def stems(w: str) -> set[str]:
        return {w} | {w[: -len(e)] for e in _ENDINGS if w.endswith(e) and len(w) - len(e) >= 3}
    return bool(stems(word) & stems(other))


def _mapping(raw: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected a mapping")
    return {str(k): v for k, v in value.items()}


def _foreign(raw: Mapping[str, object]) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for name, words in _mapping(raw, "foreign").items():
        if not isinstance(words, list):
            raise ValueError(f"foreign.{name}: expected a list of common words")
        out[name] = words
    return out


def _list(raw: Mapping[str, object], key: str) -> list[object]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key}: expected a list")
    return value


def _words(raw: Mapping[str, object], key: str) -> list[str]:
    return [t for item in _list(raw, key) for t in tokenize(_text(item, key))]


def _text(item: object, where: str) -> str:
    # YAML reads a bare no/yes/on/off as a boolean: the word itself is lost.
    if isinstance(item, bool):
        raise ValueError(f"{where}: {item} is a yes/no value in YAML; quote the word ('no', 'on')")
    return str(item)


def _weights(raw: Mapping[str, object], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, weight in _mapping(raw, key).items():
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            raise ValueError(f"{key}.{name}: weight must be a number, not {weight!r}")
        out[name] = float(weight)
    return out
