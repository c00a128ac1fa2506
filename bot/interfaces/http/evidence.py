"""Uploaded evidence: the schema a customer-side report must have, checked before any use.

Body of `POST /v1/probe-links/{token}/evidence` (at most `[serve] max_evidence_bytes`):

    {"upload_token": "...",
     "report": {"name": "check_outgoing", "target": "host:port", "outcome": "<code>",
                "checks": [{"probe", "target", "status", "evidence", "diagnosis", "ms",
                            "outcome"}, ...],
                "diagnoses": ["<code>", ...], "facts": {name: text}, "notes": [text, ...]}}

Refused with 422 and a message: unknown fields, wrong types, over-long texts, codes that are not
the probe's, and any check, fact or target about a host or port the job did not ask about. The
provider is never taken from the upload: the job's own provider is used instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bot.diagnoses import Code, as_code
from bot.ids import diagnosis_codes
from bot.interfaces.http.validation import Problem
from bot.probes.job import ProbeJob, foreign_targets, job_hosts, job_targets
from bot.probes.model import Check, ProbeReport
from bot.probes.registry import unkept_promise
from bot.registry import PROBES

REPORT_KEYS = frozenset({"name", "target", "outcome", "checks", "diagnoses", "facts", "notes",
                         "provider", "vantage"})
CHECK_KEYS = frozenset({"probe", "target", "status", "evidence", "diagnosis", "ms", "outcome"})
MAX_CHECKS = 100
MAX_TEXT = 1000
MAX_FACTS = 40
MAX_NOTES = 20
HOST_FACTS = ("working_host", "suggested_host", "configured_host")
PORT_FACTS = ("working_port", "configured_port")


class _Refused(Exception):
    """Internal: the upload is refused with this message (becomes a 422)."""


def parse_evidence(body: Any, job: ProbeJob) -> tuple[str, ProbeReport] | Problem:
    """(upload token, the report to use) from an upload body, or the 422 to answer with."""
    try:
        if not isinstance(body, Mapping) or set(body) != {"upload_token", "report"}:
            raise _Refused('body must be {"upload_token": "...", "report": {...}}')
        token = _text(body["upload_token"], "upload_token", 100)
        report = _report(body["report"], job)
    except _Refused as exc:
        return Problem(422, f"evidence refused: {exc}")
    return token, report


def _report(data: Any, job: ProbeJob) -> ProbeReport:
    if not isinstance(data, Mapping):
        raise _Refused("report must be an object")
    extra = sorted(set(data) - REPORT_KEYS)
    if extra:
        raise _Refused(f"unknown report field(s) {', '.join(extra)[:200]}")
    if data.get("name") != job.probe:
        raise _Refused(f"the job asked for {job.probe}, not {str(data.get('name'))[:40]!r}")
    outcome = _text(data.get("outcome"), "outcome", 60)
    if outcome not in PROBES[job.probe].outcomes:
        raise _Refused(f"{outcome!r} is not an outcome of {job.probe}")
    checks = tuple(_check(c) for c in _list(data.get("checks", []), "checks", MAX_CHECKS))
    report = ProbeReport(
        name=job.probe, target=_text(data.get("target", ""), "target", 300), outcome=outcome,
        checks=checks, diagnoses=tuple(_codes(data.get("diagnoses", []))),
        facts=_facts(data.get("facts", {})),
        notes=tuple(_text(n, "note", MAX_TEXT) for n in _list(data.get("notes", []), "notes",
                                                               MAX_NOTES)),
        provider=job.provider,
    )
    _within_job(report, job)
    _supported(report)
    return report


def _supported(report: ProbeReport) -> None:
    """Refuse an outcome no uploaded check shows, or one without the facts its fix text needs
    (the customer would read "(unknown)" where a port or a security setting belongs)."""
    if report.outcome not in ("ok", "inconclusive") and not any(
        check.diagnosis == report.outcome for check in report.checks
    ):
        raise _Refused(f"outcome {report.outcome!r} is not shown by any uploaded check")
    broken = unkept_promise(report)
    if broken:
        raise _Refused(broken)


def _within_job(report: ProbeReport, job: ProbeJob) -> None:
    """Refuse evidence about anything the job did not ask about."""
    claimed = (*report.checks, Check("target", report.target, "ok", ""))
    foreign = foreign_targets(job, claimed)
    if foreign:
        raise _Refused(f"evidence about {', '.join(foreign)[:200]}, which this probe link "
                       "did not ask about")
    hosts, ports = job_hosts(job), {p for _, p in job_targets(job)}
    for key in HOST_FACTS:
        value = report.facts.get(key)
        if value is not None and value.lower().rstrip(".") not in hosts:
            raise _Refused(f"fact {key} names {value[:80]!r}, which this probe link did not "
                           "ask about")
    for key in PORT_FACTS:
        value = report.facts.get(key)
        if value is not None and (not value.isdigit() or int(value) not in ports):
            raise _Refused(f"fact {key} names port {value[:10]!r}, which this probe link did "
                           "not ask about")


def _check(data: Any) -> Check:
    if not isinstance(data, Mapping):
        raise _Refused("each check must be an object")
    extra = sorted(set(data) - CHECK_KEYS)
    if extra:
        raise _Refused(f"unknown check field(s) {', '.join(extra)[:200]}")
    status = data.get("status")
    if status not in ("ok", "fail", "skipped"):
        raise _Refused("a check's status must be ok, fail or skipped")
    ms = data.get("ms", 0.0)
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not math.isfinite(ms) \
            or not 0 <= ms <= 600_000:
        raise _Refused("a check's ms must be a number of milliseconds")
    diagnosis = data.get("diagnosis")
    if diagnosis is not None and diagnosis not in diagnosis_codes():
        raise _Refused(f"{str(diagnosis)[:40]!r} is not a diagnosis code")
    return Check(probe=_text(data.get("probe"), "probe", 20), target=_text(
        data.get("target"), "target", 300), status=status, evidence=_text(
        data.get("evidence", ""), "evidence", MAX_TEXT),
        diagnosis=as_code(diagnosis) if diagnosis is not None else None, ms=float(ms),
        outcome=_text(data.get("outcome", "ok"), "outcome", 40))


def _codes(value: Any) -> list[Code]:
    codes = [_text(c, "diagnosis", 60) for c in _list(value, "diagnoses", 30)]
    unknown = [c for c in codes if c not in diagnosis_codes()]
    if unknown:
        raise _Refused(f"{unknown[0]!r} is not a diagnosis code")
    return [as_code(c) for c in codes]


def _facts(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or len(value) > MAX_FACTS:
        raise _Refused(f"facts must be an object of at most {MAX_FACTS} texts")
    return {_text(k, "fact name", 40): _text(v, "fact", MAX_TEXT) for k, v in value.items()}


def _list(value: Any, name: str, most: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > most:
        raise _Refused(f"{name} must be a list of at most {most} items")
    return value


def _text(value: Any, name: str, most: int) -> str:
    if not isinstance(value, str) or len(value) > most:
        raise _Refused(f"{name} must be a string of at most {most} characters")
    return value
