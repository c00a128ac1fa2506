"""Values shared by the protocol probes: what to probe, with which login, and what was seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.catalog.model import Protocol, Security
from bot.diagnoses import Code
from bot.probes.model import Check
from bot.probes.tls import TlsInfo

LoginOutcome = Literal[
    "ok",  # accepted
    "rejected",  # wrong credentials (535, -ERR [AUTH], NO [AUTHENTICATIONFAILED])
    "oauth_required",  # basic auth disabled (5.7.139, 5.7.30)
    "refused",  # refused for a cause the reply names (`diagnosis`: app password, quota ...)
    "locked",  # POP3 [IN-USE]
    "plaintext_refused",  # the server will not take a password without TLS
    "unsupported",  # no password mechanism offered
    "error",  # timeout or unexpected reply
    "unsafe",  # not sent: the username or password holds CR, LF or NUL (bot.probes.wire)
]
# how far an endpoint probe got; the first failing stage decides its diagnosis
Stage = Literal["dns", "tcp", "tls", "greeting", "starttls", "login", "done"]


@dataclass(frozen=True)
class Endpoint:
    """One server port as a client is (or could be) set up to use it."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    ip: str = ""  # the resolved address the probe connects to (checked by the policy)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        words = {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "no encryption"}
        return f"{self.protocol.upper()} {self.target} {words[self.security]}"


@dataclass(frozen=True)
class Login:
    """Credentials for one login attempt; the password never appears in a repr."""

    username: str
    password: str = field(repr=False)
    sender: str = ""  # SMTP: after an accepted login, MAIL FROM/RCPT TO this address (no DATA)


@dataclass(frozen=True)
class LoginResult:
    """How one login attempt ended, with the server's reply (never the password)."""

    outcome: LoginOutcome
    reply: str
    username: str = ""
    diagnosis: Code | None = None  # set when the reply itself names a cause (e.g. relay refused)
    what: str = ""  # what was attempted, for the evidence (default: "login as USER")
    quota: tuple[int, int] | None = None  # IMAP GETQUOTAROOT STORAGE (used, limit) in KiB


@dataclass(frozen=True)
class EndpointResult:
    """Everything one endpoint probe saw; `stage` is where it stopped."""

    endpoint: Endpoint
    stage: Stage
    checks: tuple[Check, ...] = ()
    tcp: str = ""  # open | refused | filtered | unreachable | error
    speaks: Security | None = None  # what the port was found to speak, when it differs
    greeting: str = ""
    tls: TlsInfo | None = None
    mechanisms: tuple[str, ...] = ()  # AUTH mechanisms / capabilities offered
    starttls_offered: bool = False
    login: LoginResult | None = None
    reply: str = ""  # the last notable server reply
    diagnosis: Code | None = None
    problem: str = ""  # timeout | garbage | closed ... when the greeting stage failed

    @property
    def answered(self) -> bool:
        """The port spoke its protocol (greeted), whatever happened next."""
        return bool(self.greeting) or self.speaks is not None

    @property
    def healthy(self) -> bool:
        """Reached the end with nothing wrong (a login, if tried, was accepted)."""
        return self.stage == "done" and self.diagnosis is None
