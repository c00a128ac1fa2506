"""DNS probe against the local DNS peer: every outcome told apart, ports honoured."""

from __future__ import annotations

from bot.config import Config, Nameserver
from bot.probes.dns import lookup, make_resolver, resolve_host
from tests.peers import MailWorld


def _resolver(world: MailWorld):  # type: ignore[no-untyped-def]
    return make_resolver(Config.load(world.config_path))


async def test_a_mx_srv_answers_through_configured_port(world: MailWorld) -> None:
    resolver = _resolver(world)
    a = await lookup(resolver, "smtp.example.test", "A", 1.0)
    mx = await lookup(resolver, "example.test", "MX", 1.0)
    srv = await lookup(resolver, "_submission._tcp.example.test", "SRV", 1.0)
    assert (a.outcome, a.records) == ("ok", ("127.0.0.1",))
    assert mx.records == ("10 mx.example.test",)
    assert srv.records == (f"0 1 {world.ports['submission']} smtp.example.test",)


async def test_srv_target_dot_means_not_offered(world: MailWorld) -> None:
    answer = await lookup(_resolver(world), "_pop3._tcp.example.test", "SRV", 1.0)
    assert answer.records == ("0 0 0 .",)


async def test_nxdomain_no_answer_and_timeout_are_different(world: MailWorld) -> None:
    resolver = _resolver(world)
    missing = await lookup(resolver, "smtp.exmaple.test", "A", 1.0)
    no_aaaa = await lookup(resolver, "smtp.example.test", "AAAA", 1.0)
    world.zone.down = True
    silent = await lookup(resolver, "smtp.example.test", "A", 0.3)
    assert missing.outcome == "nxdomain" and "does not exist" in missing.detail
    assert no_aaaa.outcome == "no_answer"
    assert silent.outcome == "timeout" and "within 0.3 s" in silent.detail


async def test_resolve_host_passes_ip_literals_through() -> None:
    resolver = make_resolver(Config(nameservers=(Nameserver("127.0.0.1", 9),)))
    answer = await resolve_host(resolver, "127.0.0.1", 0.2)
    assert answer.ok and answer.records == ("127.0.0.1",)
