"""Plain-text chat (`deskbot chat` from a pipe): the engine's typed messages as lines of text.

No colour codes and no layout beyond blank lines: each message's plain form (its words, numbered
choices, settings table), a final answer's headline before it, a probe's checks one a line,
and the outcome at the end.
"""

from __future__ import annotations

from bot.engine import BotMessage, Outcome, Reply


def render_reply(reply: Reply) -> str:
    """Everything a reply says, as the plain chat prints it."""
    parts = [render_message(m) for m in reply.messages]
    if reply.outcome is not None:
        parts.append(render_outcome(reply.outcome))
    return "".join(parts)


def render_message(message: BotMessage) -> str:
    """One message: a probe's checks, or the message's text (after its headline)."""
    if message.kind == "probe":
        return "".join(_checks(message))
    head = f"{message.headline.label}: {message.headline.text}\n" if message.headline else ""
    return f"{head}{message.text}\n\n"


def render_outcome(outcome: Outcome) -> str:
    """The closing line: `[outcome: STATUS, symptom S, diagnosis D]`."""
    return (f"[outcome: {outcome.status}, symptom {outcome.symptom or '-'}, "
            f"diagnosis {outcome.diagnosis or '-'}]\n")


def _checks(message: BotMessage) -> list[str]:
    lines: list[str] = []
    for report in message.evidence:
        lines.append(f"  [check] {report.name}: {report.outcome}\n")
        lines += [f"    {c.status:<7} {c.probe} {c.target}: {c.evidence}\n" for c in report.checks]
    return lines
