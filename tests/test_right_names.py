"""Right protocol, right names, right security (issue 12, failing inputs 5-7), on real peers."""

from __future__ import annotations

from typing import Any

import dns.asyncresolver

from bot.catalog.model import Provider, ServerSettings
from bot.config import Config
from bot.probes.dns import make_resolver
from bot.probes.model import ProbeReport
from bot.probes.policy import TargetPolicy
from bot.probes.runners import LOCAL
from bot.probes.runners.live import LiveProbeRunner
from bot.probes.sweep import Sweep
from bot.probes.tls import client_context
from tests.conftest import WorldFactory
from tests.peers import MailWorld


async def _run(world: MailWorld, name: str, **slots: Any) -> ProbeReport:
    runner = LiveProbeRunner(Config.load(world.config_path))
    return await runner.run(name, world.answers(**slots), call=LOCAL)


async def test_a_stated_pop3_is_the_protocol_tested(world: MailWorld) -> None:
    """Input 5: "A ticket that says only `incoming_protocol: pop3` (no server) is tested on
    the provider's IMAP server, and the settings table then shows POP3 995." """
    report = await _run(world, "check_incoming", incoming_protocol="pop3",
                        incoming_server=None, incoming_port=None, incoming_security=None)
    # only the protocol was stated: the catalogue's POP3 server passed, the app's own settings
    # were never given, so no `ok` (diagnoses.yaml; tests/test_honest_outcomes.py)
    assert report.outcome == "recommended_ok"
    assert report.target == f"pop.example.test:{world.ports['pop3s']}"
    assert report.facts["protocol"] == "pop3"
    logins = [c for c in report.checks if c.probe == "pop3" and "login as" in c.evidence]
    assert logins and logins[0].status == "ok"


async def test_certificate_mismatch_suggests_a_covered_name_that_answers(
        mail_world: WorldFactory) -> None:
    """Input 6: "A server with a certificate for other names ... the bot proves
    certificate_name_mismatch, then advises the very name that fails." """
    world = mail_world(smtp_cert="wrong_name", dovecot=False)
    world.zone.set("other.test", "A", "127.0.0.1")
    report = await _run(world, "check_outgoing")
    assert report.outcome == "certificate_name_mismatch"
    assert report.facts["cert_suggested_host"] == "other.test"
    assert report.facts["suggested_host"] == "other.test"
    assert "other.test answers on port" in report.facts["cert_advice"]


async def test_certificate_mismatch_with_no_working_name_needs_the_administrator(
        mail_world: WorldFactory) -> None:
    world = mail_world(smtp_cert="wrong_name", dovecot=False)  # www.other.test: NXDOMAIN
    report = await _run(world, "check_outgoing")
    assert report.outcome == "certificate_name_mismatch"
    assert "cert_suggested_host" not in report.facts
    assert report.facts.get("suggested_host") != "smtp.example.test"  # never the failing name
    assert "administrator must add smtp.example.test" in report.facts["cert_advice"]


async def test_recommended_security_comes_from_what_the_port_speaks(
        mail_world: WorldFactory) -> None:
    """Input 7: "A provider outside the catalogue on port 25 that offers no STARTTLS: the
    settings table still recommends STARTTLS, from a generic port table." """
    # a provider outside the catalogue (discovery guessed port 25 with
    # STARTTLS from a port table) whose server offers no STARTTLS: recommend what it speaks
    world = mail_world(relay_starttls=False, dovecot=False)
    config = Config.load(world.config_path)
    guessed = Provider(
        id="example.test", name="example.test", domains=("example.test",), source="guess",
        incoming=(), outgoing=(ServerSettings("smtp", "smtp.example.test", world.ports["relay"],
                                              "starttls"),))
    resolver: dns.asyncresolver.Resolver = make_resolver(config)
    sweep = Sweep(email=world.email, direction="outgoing", provider=guessed, client=None,
                  password=None, resolver=resolver, ctx=client_context(world.ca_file),
                  timeout=config.timeout, policy=TargetPolicy.from_config(config))
    result = await sweep.run()
    assert result.outcome == "tls_mode_mismatch"  # "STARTTLS where the server offers none"
    assert result.provider is not None
    assert result.provider.outgoing[0].security == "none"
    assert result.facts["working_security"] == "none"
