"""Secrets out of everything deskbot stores or shows, in every encoding a mail protocol uses.

A server that echoes the login puts the password back in a reply in the form the client sent
it: IMAP-quoted (RFC 9051 §4.3: `\\` and `"` escaped), inside a base64 AUTH PLAIN blob
(`\\0user\\0password`, RFC 4616) or an AUTH LOGIN line (base64 of the password alone), or
URL-encoded in a link. `scrub_text` replaces each of these forms, and a base64 token that
decodes to text holding the password, with REDACTED; `scrub` walks a JSON-like document and
also drops every key named like a secret slot. The one scrubber of the project: the probes'
evidence, the session store, transcripts, handoffs and CLI output all go through it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from bot.slots import SECRET_SLOTS

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
# A secret shorter than this is only scrubbed where a whole string equals it: replacing every
# occurrence of "ab" inside prose would mangle the text without protecting anything.
MIN_SUBSTRING_SECRET = 4
# A base64 token long enough to hold a short password (8 characters encode 6 bytes).
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
MAX_TOKEN_CHARS = 4096  # longer tokens are not login blobs; decoding them is wasted work


def secret_forms(secret: str) -> list[str]:
    """The password as it may appear on the wire or in a URL, longest first."""
    forms = {secret, secret.replace("\\", "\\\\").replace('"', '\\"'),
             quote(secret, safe=""), quote_plus(secret, safe=""),
             base64.b64encode(secret.encode("utf-8", "surrogatepass")).decode("ascii")}
    forms |= {form.lower() for form in forms if "%" in form}  # %2f as well as %2F
    return sorted(forms, key=len, reverse=True)


def _decodes_to_secret(token: str, secrets: list[str]) -> bool:
    if len(token) > MAX_TOKEN_CHARS or len(token.rstrip("=")) % 4 == 1:
        return False
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    text = raw.decode("utf-8", "replace")
    return any(s in text for s in secrets)


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every form of every secret replaced by REDACTED."""
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not values:
        return text
    for secret in values:
        if text == secret:
            return REDACTED
        if len(secret) < MIN_SUBSTRING_SECRET:
            continue
        for form in secret_forms(secret):
            if form not in text:
                continue
            if form.isalnum():
                # a password of letters and digits goes where it stands alone, not inside other
                # words: "[redacted].example.com" would give "imap" away
                text = re.sub(_alone(form), REDACTED, text)
            else:
                text = text.replace(form, REDACTED)
    long_ones = [s for s in values if len(s) >= MIN_SUBSTRING_SECRET]
    if long_ones and _BASE64_TOKEN.search(text):
        text = _BASE64_TOKEN.sub(
            lambda m: REDACTED if _decodes_to_secret(m.group(0), long_ones) else m.group(0),
            text)
    return text


def _alone(word: str) -> str:
    """`word` not inside a longer word, host name or address ("imap" in "imap.example.com")."""
    return rf"(?<!\w)(?<!\w[.@-]){re.escape(word)}(?!\w)(?![.@-]\w)"


def scrub(document: Any, secrets: Iterable[str]) -> Any:
    """A copy of a JSON-like `document` with secret forms replaced and secret-slot keys
    (`password`) removed; the document itself when there is nothing to remove."""
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    text = json.dumps(document, ensure_ascii=False, default=str)
    # as the serialised text spells them: a quote or line break inside a secret is escaped
    spelt = values + [json.dumps(v, ensure_ascii=False)[1:-1] for v in values]
    if not any(f'"{k}"' in text for k in SECRET_SLOTS) and scrub_text(text, spelt) == text:
        return document  # the common case: one pass over the serialised text (C speed)
    rest = json.dumps(_drop_secret_slots(document), ensure_ascii=False, default=str)
    if scrub_text(rest, spelt) != rest:
        # a secret outside its own slot (typed where it did not belong, or echoed by a server)
        # is worth a look; a `password` slot being dropped is the expected path, not a warning
        log.warning("a secret value was about to be stored or shown outside its slot; redacted")
    return _scrub(document, values)


def _drop_secret_slots(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_secret_slots(v) for k, v in node.items()
                if str(k).lower() not in SECRET_SLOTS}
    if isinstance(node, list | tuple):
        return [_drop_secret_slots(v) for v in node]
    return node


def _scrub(node: Any, secrets: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _scrub(v, secrets) for k, v in node.items()
                if str(k).lower() not in SECRET_SLOTS}
    if isinstance(node, list | tuple):
        return [_scrub(v, secrets) for v in node]
    if isinstance(node, str):
        return scrub_text(node, secrets)
    return node


def session_secrets(session: Any) -> list[str]:
    """Secret slot values a session holds in memory (to scrub them, never to write them)."""
    found: list[str] = []
    held = getattr(session, "held_secrets", None)
    if callable(held):  # a Session: its login password and any written into a sentence
        found += [str(v) for v in held() if v]
    for attr in ("secrets", "_secrets", "_slots", "slots", "context", "_context"):
        value = getattr(session, attr, None)
        if callable(value):
            continue
        if isinstance(value, Mapping):
            found += [str(value[k]) for k in SECRET_SLOTS if value.get(k)]
    return found
