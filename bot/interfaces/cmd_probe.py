"""`deskbot probe EMAIL [--answers F] [--config F] [--json]` (CONTRACT.md).

Discovery for the address's provider, then the outgoing and incoming sweeps at once (the
client's settings from --answers, else the catalogue's), as a readable report or one JSON
document. A password in --answers is consent to test that login; it is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, TextIO

from bot.catalog.model import Provider, ServerSettings
from bot.config import Config
from bot.engine.answers import parse_email
from bot.errors import AnswersError
from bot.ids import diagnosis_evidence
from bot.interfaces.config_file import load_config
from bot.interfaces.printable import PrintableOut, printable_json
from bot.interfaces.probe_join import JoinFailed, add_join_arguments, join
from bot.probes.model import Check, ProbeReport
from bot.scrub import scrub
from bot.slots import read_answers

SECURITY_WORDS = {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "none"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", nargs="?",
                        help="the e-mail address whose settings to check (not with --join)")
    parser.add_argument("--answers", metavar="F",
                        help="YAML of slot values: the client's current settings (and password)")
    parser.add_argument("--config", metavar="F", help="TOML config (CONTRACT.md)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_join_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.join:
        if args.email or args.answers or args.json:
            raise AnswersError("--join takes no e-mail address, --answers or --json: the "
                               "help desk's link says what to check")
        return join_link(args)
    if not args.email:
        raise AnswersError("give an e-mail address to check, or --join URL")
    address = args.email.strip()
    if not address.isprintable() or parse_email(address) != address.lower():
        # one address, whole: a typo here would otherwise probe a guessed domain
        raise AnswersError(f"{args.email!a} is not an e-mail address (name@domain)")
    config = load_config(args.config)
    params = read_answers(args.answers) if args.answers else {}
    params["email"] = address
    # a server may echo the login back (quoted, base64): no form of the password is printed
    document = scrub(asyncio.run(probe(config, params)), [params.get("password", "")])
    if args.json:
        # server replies and evidence are the outside world's text: no terminal controls
        sys.stdout.write(printable_json(json.dumps(document, indent=2, ensure_ascii=False)))
        sys.stdout.write("\n")
    else:
        write_report(document, PrintableOut(sys.stdout))
    return 0


def join_link(args: argparse.Namespace) -> int:
    """`--join URL`: bot.interfaces.probe_join; its refusals exit 1 or 3 with one line."""
    try:
        return join(args)
    except JoinFailed as exc:
        print(f"deskbot probe: {exc}", file=sys.stderr)
        return exc.code


async def probe(config: Config, params: dict[str, str]) -> dict[str, Any]:
    """Discovery plus both sweeps; the CONTRACT.md JSON document (with a few extra keys)."""
    # Imported here: the network stack is heavy and every other subcommand (and the start-up
    # of `deskbot chat`) would pay for it while the CLI builds its parser.
    from bot.probes.runners import LOCAL
    from bot.probes.runners.live import LiveProbeRunner

    runner = LiveProbeRunner(config)
    discovery = await runner.discover(params["email"])
    outgoing, incoming = await asyncio.gather(
        runner.run("check_outgoing", params, call=LOCAL),
        runner.run("check_incoming", params, call=LOCAL))
    checks = list(discovery.steps)
    for report in (outgoing, incoming):
        checks += [c for c in report.checks if c not in discovery.steps]
    diagnoses: list[str] = []
    for report in (outgoing, incoming):
        diagnoses += [d for d in report.diagnoses if d not in diagnoses]
    provider = discovery.provider or outgoing.provider or incoming.provider
    return {
        "email": params["email"],
        "provider": provider.to_dict() if provider else None,
        "checks": [_check_dict(c) for c in checks],
        "diagnoses": diagnoses,
        "outcomes": {"outgoing": _summary(outgoing), "incoming": _summary(incoming)},
        "notes": list(dict.fromkeys(outgoing.notes + incoming.notes)),
    }


def _check_dict(check: Check) -> dict[str, Any]:
    data = check.to_dict()
    data["ms"] = round(check.ms, 1)
    return data


def _summary(report: ProbeReport) -> dict[str, Any]:
    return {"target": report.target, "diagnosis": report.outcome, "facts": dict(report.facts)}


def write_report(doc: dict[str, Any], out: TextIO | PrintableOut) -> None:
    """The human-readable report."""
    out.write(f"deskbot probe {doc['email']}\n\n")
    provider = doc["provider"]
    if provider is None:
        out.write("Provider: not found in the catalogue or by discovery.\n")
    else:
        _write_provider(Provider.from_dict(provider), provider.get("source", ""),
                        doc["email"], out)
    out.write("\nChecks:\n")
    width = min(40, max((len(c["target"]) for c in doc["checks"]), default=10))
    for c in doc["checks"]:
        mark = {"ok": "ok  ", "fail": "FAIL", "skipped": "skip"}[c["status"]]
        code = f"  => {c['diagnosis']}" if c["diagnosis"] else ""
        out.write(f"  {mark} {c['probe']:<10} {c['target']:<{width}} {c['ms']:>7.1f} ms  "
                  f"{c['evidence']}{code}\n")
    out.write("\nConclusion:\n")
    for direction in ("outgoing", "incoming"):
        summary = doc["outcomes"][direction]
        code = summary["diagnosis"]
        meaning = _meaning(code)
        out.write(f"  {direction:<9} {summary['target']}: {code}{meaning}\n")
        facts = summary["facts"]
        shown = [k for k in ("working_host", "working_port", "working_security", "suggested_host",
                             "accepted_username", "cert_names", "offered_auth", "server_reply")
                 if k in facts]
        for key in shown:
            out.write(f"            {key}: {facts[key]}\n")
    for note in doc["notes"]:
        out.write(f"  note: {note}\n")


def _meaning(code: str) -> str:
    try:
        return f" ({diagnosis_evidence(code)})"
    except KeyError:
        return " (the evidence supports no single diagnosis)" if code == "inconclusive" else ""


def _write_provider(provider: Provider, source: str, email: str,
                    out: TextIO | PrintableOut) -> None:
    out.write(f"Provider: {provider.name} ({', '.join(provider.domains[:3])}; from {source})\n")
    if provider.oauth_only:
        out.write("  This provider accepts only OAuth2 sign-in: a password login will not work.\n")
    for direction, servers in (("incoming", provider.incoming), ("outgoing", provider.outgoing)):
        for i, server in enumerate(servers):
            label = direction if i == 0 else ""
            out.write(f"  {label:<9} {_server_line(server, email)}"
                      f"{'  (recommended)' if i == 0 else '  (alternative)'}\n")


def _server_line(s: ServerSettings, email: str) -> str:
    auth = ", ".join(s.auth)
    return (f"{s.protocol.upper():<4} {s.host}:{s.port}  {SECURITY_WORDS[s.security]:<8}  "
            f"username {s.username_for(email)}  auth {auth}")
