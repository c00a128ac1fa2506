"""What a server's refusal means, on any of SMTP, IMAP and POP3: the reply text → a diagnosis.

Login and session replies name their cause in words and codes that carry over between the
three protocols (Gmail says "Application-specific password required" on IMAP `NO [ALERT]`,
POP3 `-ERR [AUTH]` and SMTP `534 5.7.9`), so one table reads them all. First match wins;
the order puts the specific causes before the generic "wrong credentials". Sources per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.diagnoses import Code, as_code
from bot.probes.endpoint import LoginOutcome, LoginResult


@dataclass(frozen=True)
class Meaning:
    """A reply's diagnosis code and the plain words for it."""

    diagnosis: Code
    explanation: str


_TABLE: tuple[tuple[re.Pattern[str], Meaning], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), Meaning(as_code(code), words))
    for pattern, code, words in (
        # Gmail/Google Workspace, iCloud, Yahoo: RFC 5530 has no code; Google uses 534 5.7.9
        # (https://support.google.com/a/answer/3726730) and IMAP [ALERT] with the same words.
        (r"application[- ]specific password|app[- ]password|\b5\.7\.9\b",
         "auth_app_password_required",
         "the provider wants an app password here, not the account's normal password"),
        # Exchange Online: 5.7.139 (basic auth disabled for the tenant/account), 5.7.30
        # (basic auth retired for client submission, MC786329).
        (r"\b5\.7\.139\b|\b5\.7\.30\b|basic auth\w*\s+(is\s+)?(disabled|not supported|"
         r"turned off)|\bOAUTH\w* (is )?required",
         "auth_oauth_required",
         "the provider has turned off password (basic) logins; the app must use the "
         "provider's sign-in window (OAuth2)"),
        # RFC 9208 [OVERQUOTA] (IMAP), RFC 3463 5.2.2 mailbox full (SMTP), Dovecot's words.
        (r"\[OVERQUOTA\]|\b5\.2\.2\b|\bover\s*quota\b|quota exceeded|mailbox (is )?full",
         "mailbox_over_quota", "the mailbox is full (over its storage quota)"),
        # DNSBL refusals: Postfix reject_rbl_client "blocked using zen.spamhaus.org",
        # Exchange Online 5.7.606-649 "banned sending IP".
        (r"spamhaus|blocked using|\bblack ?list|\bblock ?list|\bDNSBL\b|\bRBL\b|"
         r"banned sending IP|\b5\.7\.6(0[6-9]|[1-4]\d)\b",
         "sender_blocklisted",
         "the server refuses your internet address because it is on a spam blocklist"),
        # Dovecot mail_max_userip_connections ([LIMIT], RFC 5530), SMTP 421 4.7.0 variants.
        (r"maximum number of (simultaneous )?connections|too many ([a-z]+ ){0,2}"
         r"(connections|sessions|logins)|\[LIMIT\]|connection limit",
         "too_many_connections",
         "the server refuses more sessions: this account (or address) already has too "
         "many connections open"),
        # Dovecot "Plaintext authentication disallowed", IMAP [PRIVACYREQUIRED] (RFC 5530),
        # SMTP 530 "Must issue a STARTTLS command first" (aiosmtpd, Postfix 530 5.7.0),
        # 538 5.7.11 "Encryption required" (RFC 4954).
        (r"plaintext authentication disallowed|\[PRIVACYREQUIRED\]|must issue a starttls|"
         r"\b5\.7\.11\b|encryption required|LOGINDISABLED",
         "encryption_required",
         "the server takes no password (or mail) over an unencrypted connection"),
        # POP3 [IN-USE] (RFC 2449), IMAP [INUSE] (RFC 5530)
        (r"\[IN-?USE\]", "mailbox_locked", "the mailbox is in use by another session"),
    )
)


def meaning(reply: str) -> Meaning | None:
    """The diagnosis a server reply names, or None when it names no specific cause."""
    for pattern, found in _TABLE:
        if pattern.search(reply):
            return found
    return None


_OUTCOMES: dict[str, LoginOutcome] = {
    "mailbox_locked": "locked", "encryption_required": "plaintext_refused",
    "auth_oauth_required": "oauth_required",
}


def judged(found: Meaning, reply: str, username: str) -> LoginResult:
    """A refused login whose reply names its cause, as the pipeline's LoginResult."""
    return LoginResult(_OUTCOMES.get(found.diagnosis, "refused"), reply, username,
                       diagnosis=found.diagnosis)
