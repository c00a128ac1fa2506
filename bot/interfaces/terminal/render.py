"""Turn the engine's messages into styled text for an 80-column terminal (no I/O here).

Everything returns prompt_toolkit `StyleAndTextTuples`; the style classes are defined in
`STYLE`, so with NO_COLOR (or a dumb terminal) the same text stays readable without colour.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.styles import Style
from wcwidth import wcswidth

from bot.engine import Headline, SettingsRow
from bot.interfaces.terminal.commands import COMMANDS
from bot.probes.model import Check

STYLE = Style.from_dict(
    {
        "bot": "",
        "prompt": "bold",
        "question": "bold",
        "choice.number": "ansicyan bold",
        "hint": "ansibrightblack",
        "ok": "ansigreen bold",
        "fail": "ansired bold",
        "skipped": "ansiyellow",
        "spinner": "ansicyan",
        "target": "",
        "ms": "ansibrightblack",
        "headline": "ansired bold",
        "headline.ok": "ansigreen bold",
        "section": "bold underline",
        "table.border": "ansibrightblack",
        "table.header": "bold",
        "handoff": "ansiyellow bold",
        "error": "ansired",
        "greeting": "bold",
    }
)

@dataclass(frozen=True)
class Symbols:
    """Status marks; ASCII ones when the terminal cannot show unicode."""

    ok: str
    fail: str
    skipped: str
    spinner: tuple[str, ...]
    h: str
    v: str
    corners: str  # top-left top-mid top-right, mid-left cross mid-right, bottom-left mid right

    @classmethod
    def for_encoding(cls, encoding: str | None) -> Symbols:
        """Unicode marks when the output encoding can carry them."""
        if encoding and encoding.lower().replace("-", "") in {"utf8", "utf16", "utf32"}:
            return cls("✓", "✗", "–", tuple("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), "─", "│", "┌┬┐├┼┤└┴┘")
        return cls("+", "x", "-", ("|", "/", "-", "\\"), "-", "|", "+++++++++")


def width_of(text: str) -> int:
    """Columns a string takes on a terminal (wide and combining characters counted right)."""
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def clip(text: str, columns: int) -> str:
    """`text` cut to `columns` terminal columns, with an ellipsis when cut."""
    if width_of(text) <= columns:
        return text
    out = ""
    for char in text:
        if width_of(out + char) > columns - 1:
            break
        out += char
    return out + "…"


def wrap(text: str, columns: int, indent: str = "") -> list[str]:
    """Paragraph-aware word wrap; blank lines between paragraphs and list items are kept."""
    lines: list[str] = []
    for raw in text.rstrip().splitlines() or [""]:
        if not raw.strip():
            lines.append("")
            continue
        # Keep a list item's hanging indent so numbered click paths stay readable.
        lead = raw[: len(raw) - len(raw.lstrip())]
        hang = lead + ("   " if raw.lstrip()[:2].rstrip(".)").isdigit() else "")
        wrapped = textwrap.wrap(
            raw.strip(), width=max(20, columns - len(indent) - len(lead)),
            initial_indent=indent + lead, subsequent_indent=indent + hang,
            break_long_words=True, break_on_hyphens=False,
        )
        lines.extend(wrapped or [indent])
    return lines


def paragraph(text: str, columns: int, style: str = "class:bot", indent: str = "") -> (
    StyleAndTextTuples
):
    """Wrapped text as one styled block ending in a newline."""
    return [(style, line + "\n") for line in wrap(text, columns, indent)]


def banner() -> StyleAndTextTuples:
    """The first line on screen; the engine's greeting (what deskbot does) follows it."""
    return [("class:greeting", "deskbot - e-mail troubleshooter"),
            ("class:hint", "   /help for commands, Ctrl-D to leave\n")]


def help_text(columns: int) -> StyleAndTextTuples:
    """The /help listing."""
    out: StyleAndTextTuples = [("class:section", "Commands\n")]
    for info in COMMANDS:
        out.append(("class:prompt", f"  {info.usage:<14}"))
        out.append(("", clip(info.summary, columns - 16) + "\n"))
    out += paragraph(
        "At a question you can also say \"I don't know\". Up/Down recall earlier answers; "
        "Tab completes the choices.", columns, "class:hint",
    )
    return out


def question(
    prompt: str, choices: Sequence[tuple[str, str]], columns: int, *, numbered: bool = True
) -> StyleAndTextTuples:
    """A question with its choices: numbered (the numbers work as answers) or as a hint."""
    out: StyleAndTextTuples = [("class:question", line + "\n") for line in wrap(prompt, columns)]
    if not numbered:
        if choices:
            out.append(("class:hint", clip(" / ".join(label for _, label in choices)
                                           + "  (Tab completes)", columns) + "\n"))
        return out
    for number, (_, label) in enumerate(choices, start=1):
        out.append(("class:choice.number", f"  {number:>2}) "))
        out.append(("", clip(label, columns - 6) + "\n"))
    return out


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], columns: int, symbols: Symbols
) -> StyleAndTextTuples:
    """A boxed table that fits `columns`; the widest column is clipped when it must shrink."""
    widths = _column_widths(headers, rows, columns)
    c = symbols.corners

    def rule(left: str, mid: str, right: str) -> tuple[str, str]:
        return ("class:table.border", left + mid.join(symbols.h * (w + 2) for w in widths)
                + right + "\n")

    def line(cells: Sequence[str], style: str) -> StyleAndTextTuples:
        out: StyleAndTextTuples = [("class:table.border", symbols.v)]
        for cell, w in zip(cells, widths, strict=True):
            text = clip(cell, w)
            out.append((style, " " + text + " " * (w - width_of(text)) + " "))
            out.append(("class:table.border", symbols.v))
        out.append(("", "\n"))
        return out

    out: StyleAndTextTuples = [rule(c[0], c[1], c[2])]
    out += line(headers, "class:table.header")
    out.append(rule(c[3], c[4], c[5]))
    for row in rows:
        out += line(row, "")
    out.append(rule(c[6], c[7], c[8]))
    return out


def _column_widths(
    headers: Sequence[str], rows: Sequence[Sequence[str]], columns: int
) -> list[int]:
    widths = [max(width_of(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    budget = columns - (3 * len(widths) + 1)  # borders and padding
    while sum(widths) > budget and max(widths) > 6:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    return widths


def key_values(pairs: Iterable[tuple[str, str]], columns: int) -> StyleAndTextTuples:
    """Aligned `name: value` lines (for /settings)."""
    items = list(pairs)
    if not items:
        return [("class:hint", "  nothing yet\n")]
    name_width = min(22, max(width_of(k) for k, _ in items))
    out: StyleAndTextTuples = []
    for key, value in items:
        out.append(("class:prompt", f"  {key:<{name_width}}  "))
        out.append(("", clip(value, columns - name_width - 4) + "\n"))
    return out


def headline(line: Headline | None) -> StyleAndTextTuples:
    """The one-line "what's wrong" (green "Result" for `ok`) that opens a final answer."""
    if line is None:
        return []
    style = "class:headline.ok" if line.diagnosis == "ok" else "class:headline"
    return [(style, f"{line.label}: {line.text}\n")]


def slot_rows(slots: Mapping[str, str], secret_names: Iterable[str]) -> list[tuple[str, str]]:
    """Known slots for /settings in a stable, readable order, never a secret's value."""
    order = [
        "email", "username", "client", "incoming_protocol", "incoming_server", "incoming_port",
        "incoming_security", "outgoing_server", "outgoing_port", "outgoing_security",
        "outgoing_auth", "message",
    ]
    hidden = set(secret_names)
    names = [n for n in order if n in slots] + sorted(set(slots) - set(order))
    return [
        (n.replace("_", " "), "(given, not shown)" if n in hidden else str(slots[n]))
        for n in names
    ]


def final_answer(
    text: str, line: Headline | None, proof: Sequence[Check], settings: Sequence[SettingsRow],
    columns: int, symbols: Symbols,
) -> StyleAndTextTuples:
    """A resolve laid out to act on: what's wrong, the fix text, the evidence, the settings."""
    out = headline(line)
    out += paragraph(text, columns)
    if proof:
        out.append(("class:section", "\nEvidence\n"))
        for check in proof:
            out += _evidence_line(check, columns, symbols)
    if settings:
        headers, rows = settings_table(settings)
        out.append(("class:section", "\nSettings to use\n"))
        out += table(headers, rows, columns, symbols)
    return out


def _evidence_line(check: Check, columns: int, symbols: Symbols) -> StyleAndTextTuples:
    mark, style = {"ok": (symbols.ok, "class:ok"), "fail": (symbols.fail, "class:fail")}.get(
        check.status, (symbols.skipped, "class:skipped")
    )
    lines = wrap(f"{check.probe} {check.target}: {short_evidence(check)}", columns - 4)
    out: StyleAndTextTuples = [(style, f"  {mark} "), ("", lines[0].strip() + "\n")]
    out += [("", "    " + line.strip() + "\n") for line in lines[1:]]
    return out


def settings_table(rows: Sequence[SettingsRow]) -> tuple[list[str], list[list[str]]]:
    """The engine's SettingsRow list as a small table: one column per server, one row per field.

    Servers as columns keep it narrow (host names are the long values), so it fits 80 columns.
    """
    headers = [""] + [f"{_cell(r.side)} ({_cell(r.protocol)})" for r in rows]
    fields = (("Server", "host"), ("Port", "port"), ("Security", "security"),
              ("Username", "username"))
    return headers, [[label] + [_cell(getattr(r, name)) for r in rows] for label, name in fields]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def short_evidence(check: Any) -> str:
    """A check's evidence without the "host → address:port: " lead-in its target already says."""
    host = str(check.target).rsplit(":", 1)[0]
    evidence = str(check.evidence)
    if evidence.startswith(host + " → ") and ": " in evidence:
        return evidence.split(": ", 1)[1]
    return evidence
