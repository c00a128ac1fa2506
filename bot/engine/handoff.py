"""What the evidence supports: the diagnosis, its basis, headline and proof; the agent's package."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.diagnoses import Basis, parse
from bot.engine.values import HandoffPackage, Headline
from bot.flows.model import Flow
from bot.ids import diagnosis_codes
from bot.probes.model import Check, ProbeReport
from bot.registry import PROBES
from bot.slots import SECRET_SLOTS


def evidence_codes(reports: Sequence[ProbeReport]) -> frozenset[str]:
    """Every outcome and diagnosis code any probe reported so far."""
    codes: set[str] = set()
    for report in reports:
        codes.add(report.outcome)
        codes.update(report.diagnoses)
        codes.update(c.diagnosis for c in report.checks if c.diagnosis)
    return frozenset(codes)


MAX_PROOF = 6  # checks shown as the evidence of a final answer

def headline(diagnosis: str | None) -> Headline | None:
    """The one-line "what's wrong" for a recorded diagnosis (None without one)."""
    if diagnosis is None:
        return None
    code = parse(diagnosis)
    # the diagnosis table's headline (bot/data/diagnoses.yaml); a help desk's own code may lack one
    text = code.headline if code else diagnosis.replace("_", " ").capitalize() + "."
    return Headline(diagnosis, text)


def proof(reports: Sequence[ProbeReport], diagnosis: str | None) -> tuple[Check, ...]:
    """The few checks that prove the diagnosis (for `ok`, those that passed)."""
    if diagnosis is None:
        return ()
    checks = [c for r in reports for c in r.checks]
    if diagnosis == "ok":
        chosen = [c for c in checks if c.status == "ok"]
    else:
        chosen = [c for c in checks if c.diagnosis == diagnosis] or [
            c for c in checks if c.status == "fail"]
    return tuple(chosen[:MAX_PROOF])


def basis_of(diagnosis: str | None, reports: Sequence[ProbeReport]) -> Basis | None:
    """What established `diagnosis`: the latest report that produced it says (CONTRACT.md).

    A report's `basis` fact marks a diagnosis the probe took from the provider catalogue
    (e.g. "OAuth2 only" with no login tried) or from the server reply the customer pasted
    (bot.engine.listen); `lookup_provider` is the catalogue itself. An `ok` no probe reported
    rests on the catalogue when it found the provider, else on nothing.
    """
    if diagnosis is None:
        return None
    for report in reversed(reports):
        if diagnosis in _codes_of(report):
            return _report_basis(report)
    found = any(r.name == "lookup_provider" and r.provider is not None for r in reports)
    return "catalogue" if diagnosis == "ok" and found else None


def _report_basis(report: ProbeReport) -> Basis:
    if report.name == "lookup_provider" or report.facts.get("basis") == "catalogue":
        return "catalogue"
    if report.facts.get("basis") == "reply":  # the customer's pasted reply (engine.listen)
        return "reply"
    return "probe"


def _codes_of(report: ProbeReport) -> set[str]:
    return {report.outcome, *report.diagnoses, *(c.diagnosis for c in report.checks if c.diagnosis)}


def ruled_out(reports: Sequence[ProbeReport]) -> tuple[str, ...]:
    """Diagnoses a probe could have reported but did not, because its checks passed."""
    seen = evidence_codes(reports)
    out: set[str] = set()
    for report in reports:
        info = PROBES.get(report.name)
        if info is not None and report.outcome == "ok":
            out |= info.outcomes & diagnosis_codes()
    return tuple(sorted(out - seen - {"ok"}))


def build_package(
    symptom: str | None, reason: str, slots: Mapping[str, str], reports: Sequence[ProbeReport]
) -> HandoffPackage:
    """Everything learnt so far, without secrets."""
    probes = tuple(
        {"name": r.name, "target": r.target, "outcome": r.outcome,
         "diagnoses": list(r.diagnoses), "checks": [c.to_dict() for c in r.checks],
         "facts": dict(r.facts), "vantage": r.vantage or "local"}
        for r in reports
    )
    found = [d for r in reports for c in (r.outcome, *r.diagnoses)
             if (d := parse(c)) is not None and d.code != "ok"]
    fix = f"Evidence points to {found[-1].code}: {found[-1].evidence}" if found else None
    clean = {k: v for k, v in slots.items() if k not in SECRET_SLOTS}
    return HandoffPackage(symptom, reason, clean, probes, ruled_out(reports), fix,
                          found[-1].headline if found else None)


# The direction each customer-side check probes (bot/probes/job.py CUSTOMER_PROBES).
_CHECK_SIDES = {"check_outgoing": "outgoing", "check_relay": "outgoing",
                "check_incoming": "incoming"}


def problem_sides(flow_id: str | None, flows: Callable[[str], Flow],
                  reports: Sequence[ProbeReport]) -> tuple[str, ...]:
    """The direction(s) of the conversation's problem, outgoing first: those its checks
    probed, else those its flow (with the sub-flows it calls, `flows` looks them up) can
    check; () when neither says (e.g. a flow that never checks a server)."""
    found = {_CHECK_SIDES[r.name] for r in reports if r.name in _CHECK_SIDES}
    todo, seen = ([flow_id] if flow_id and not found else []), set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for node in flows(current).nodes.values():
            if node.kind == "probe" and node.probe in _CHECK_SIDES:
                found.add(_CHECK_SIDES[node.probe])
            elif node.kind == "call":
                todo.append(node.subflow)
    return tuple(s for s in ("outgoing", "incoming") if s in found)
