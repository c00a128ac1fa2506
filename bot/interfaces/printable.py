"""Text from outside made safe to print: no terminal control sequences reach the screen.

A mail server's greeting, a pasted log, a transcript file or a probe's evidence may carry
ESC/CSI/OSC sequences (`\\e]0;title\\a` retitles the window, `\\e[2J` clears it, `\\e[8m` hides
text, OSC 52 writes the clipboard on many terminals), C1 controls (U+0080-U+009F: U+009B is CSI
on some terminals), BEL, backspaces and bidirectional overrides that reorder what is shown.
Every interface passes such text through `printable()` before writing it (ECMA-48 §5, §8.3;
Unicode TR 9 for the bidi controls). Nothing is removed silently: each control shows as an
escape such as `\\x1b`, so an agent still sees that the server sent one.
"""

from __future__ import annotations

import unicodedata
from typing import TextIO

# Unicode format characters that reorder or hide text (Trojan Source, CVE-2021-42574).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or ch in _BIDI


def printable(text: str, keep: str = "\n\t") -> str:
    """`text` with every control character except those in `keep` shown as an escape
    (`\\x1b`, `\\x9b`, `\\u202e`); lone surrogates too (they cannot be encoded)."""
    if _clean(text, keep):
        return text  # the common case, fast
    return "".join(_escaped(ch) if _unsafe(ch) and ch not in keep else ch for ch in text)


def printable_json(document: str) -> str:
    """A JSON text (from `json.dumps(..., ensure_ascii=False)`) with the controls JSON leaves
    raw (C1, DEL, bidi, lone surrogates) written as `\\uXXXX` escapes: still the same JSON."""
    if _clean(document, "\n"):
        return document
    return "".join(f"\\u{ord(ch):04x}" if _unsafe(ch) and ch != "\n" else ch
                   for ch in document)


def _clean(text: str, keep: str) -> bool:
    return all(ch in keep or not _unsafe(ch) for ch in text) if not text.isprintable() \
        else not any(ch in _BIDI for ch in text)


class PrintableOut:
    """A text stream writing through `printable()` (line breaks and tabs kept)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(printable(text))

    def flush(self) -> None:
        self.out.flush()
