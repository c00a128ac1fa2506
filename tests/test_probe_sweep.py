"""Every diagnosis code the sweep can reach, each from a fault injected into a real peer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.config import Config
from bot.errors import ProbeRefused
from bot.probes.model import ProbeReport
from bot.probes.policy import TargetPolicy
from bot.probes.runners import LOCAL
from bot.probes.runners.live import LiveProbeRunner
from tests.conftest import WorldFactory
from tests.peers import MailWorld

FAST = {"timeout": 0.6}


async def _run(world: MailWorld, name: str = "check_outgoing", **slots: Any) -> ProbeReport:
    runner = LiveProbeRunner(Config.load(world.config_path))
    return await runner.run(name, world.answers(**slots), call=LOCAL)


async def test_healthy_settings_are_ok_with_one_login(world: MailWorld) -> None:
    out = await _run(world)
    inc = await _run(world, "check_incoming")
    assert (out.outcome, inc.outcome) == ("ok", "ok")
    assert out.facts["accepted_username"] == world.email
    assert world.smtp.auth_attempts == [world.email]
    assert world.smtp.data_commands == 0


async def test_unknown_client_settings_use_the_catalogue_recommendation(world: MailWorld) -> None:
    runner = LiveProbeRunner(Config.load(world.config_path))
    report = await runner.run("check_outgoing", {"email": world.email,
                                                 "password": world.password}, call=LOCAL)
    # the catalogue's settings passed, the customer's were never given: no `ok` (diagnoses.yaml)
    assert report.outcome == "recommended_ok" and report.diagnoses == ()
    assert report.target == f"smtp.example.test:{world.ports['submission']}"


async def test_port_blocked_names_the_port_that_works(mail_world: WorldFactory) -> None:
    world = mail_world(**FAST)
    report = await _run(world, outgoing_port=world.ports["filtered"])
    assert report.outcome == "port_blocked"
    assert report.facts["working_port"] == str(world.ports["submission"])
    assert report.facts["working_security"] == "starttls"


async def test_port_closed(world: MailWorld) -> None:
    report = await _run(world, outgoing_port=world.ports["refused"])
    assert report.outcome == "port_closed"


async def test_incoming_port_blocked(mail_world: WorldFactory) -> None:
    world = mail_world(**FAST)
    report = await _run(world, "check_incoming", incoming_port=world.ports["filtered2"])
    assert report.outcome == "port_blocked"
    assert report.facts["working_port"] == str(world.ports["imaps"])


async def test_server_unreachable_when_no_port_answers(world: MailWorld) -> None:
    world.zone.set("dead.example.test", "A", "127.0.0.3")
    report = await _run(world, outgoing_server="dead.example.test")
    assert report.outcome == "server_unreachable"


async def test_dns_not_found_suggests_the_catalogue_host(world: MailWorld) -> None:
    report = await _run(world, outgoing_server="smtp.exmaple.test")
    assert report.outcome == "dns_not_found"
    assert report.facts["suggested_host"] == "smtp.example.test"


async def test_dns_unavailable(mail_world: WorldFactory) -> None:
    world = mail_world(dns_down=True, **FAST)
    report = await _run(world)
    assert report.outcome == "dns_unavailable"
    assert "within 0.6 s" in report.checks[0].evidence
    assert any("offline" in n or "unreachable" in n for n in report.notes)


@pytest.mark.parametrize(("port", "security", "speaks"), [
    ("smtps", "starttls", "ssl"), ("submission", "ssl", "starttls"),
])
async def test_tls_mode_mismatch(mail_world: WorldFactory, port: str, security: str,
                                 speaks: str) -> None:
    world = mail_world(**FAST)
    report = await _run(world, outgoing_port=world.ports[port], outgoing_security=security)
    assert report.outcome == "tls_mode_mismatch"
    assert report.facts["working_security"] == speaks
    assert world.smtp.auth_attempts == []


async def test_incoming_plaintext_on_starttls_port(world: MailWorld) -> None:
    report = await _run(world, "check_incoming", incoming_port=world.ports["imap"],
                        incoming_security="none")
    assert report.outcome == "encryption_required"
    assert report.facts["working_security"] == "starttls"


@pytest.mark.parametrize(("cert", "code"), [
    ("expired", "certificate_expired"), ("unknown_ca", "certificate_untrusted"),
    ("wrong_name", "certificate_name_mismatch"),
])
async def test_certificates(mail_world: WorldFactory, cert: str, code: str) -> None:
    world = mail_world(smtp_cert=cert, dovecot=False)
    report = await _run(world)
    assert report.outcome == code
    assert world.smtp.auth_attempts == []  # never a password over a bad certificate
    if code == "certificate_name_mismatch":
        assert "www.other.test" in report.facts["cert_names"]


async def test_incoming_certificate_expired(mail_world: WorldFactory) -> None:
    world = mail_world(dovecot_cert="expired")
    report = await _run(world, "check_incoming")
    assert report.outcome == "certificate_expired"


async def test_wrong_password_tries_each_username_form_once(world: MailWorld) -> None:
    report = await _run(world, password="not it")
    assert report.outcome == "auth_wrong_password"
    assert world.smtp.auth_attempts == [world.email, "alice"]
    assert any("capped at one per username form" in n for n in report.notes)
    assert "not it" not in repr(report.to_dict())


async def test_username_format(mail_world: WorldFactory) -> None:
    world = mail_world(user_form="localpart")
    out = await _run(world)
    inc = await _run(world, "check_incoming")
    assert out.outcome == inc.outcome == "auth_username_format"
    assert out.facts["accepted_username"] == inc.facts["accepted_username"] == "alice"
    assert world.smtp.auth_attempts == [world.email, "alice"]


async def test_oauth_only_provider_is_not_probed_with_a_password(
        mail_world: WorldFactory) -> None:
    world = mail_world(oauth_only=True, dovecot=False)
    report = await _run(world)
    assert report.outcome == "auth_oauth_required"
    assert world.smtp.auth_attempts == []
    assert any("OAuth2" in n for n in report.notes)


async def test_basic_auth_disabled_reply(mail_world: WorldFactory) -> None:
    world = mail_world(basic_auth_disabled=True, dovecot=False)
    report = await _run(world)
    assert report.outcome == "auth_oauth_required"
    assert "5.7.139" in report.facts["server_reply"]


async def test_mechanism_unsupported(mail_world: WorldFactory) -> None:
    world = mail_world(smtp_mechanisms=("CRAM-MD5",), dovecot=False)
    report = await _run(world)
    assert report.outcome == "auth_mechanism_unsupported"
    assert report.facts["offered_auth"] == "CRAM-MD5"


@pytest.mark.parametrize("relay", ["550", "530"])
async def test_relay_refused_without_auth(mail_world: WorldFactory, relay: str) -> None:
    world = mail_world(relay=relay, dovecot=False)
    check = await _run(world, "check_relay")
    outgoing = await _run(world, outgoing_auth="false")
    assert check.outcome == outgoing.outcome == "smtp_auth_required"
    assert world.smtp.data_commands == 0 and world.smtp.auth_attempts == []


async def test_open_relay_is_ok(mail_world: WorldFactory) -> None:
    world = mail_world(relay="open", dovecot=False)
    report = await _run(world, "check_relay")
    assert report.outcome == "ok"
    assert world.smtp.data_commands == 0


async def test_mailbox_locked(mail_world: WorldFactory) -> None:
    world = mail_world(pop3_locked=True)
    report = await _run(world, "check_incoming", incoming_protocol="pop3",
                        incoming_server="pop.example.test",
                        incoming_port=world.ports["pop3s_locked"])
    assert report.outcome == "mailbox_locked"


# silent: the port accepts the connection, so it is not filtered (not port_blocked): the
# server's side, which no code names (tests/test_honest_silent_port.py)
@pytest.mark.parametrize(("port", "outcome"), [("silent", "inconclusive"),
                                                ("garbage", "inconclusive")])
async def test_silent_and_garbage_servers_end_in_a_clear_diagnosis(
        mail_world: WorldFactory, port: str, outcome: str) -> None:
    world = mail_world(dovecot=False, **FAST)
    async with asyncio.timeout(10):  # a hang guard, not a timing assertion
        report = await _run(world, outgoing_port=world.ports[port])
    assert report.outcome == outcome
    failed = [c for c in report.checks if c.status == "fail"]
    assert failed and ("greeting" in failed[0].evidence or "not an SMTP" in failed[0].evidence)


async def test_policy_refuses_private_targets_in_serve_mode(world: MailWorld) -> None:
    config = Config.load(world.config_path).with_overrides(allow_private=False)
    runner = LiveProbeRunner(config, policy=TargetPolicy(allow_private=False, ports=None))
    with pytest.raises(ProbeRefused, match="private"):
        await runner.run("check_outgoing", world.answers(), call=LOCAL)
    assert world.smtp.auth_attempts == []


def test_policy_ports_and_hosts() -> None:
    policy = TargetPolicy(hosts=frozenset({"smtp.example.com"}))
    with pytest.raises(ProbeRefused):
        policy.check_target("smtp.example.com", 6379)
    with pytest.raises(ProbeRefused):
        policy.check_target("redis.internal", 587)
    with pytest.raises(ProbeRefused):
        policy.check_address("smtp.example.com", "10.1.2.3")
    policy.check_target("smtp.example.com", 587)
    policy.check_address("smtp.example.com", "93.184.216.34")


async def test_lookup_provider_found_and_not_found(world: MailWorld) -> None:
    runner = LiveProbeRunner(Config.load(world.config_path))
    found = await runner.run("lookup_provider", {"email": world.email}, call=LOCAL)
    assert found.outcome == "found" and found.provider is not None
    assert found.provider.id == "example.test"
