"""The probes a flow may name, and the outcomes each can produce (the flow linter's source)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ids import diagnosis_codes


@dataclass(frozen=True)
class ProbeInfo:
    """What a flow author needs to know about a named probe."""

    name: str
    summary: str
    outcomes: frozenset[str]


def _diagnoses_except(*excluded: str) -> frozenset[str]:
    return (diagnosis_codes() - set(excluded)) | {"inconclusive"}


PROBES: dict[str, ProbeInfo] = {
    p.name: p
    for p in (
        ProbeInfo(
            "check_outgoing",
            "SMTP sweep: DNS, every port, TLS mode, certificate, AUTH, login with consent",
            _diagnoses_except("mailbox_locked"),
        ),
        ProbeInfo(
            "check_incoming",
            "POP3/IMAP sweep: DNS, every port, TLS mode, certificate, login with consent",
            _diagnoses_except("smtp_auth_required"),
        ),
        ProbeInfo(
            "check_relay",
            "SMTP without AUTH up to RCPT (never DATA): does the server demand a login?",
            frozenset({"ok", "smtp_auth_required", "inconclusive"}),
        ),
        ProbeInfo(
            "lookup_provider",
            "catalogue lookup and discovery for the e-mail domain",
            frozenset({"found", "not_found"}),
        ),
    )
}
