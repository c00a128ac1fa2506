"""One address policy for the probes and the autoconfig fetch (issue 15): IPv6 forms that carry
an IPv4 address are judged by that address, and local-only IPv6 ranges are refused.

Pure checks of the policy both use (no packet is sent to these addresses); the fetch test
resolves a name through the loopback DNS peer and shows the fetch stops before connecting."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.config import Config
from bot.probes.dns import make_resolver
from bot.probes.fetch import allowed, https_get
from bot.probes.policy import TargetPolicy
from tests.peers import MailWorld

REFUSED = [
    "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix → 169.254.169.254 (cloud metadata)
    "64:ff9b::7f00:1",  # NAT64 → 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 → 10.0.0.1
    "64:ff9b:1::808:808",  # NAT64 local-use prefix (RFC 8215)
    "64:ff9b:1:a9fe:a9:fe00::",  # RFC 6052 /48 embedding of 169.254.169.254
    "2002:a9fe:a9fe::1",  # 6to4 → 169.254.169.254
    "2002:7f00:1::1",  # 6to4 → 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 → 192.168.1.1
    "::127.0.0.1",  # IPv4-compatible
    "::169.254.169.254",
    "::8.8.8.8",  # IPv4-compatible: deprecated, never a real server address
    "::ffff:0:127.0.0.1",  # SIIT
    "::ffff:0:169.254.169.254",
    "::ffff:169.254.169.254",  # IPv4-mapped
    "fec0::1",  # site-local
    "fef0::1",
    "ff0e::1",  # global-scope multicast
    "ff02::1",
    "224.0.0.251",
    "239.255.255.250",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo
    "fe80::1%1",
    "::",
    "0.0.0.0",
]
PUBLIC = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822",
          "::ffff:93.184.216.34", "2002:5db8:d822::1"]


@pytest.fixture(scope="module")
def policies() -> tuple[TargetPolicy, Config]:
    config = Config.load(None, serve_mode=True)
    return TargetPolicy.from_config(config), config


@pytest.mark.parametrize("address", REFUSED)
def test_probes_and_fetch_refuse_addresses_carrying_a_private_one(
    address: str, policies: tuple[TargetPolicy, Config]
) -> None:
    policy, config = policies
    assert not policy.allows("mail.example.com", 993, address)
    assert not allowed(address, config)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_in_every_form_pass_both(
    address: str, policies: tuple[TargetPolicy, Config]
) -> None:
    policy, config = policies
    assert policy.allows("mail.example.com", 993, address)
    assert allowed(address, config)


def test_autoconfig_fetch_stops_at_a_nat64_metadata_address(mail_world: object) -> None:
    world: MailWorld = mail_world(dovecot=False)  # type: ignore[operator]
    world.zone.set("autoconfig.evil.test", "AAAA", "64:ff9b::a9fe:a9fe")
    config = Config.load(world.config_path)
    config = dataclasses.replace(config, allow_private=False)
    got = asyncio.run(https_get("autoconfig.evil.test", "/mail/config-v1.1.xml", config=config,
                                resolver=make_resolver(config), max_bytes=10_000))
    assert got.outcome == "policy", got
    assert "not a public address" in got.detail
