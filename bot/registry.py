"""The probes a flow may name, and the outcomes each can produce (the flow linter's source).

A check probe's outcomes come from the diagnosis table (bot/diagnoses.py): every code whose
direction matches the probe's and whose producing stages the probe runs, plus `inconclusive`
(the evidence proves no single cause). A new diagnosis thus reaches the right probes by its
table entry alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.diagnoses import STAGES, parse, table

INCONCLUSIVE = "inconclusive"
# The catalogue's recommended settings passed every check, but the customer's own were not
# given, so none of theirs was tested: no diagnosis (diagnoses.yaml, ok), the facts of `ok`.
RECOMMENDED_OK = "recommended_ok"


@dataclass(frozen=True)
class ProbeInfo:
    """What a flow author needs to know about a named probe."""

    name: str
    summary: str
    outcomes: frozenset[str]
    direction: str = ""  # incoming | outgoing for the check probes

    def guaranteed_facts(self, outcome: str) -> frozenset[str]:
        """The `{facts.X}` a report with `outcome` is sure to carry (the table's facts)."""
        alike = "ok" if outcome == RECOMMENDED_OK else outcome
        code = parse(alike) if self.direction and outcome in self.outcomes else None
        return code.facts if code is not None else frozenset()


def check_probe(name: str, summary: str, direction: str,
                stages: frozenset[str] = STAGES) -> ProbeInfo:
    """A sweep probe: the table's codes for `direction` that one of `stages` can produce;
    a whole sweep (every stage) may also test only the catalogue's settings (RECOMMENDED_OK)."""
    codes = {d.code for d in table().values()
             if d.reported_by(direction) and d.stages & stages}
    extra = {INCONCLUSIVE, RECOMMENDED_OK} if stages == STAGES else {INCONCLUSIVE}
    return ProbeInfo(name, summary, frozenset(codes | extra), direction)


PROBES: dict[str, ProbeInfo] = {
    p.name: p
    for p in (
        check_probe(
            "check_outgoing",
            "SMTP sweep: DNS, every port, TLS mode, certificate, AUTH, login with consent",
            "outgoing",
        ),
        check_probe(
            "check_incoming",
            "POP3/IMAP sweep: DNS, every port, TLS mode, certificate, login with consent",
            "incoming",
        ),
        check_probe(
            "check_relay",
            "SMTP without AUTH up to RCPT (never DATA): does the server demand a login?",
            "outgoing", frozenset({"relay"}),
        ),
        ProbeInfo(
            "lookup_provider",
            "catalogue lookup and discovery for the e-mail domain",
            frozenset({"found", "not_found"}),
        ),
    )
}


def facts_table() -> str:
    """docs/flow-language.md's table of what each check outcome guarantees (Markdown lines).

    Regenerate with `python -c "from bot.registry import facts_table as t; print(t())"`;
    a test keeps the document equal to it.
    """
    checks = [p for p in PROBES.values() if p.direction]
    base = frozenset.intersection(*(d.facts for d in table().values()))
    lines = ["| outcome | reported by | `{facts.X}` guaranteed besides "
             + ", ".join(f"`{f}`" for f in sorted(base)) + " |", "|---|---|---|"]
    for row in table().values():
        probes = ", ".join(f"`{p.name}`" for p in checks if row.code in p.outcomes)
        extra = ", ".join(f"`{f}`" for f in sorted(row.facts - base)) or "—"
        lines.append(f"| `{row.code}` | {probes} | {extra} |")
    return "\n".join(lines)
