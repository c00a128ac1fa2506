"""`deskbot probe --join URL`: run, on this computer, the checks a help-desk session asked for.

Also the probe kit's entry point (`python3 deskbot-probe.pyz --join URL`), so it uses only the
standard library (urllib) besides bot's own probes. Steps: fetch the job from the link, show the
customer the exact hosts and ports, go on only with their consent (private or loopback addresses
only once they type the host's name), ask for the password here if the flow tests a login (it
never leaves this computer), run the sweep with live progress, upload the report, print what the
help desk concluded. Exit 0 once the service accepted the evidence; otherwise 1 (declined or
refused here) or 3 (the link or the service said no), with one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import ipaddress
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bot.config import Config
from bot.errors import DeskbotError, ProbeRefused
from bot.interfaces.config_file import load_config
from bot.probes.job import ProbeJob, job_policy, planned_endpoints, run_job
from bot.probes.model import Check, ProbeReport
from bot.probes.policy import MAIL_PORTS

SECURITY = {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "no encryption"}
TIMEOUT = 30.0  # seconds for each request to the help desk


class JoinFailed(DeskbotError):
    """The join cannot go on; `code` is the exit status (1 here, 3 the link or service)."""

    def __init__(self, message: str, code: int = 3) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Claimed:
    """What the link's GET answered: the job and where to send its evidence."""

    job: ProbeJob
    upload: str
    upload_token: str
    expires_at: str


def add_join_arguments(parser: argparse.ArgumentParser) -> None:
    """The --join options (shared by `deskbot probe` and the kit)."""
    parser.add_argument("--join", metavar="URL", help="a probe link from a help desk: run the "
                        "checks it asks for on this computer and send it the results")
    parser.add_argument("--yes", action="store_true",
                        help="with --join: agree to the listed hosts and ports without asking")
    parser.add_argument("--allow-private", metavar="HOST", action="append", default=[],
                        help="with --join: allow HOST even at a private or loopback address")


def main(argv: Sequence[str] | None = None) -> int:
    """The probe kit's command line: `--join URL [--config F] [--yes]`."""
    parser = argparse.ArgumentParser(prog="deskbot-probe", description=(
        "Run the e-mail checks a help desk asked for on this computer and send the results."))
    add_join_arguments(parser)
    parser.add_argument("--config", metavar="F", help="TOML config ([dns], [tls], [probes])")
    args = parser.parse_args(argv)
    if not args.join:
        parser.error("--join URL is required")
    try:
        return join(args)
    except DeskbotError as exc:
        print(f"deskbot-probe: {exc}", file=sys.stderr)
        return exc.code if isinstance(exc, JoinFailed) else 2
    except KeyboardInterrupt:
        return 130


def join(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run one probe link end to end (see the module docstring); returns the exit status."""
    config = load_config(args.config)
    claimed = claim(args.join)
    job = claimed.job
    show_plan(job, urllib.parse.urlsplit(args.join).netloc, out, config.mail_ports)
    if not args.yes and not _agree("Run these checks now? [y/N] "):
        raise JoinFailed(f"you declined: nothing was checked or sent{release(claimed)}", 1)
    confirmed = asyncio.run(_confirm_private(job, config, set(map(str.lower,
                                                                  args.allow_private))))
    password = _password(job.login)
    out.write("\nChecking from this computer:\n")
    report = asyncio.run(_run(job, config, confirmed, password, out))
    out.write(f"\nResult here: {job.probe} → {report.outcome}\n")
    answer = upload(claimed, report)
    write_answer(answer, out)
    return 0


def claim(url: str) -> Claimed:
    """GET the link: the job (the link is now claimed) and its upload address."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or "/v1/probe-links/" not in parts.path:
        raise JoinFailed("that is not a probe link (expected http(s)://…/v1/probe-links/…)", 1)
    body = _request("GET", url)
    try:
        job = ProbeJob.from_dict(body.get("job"))
        upload, token = str(body["upload"]), str(body["upload_token"])
    except (KeyError, TypeError, DeskbotError) as exc:
        raise JoinFailed(f"the help desk sent a job this tool cannot read: {exc}") from exc
    if urllib.parse.urlsplit(upload).netloc != parts.netloc:
        raise JoinFailed("the job wants the results sent to another server; refused", 1)
    return Claimed(job, upload, token, str(body.get("expires_at", "")))


def show_plan(job: ProbeJob, desk: str, out: TextIO,
              mail_ports: frozenset[int] = MAIL_PORTS) -> None:
    """Tell the customer exactly what will be contacted, before anything is."""
    out.write(f"The help desk at {desk} asks this computer to check the mail servers for "
              f"{job.email}.\nIt will look these names up in DNS and connect only to:\n")
    for e in planned_endpoints(job):
        note = "" if e.port in mail_ports else "  (not a mail port: will be skipped)"
        out.write(f"  {e.host}:{e.port}  {e.protocol.upper()} {SECURITY[e.security]}{note}\n")
    if job.login:
        out.write("It will also test your login: you type the password here, and it never "
                  "leaves this computer.\n")
    out.write("Only the results of these checks are sent back to the help desk.\n")
    out.flush()


def _agree(prompt: str) -> bool:
    answer = _line(prompt)
    return answer.strip().lower() in ("y", "yes")


def _line(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline().rstrip("\n")


async def _confirm_private(job: ProbeJob, config: Config, allowed: set[str]) -> frozenset[str]:
    """Hosts whose private/loopback addresses the customer confirmed by typing the name."""
    from bot.probes.dns import make_resolver, resolve_host

    resolver = make_resolver(config)
    confirmed: set[str] = set()
    for host in sorted({e.host for e in planned_endpoints(job)}):
        answer = await resolve_host(resolver, host, config.timeout)
        private = [a for a in answer.records if not _public(a)]
        if not private:
            continue
        if host in allowed or _line(
                f"{host} is at {private[0]}, a private or local address. To check it anyway "
                f"type its name ({host}); press Enter to skip it: ").strip().lower() == host:
            confirmed.add(host)
    return frozenset(confirmed)


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _password(wanted: bool) -> str | None:
    if not wanted:
        return None
    prompt = "Password for the login test (stays on this computer; Enter to skip): "
    secret = getpass.getpass(prompt) if sys.stdin.isatty() else _line(prompt)
    return secret or None


class _Progress:
    """Live progress: one line per finished check, as `deskbot probe` shows them."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def check_started(self, probe: str, target: str) -> None:
        pass

    def check_finished(self, check: Check) -> None:
        mark = {"ok": "ok  ", "fail": "FAIL", "skipped": "skip"}[check.status]
        self.out.write(f"  {mark} {check.probe:<6} {check.target:<32} {check.ms:>7.1f} ms  "
                       f"{check.evidence}\n")
        self.out.flush()


async def _run(job: ProbeJob, config: Config, confirmed: frozenset[str],
               password: str | None, out: TextIO) -> ProbeReport:
    from bot.probes.dns import make_resolver
    from bot.probes.tls import client_context

    try:
        return await run_job(job, resolver=make_resolver(config),
                             ctx=client_context(config.ca_file), timeout=config.timeout,
                             policy=job_policy(job, confirmed, config.mail_ports),
                             password=password,
                             observer=_Progress(out))
    except ProbeRefused as exc:
        raise JoinFailed(f"not checked: {exc}", 1) from exc


def release(claimed: Claimed) -> str:
    """Give the link back after a refusal, so the same link still works later; returns the
    note to add to the refusal (empty when the help desk could not be told)."""
    try:
        _request("POST", claimed.upload.removesuffix("/evidence") + "/release",
                 {"upload_token": claimed.upload_token})
    except JoinFailed:
        return ""
    return "; the link still works if you change your mind"


def upload(claimed: Claimed, report: ProbeReport) -> dict[str, Any]:
    """Send the report (no provider, no password: neither is evidence) to the session."""
    data = report.to_dict()
    data.pop("provider", None)
    data.pop("vantage", None)
    return _request("POST", claimed.upload,
                    {"upload_token": claimed.upload_token, "report": data})


def write_answer(answer: dict[str, Any], out: TextIO) -> None:
    """What the help desk concluded from the evidence."""
    out.write("\nThe help desk received the results.\n")
    for message in answer.get("messages", ()):
        if message.get("kind") in ("result", "handoff", "text"):
            out.write(f"\n{message.get('text', '')}\n")
    outcome = answer.get("outcome") or {}
    if outcome:
        out.write(f"\nOutcome: {outcome.get('status')} ({outcome.get('diagnosis')})\n")


def _request(method: str, url: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json",
        "User-Agent": "deskbot-probe"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            parsed = json.loads(answer.read(1 << 20))
    except urllib.error.HTTPError as exc:
        raise JoinFailed(f"the help desk answered {exc.code}: {_error_of(exc)}") from exc
    except (OSError, ValueError) as exc:
        where = urllib.parse.urlsplit(url).netloc
        raise JoinFailed(f"cannot reach the help desk at {where}: {exc}") from exc
    if not isinstance(parsed, dict):
        raise JoinFailed("the help desk's answer is not a JSON object")
    return parsed


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read(4096)).get("error", exc.reason))
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)
