"""A customer-side probe job: the checks a help-desk session asks the customer's computer to run.

The help desk's server cannot see the customer's network (an ISP blocking port 25, a local
firewall). A probe link hands the customer's computer a `ProbeJob`: the probe to repeat, the
customer's stated settings (slot values without secrets), the provider's servers and whether
the flow wants a login test. Both sides plan the same endpoints from it (`planned_targets`), so
the customer's tool knows exactly which hosts and ports it may contact and the service can
refuse evidence about anything else (`foreign_targets`).

Job document (JSON, version 1):

    {"version": 1, "probe": "check_outgoing", "email": "ann@example.com",
     "params": {"outgoing_server": "smtp.example.com", "outgoing_port": "25", ...},
     "provider": {...Provider.to_dict()...} | null, "login": false,
     "targets": ["smtp.example.com:25", "smtp.example.com:587", ...]}
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver

from bot.catalog.model import Provider
from bot.errors import DeskbotError
from bot.probes.endpoint import Endpoint
from bot.probes.model import SETTINGS_FROM, Check, ProbeObserver, ProbeReport
from bot.probes.policy import MAIL_PORTS, TargetPolicy
from bot.probes.settings import Direction, adopts_catalogue, client_settings
from bot.probes.sweep import Sweep

JOB_VERSION = 1
# The probes a customer's computer may be asked to repeat, and the direction each sweeps.
CUSTOMER_PROBES: dict[str, Direction] = {
    "check_outgoing": "outgoing", "check_incoming": "incoming", "check_relay": "outgoing",
}
# Slots a job may carry: the customer's stated settings, never a secret or free text.
JOB_PARAMS = frozenset({
    "username", "client", "incoming_protocol", "incoming_server", "incoming_port",
    "incoming_security", "outgoing_server", "outgoing_port", "outgoing_security",
    "outgoing_auth", SETTINGS_FROM,
})
MAX_PARAM_CHARS = 256


class JobError(DeskbotError):
    """A probe job or its evidence does not have the expected shape or asks for too much."""


@dataclass(frozen=True)
class ProbeJob:
    """What the customer's computer is asked to check (see the module docstring)."""

    probe: str
    email: str
    params: Mapping[str, str] = field(default_factory=dict)
    provider: Provider | None = None
    login: bool = False

    @property
    def direction(self) -> Direction:
        return CUSTOMER_PROBES[self.probe]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": JOB_VERSION, "probe": self.probe, "email": self.email,
            "params": dict(self.params),
            "provider": self.provider.to_dict() if self.provider else None,
            "login": self.login, "targets": [e.target for e in planned_endpoints(self)],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ProbeJob:
        """Validate a job document; JobError says what is wrong."""
        if not isinstance(data, Mapping) or data.get("version") != JOB_VERSION:
            raise JobError("not a probe job of version 1")
        probe, email = data.get("probe"), data.get("email")
        if probe not in CUSTOMER_PROBES:
            raise JobError(f"unknown probe {str(probe)[:40]!r}")
        if not isinstance(email, str) or "@" not in email or len(email) > MAX_PARAM_CHARS:
            raise JobError("the job names no valid e-mail address")
        params = _params(data.get("params"))
        try:
            provider = Provider.from_dict(data["provider"]) if data.get("provider") else None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise JobError(f"the job's provider settings are malformed: {exc}") from exc
        return cls(str(probe), email, params, provider, bool(data.get("login", False)))

    @classmethod
    def of(cls, probe: str, params: Mapping[str, str], provider: Provider | None,
           login: bool) -> ProbeJob:
        """The job repeating a probe the server ran with these slot values."""
        kept = {k: str(v)[:MAX_PARAM_CHARS] for k, v in params.items() if k in JOB_PARAMS and v}
        if provider is not None:  # only the servers of the direction the probe sweeps
            outgoing = CUSTOMER_PROBES[probe] == "outgoing"
            provider = dataclasses.replace(
                provider, incoming=() if outgoing else provider.incoming,
                outgoing=provider.outgoing if outgoing else (), extra={})
        return cls(probe, str(params.get("email", "")), kept, provider, login)


def _params(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise JobError("the job's params must be an object")
    out: dict[str, str] = {}
    for key, item in value.items():
        if key not in JOB_PARAMS:
            raise JobError(f"the job asks for an unknown setting {str(key)[:40]!r}")
        if not isinstance(item, str) or len(item) > MAX_PARAM_CHARS:
            raise JobError(f"the job's setting {key} must be a short string")
        out[key] = item
    return out


def _sweep(job: ProbeJob, *, resolver: dns.asyncresolver.Resolver | None = None,
           ctx: ssl.SSLContext | None = None, timeout: float = 5.0,
           policy: TargetPolicy | None = None, password: str | None = None,
           observer: ProbeObserver | None = None) -> Sweep:
    values = {"email": job.email, **job.params}
    return Sweep(
        email=job.email, direction=job.direction, provider=job.provider,
        client=client_settings(values, job.direction, job.provider), password=password,
        # planning only needs the settings: an unconfigured resolver and a bare context
        # cost nothing and are never used unless `run()` is called
        resolver=resolver or dns.asyncresolver.Resolver(configure=False),
        ctx=ctx or ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), timeout=timeout,
        policy=policy or TargetPolicy(), observer=observer,
        relay_only=job.probe == "check_relay", adopted=adopts_catalogue(dict(job.params)),
    )


def planned_endpoints(job: ProbeJob) -> list[Endpoint]:
    """The endpoints the job's sweep contacts, client's first (the same on both sides)."""
    return _sweep(job).plan()


def job_hosts(job: ProbeJob) -> frozenset[str]:
    """Host names the job may look up and contact."""
    return frozenset(e.host for e in planned_endpoints(job))


def job_targets(job: ProbeJob) -> frozenset[tuple[str, int]]:
    """(host, port) pairs the job's sweep plans to contact."""
    return frozenset((e.host, e.port) for e in planned_endpoints(job))


def foreign_targets(job: ProbeJob, checks: tuple[Check, ...]) -> list[str]:
    """Check targets the job never asked about (a host name alone counts for DNS checks)."""
    hosts, pairs = job_hosts(job), job_targets(job)
    foreign: list[str] = []
    for check in checks:
        host, sep, port = check.target.lower().rpartition(":")
        known = (host, int(port)) in pairs if sep and port.isdigit() else (
            check.target.lower().rstrip(".") in hosts)
        if not known and check.target not in foreign:
            foreign.append(check.target)
    return foreign


def job_policy(job: ProbeJob, private_hosts: frozenset[str] = frozenset(),
               ports: frozenset[int] = MAIL_PORTS) -> TargetPolicy:
    """The customer side's policy: the job's hosts, mail ports only, private addresses only
    for hosts the customer confirmed by name."""
    return TargetPolicy(allow_private=False, ports=ports, hosts=job_hosts(job),
                        private_hosts=private_hosts)


async def run_job(job: ProbeJob, *, resolver: dns.asyncresolver.Resolver, ctx: ssl.SSLContext,
                  timeout: float, policy: TargetPolicy, password: str | None = None,
                  observer: ProbeObserver | None = None) -> ProbeReport:
    """Run the job's sweep on this computer; network outcomes are values, a forbidden
    client endpoint raises ProbeRefused."""
    sweep = _sweep(job, resolver=resolver, ctx=ctx, timeout=timeout, policy=policy,
                   password=password if job.login else None, observer=observer)
    result = await sweep.run()
    outcome = result.outcome
    if job.probe == "check_relay" and outcome not in ("ok", "smtp_auth_required"):
        outcome = "inconclusive"
    target = result.primary.target if result.primary else job.email
    return ProbeReport(job.probe, target, outcome, result.checks, result.diagnoses,
                       {k: str(v) for k, v in result.facts.items()}, job.provider,
                       result.notes)
