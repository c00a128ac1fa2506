"""Discovery against real loopback peers: an HTTPS autoconfig server, a DNS server, TCP ports."""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from bot.catalog.catalog import Catalog
from bot.config import Config, Nameserver
from bot.probes.discovery import Discovery, discover
from bot.probes.model import Check
from tests.peers.dnsserver import DnsServer, Zone
from tests.peers.faults import MisbehavingServer

HTTPS_NAMES = ("autoconfig.corp.test", "corp.test", "wk.test", "autoconfig.wk.test",
               "autoconfig.bad.test", "bad.test", "big.test", "autoconfig.big.test")


def autoconfig_xml(domain: str, name: str) -> bytes:
    return f"""<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="{domain}">
  <domain>{domain}</domain><displayName>{name}</displayName>
  <incomingServer type="imap"><hostname>imap.%EMAILDOMAIN%</hostname><port>993</port>
    <socketType>SSL</socketType><authentication>password-cleartext</authentication>
    <username>%EMAILADDRESS%</username></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.{domain}</hostname><port>587</port>
    <socketType>STARTTLS</socketType><authentication>password-cleartext</authentication>
    <username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>""".encode()


@dataclass
class HttpsServer:
    """Serves `routes[(host, path)] = (status, body)` over TLS; records what was asked."""

    context: ssl.SSLContext
    routes: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.IncompleteReadError):
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split()[1]
            host = next(h.split(":", 1)[1].strip() for h in head if h.lower().startswith("host:"))
            self.requests.append((host, path))
            status, body = self.routes.get((host, path), (404, b"not found"))
            extra = f"Location: {body.decode()}\r\n" if 300 <= status < 400 else ""
            writer.write(f"HTTP/1.1 {status} X\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
                         .encode())
            writer.write(body)
            await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@dataclass
class Peers:
    zone: Zone
    dns: DnsServer
    https: HttpsServer
    config: Config
    catalog: Catalog

    async def discover(self, email: str, **kwargs: object) -> Discovery:
        return await discover(email, self.catalog, self.config, https_port=self.https.port,
                              **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*HTTPS_NAMES).configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(Config())


@pytest.fixture
async def peers(ca: trustme.CA, ca_file: Path, catalog: Catalog) -> AsyncIterator[Peers]:
    zone = Zone()
    dns = DnsServer(zone)
    await dns.start()
    https = HttpsServer(server_context(ca))
    await https.start()
    config = Config(nameservers=(Nameserver("127.0.0.1", dns.port),), ca_file=ca_file,
                    timeout=1.0)
    yield Peers(zone, dns, https, config, catalog)
    await https.stop()
    await dns.stop()


def probes(d: Discovery) -> list[tuple[str, str]]:
    return [(s.probe, s.outcome) for s in d.steps]


# --- catalogue --------------------------------------------------------------------------------


async def test_catalogue_hit_needs_no_network(peers: Peers) -> None:
    found = await peers.discover("ann@CenturyLink.net")
    assert found.provider is not None and found.provider.name == "CenturyLink.net"
    assert probes(found) == [("catalogue", "ok")]
    assert "CenturyLink.net" in found.steps[0].evidence
    assert peers.zone.queries == [] and peers.https.requests == []


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@nodot", "a@evil.test\r\nHost: other.test", "a@sp ace.test"]
)
async def test_not_an_address_is_one_failed_step_and_no_network(
    peers: Peers, email: str
) -> None:
    found = await peers.discover(email)
    assert found.provider is None
    assert probes(found) == [("catalogue", "invalid")]
    assert "not an e-mail address" in found.steps[0].evidence
    assert peers.zone.queries == []


async def test_international_domain_is_looked_up_in_its_ascii_form(peers: Peers) -> None:
    peers.zone.add("xn--bcher-kva.test", "MX", "10 aspmx.l.google.com")
    found = await peers.discover("ann@Bücher.test")
    assert found.domain == "xn--bcher-kva.test"
    assert found.found_by == "mx"


# --- autoconfig URLs ----------------------------------------------------------------------------


async def test_autoconfig_subdomain_wins_before_mx(peers: Peers) -> None:
    peers.zone.add("autoconfig.corp.test", "A", "127.0.0.1")
    peers.zone.add("corp.test", "MX", "10 aspmx.l.google.com")
    peers.https.routes[("autoconfig.corp.test", "/mail/config-v1.1.xml")] = (
        200, autoconfig_xml("corp.test", "Corp Mail"))
    found = await peers.discover("bob@corp.test")
    assert probes(found) == [("catalogue", "not_found"), ("autoconfig", "ok")]
    assert found.found_by == "autoconfig"
    provider = found.provider
    assert provider is not None and provider.name == "Corp Mail"
    assert provider.source == "autoconfig URL"
    assert provider.incoming[0].host == "imap.corp.test"  # %EMAILDOMAIN% filled in
    assert "https://autoconfig.corp.test" in found.steps[1].target


class Watcher:
    """A ProbeObserver that remembers what it was told."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []
        self.finished: list[Check] = []

    def check_started(self, probe: str, target: str) -> None:
        self.started.append((probe, target))

    def check_finished(self, check: Check) -> None:
        self.finished.append(check)


async def test_observer_sees_every_step_start_and_end(peers: Peers) -> None:
    peers.zone.add("autoconfig.corp.test", "A", "127.0.0.1")
    peers.https.routes[("autoconfig.corp.test", "/mail/config-v1.1.xml")] = (
        200, autoconfig_xml("corp.test", "Corp Mail"))
    watcher = Watcher()
    found = await peers.discover("bob@corp.test", observer=watcher)
    assert [p for p, _ in watcher.started] == ["catalogue", "autoconfig", "autoconfig", "mx",
                                               "srv"]
    assert [(c.probe, c.status) for c in watcher.finished] == [
        ("catalogue", "fail"), ("autoconfig", "ok"),
        ("autoconfig", "skipped"), ("mx", "skipped"), ("srv", "skipped"),
    ]  # every spinner stops, though only the steps that mattered are reported
    assert len(found.steps) == 2
    report = found.as_report()
    assert report.name == "lookup_provider" and report.outcome == "found"
    assert report.facts["found_by"] == "autoconfig"
    assert report.facts["provider_name"] == "Corp Mail"
    assert report.provider == found.provider and report.checks == found.steps


async def test_well_known_url_is_tried_second(peers: Peers) -> None:
    peers.zone.add("wk.test", "A", "127.0.0.1")
    peers.https.routes[("wk.test", "/.well-known/autoconfig/mail/config-v1.1.xml")] = (
        200, autoconfig_xml("wk.test", "WK Mail"))
    found = await peers.discover("c@wk.test")
    assert probes(found) == [
        ("catalogue", "not_found"), ("autoconfig", "nxdomain"), ("autoconfig", "ok"),
    ]
    assert "autoconfig.wk.test does not exist" in found.steps[1].evidence
    assert found.provider is not None and found.provider.name == "WK Mail"


async def test_https_redirects_are_followed_but_not_to_plain_http(peers: Peers) -> None:
    peers.zone.add("autoconfig.corp.test", "A", "127.0.0.1")
    peers.zone.add("corp.test", "A", "127.0.0.1")
    port = peers.https.port
    routes = peers.https.routes
    routes[("autoconfig.corp.test", "/mail/config-v1.1.xml")] = (
        302, f"https://corp.test:{port}/real.xml".encode())
    routes[("corp.test", "/real.xml")] = (200, autoconfig_xml("corp.test", "Moved Mail"))
    routes[("corp.test", "/.well-known/autoconfig/mail/config-v1.1.xml")] = (
        301, b"http://corp.test/insecure.xml")
    found = await peers.discover("p@corp.test")
    assert found.provider is not None and found.provider.name == "Moved Mail"
    assert "redirected to https://corp.test" in found.steps[1].evidence
    routes[("corp.test", "/real.xml")] = (302, b"/real.xml")  # a loop
    again = await peers.discover("q@corp.test")
    assert again.steps[1].outcome == "http_error" and "HTTP 302" in again.steps[1].evidence
    assert again.steps[2].outcome == "http_error"
    assert "only HTTPS URLs are followed" in again.steps[2].evidence


async def test_bad_autoconfig_answers_fall_through_to_srv(peers: Peers) -> None:
    peers.zone.add("autoconfig.bad.test", "A", "127.0.0.1")
    peers.zone.add("bad.test", "A", "127.0.0.1")
    peers.https.routes[("bad.test", "/.well-known/autoconfig/mail/config-v1.1.xml")] = (
        200, b"<clientConfig><emailProvider>")
    peers.zone.add("_imaps._tcp.bad.test", "SRV", "0 1 993 imap.bad.test")
    peers.zone.add("_submission._tcp.bad.test", "SRV", "5 1 2525 backup.bad.test")
    peers.zone.add("_submission._tcp.bad.test", "SRV", "0 1 587 smtp.bad.test")
    peers.zone.add("_pop3s._tcp.bad.test", "SRV", "0 0 0 .")
    found = await peers.discover("d@bad.test")
    assert probes(found) == [
        ("catalogue", "not_found"), ("autoconfig", "http_error"), ("autoconfig", "invalid"),
        ("mx", "no_answer"), ("srv", "ok"),
    ]
    assert "HTTP 404" in found.steps[1].evidence
    assert "not well-formed" in found.steps[2].evidence
    provider = found.provider
    assert provider is not None and provider.source == "srv"
    assert [(s.host, s.port, s.security) for s in provider.incoming] == [
        ("imap.bad.test", 993, "ssl")]
    assert [(s.host, s.port, s.security) for s in provider.outgoing] == [
        ("smtp.bad.test", 587, "starttls"), ("backup.bad.test", 2525, "starttls")]
    assert "_pop3s: not offered" in found.steps[-1].evidence


async def test_untrusted_certificate_is_reported_and_mx_used(peers: Peers) -> None:
    stranger = HttpsServer(server_context(trustme.CA()))  # a CA nobody configured
    await stranger.start()
    try:
        stranger.routes[("autoconfig.corp.test", "/mail/config-v1.1.xml")] = (
            200, autoconfig_xml("corp.test", "Impostor"))
        peers.zone.add("autoconfig.corp.test", "A", "127.0.0.1")
        peers.zone.add("corp.test", "MX", "20 alt1.aspmx.l.google.com")
        peers.zone.add("corp.test", "MX", "10 aspmx.l.google.com")
        found = await discover("e@corp.test", peers.catalog, peers.config,
                               https_port=stranger.port)
    finally:
        await stranger.stop()
    assert found.steps[1].outcome == "tls_error"
    assert "certificate" in found.steps[1].evidence
    assert stranger.requests == []  # nothing was sent over the untrusted connection
    assert found.found_by == "mx"
    provider = found.provider
    assert provider is not None and "gmail.com" in provider.domains and provider.source == "mx"
    assert "aspmx.l.google.com" in found.steps[-1].evidence


async def test_oversized_autoconfig_is_refused(peers: Peers) -> None:
    peers.zone.add("autoconfig.big.test", "A", "127.0.0.1")
    peers.https.routes[("autoconfig.big.test", "/mail/config-v1.1.xml")] = (
        200, b"<clientConfig>" + b" " * 2_000_000)
    found = await peers.discover("f@big.test")
    assert found.steps[1].outcome == "too_large"


async def test_private_addresses_are_refused_when_policy_forbids(peers: Peers) -> None:
    peers.zone.add("autoconfig.corp.test", "A", "127.0.0.1")
    config = Config(nameservers=peers.config.nameservers, ca_file=peers.config.ca_file,
                    timeout=1.0, allow_private=False)
    found = await discover("g@corp.test", peers.catalog, config, https_port=peers.https.port)
    assert found.steps[1].outcome == "policy"
    assert peers.https.requests == []


# --- MX and SRV -----------------------------------------------------------------------------


async def test_mx_of_a_microsoft_365_tenant_maps_to_microsoft_365(peers: Peers) -> None:
    peers.zone.add("tenant.test", "MX", "0 tenant-test.mail.protection.outlook.com")
    found = await peers.discover("h@tenant.test")
    assert found.found_by == "mx"
    assert found.provider is not None and found.provider.name == "Microsoft 365"
    assert found.provider.oauth_only


async def test_null_mx_and_unknown_mx_are_explained(peers: Peers) -> None:
    peers.zone.add("nullmx.test", "MX", "0 .")
    peers.zone.add("other.test", "MX", "10 mx.other-hosting.test")
    null = await peers.discover("i@nullmx.test")
    other = await peers.discover("j@other.test")
    assert ("mx", "null_mx") in probes(null)
    assert ("mx", "not_found") in probes(other)
    mx_step = next(s for s in other.steps if s.probe == "mx")
    assert "mx.other-hosting.test" in mx_step.evidence


# --- guessing ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def listeners(host: str, ports: list[int]) -> AsyncIterator[list[asyncio.Server]]:
    async def greet(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.close()

    servers = [await asyncio.start_server(greet, host, p) for p in ports]
    try:
        yield servers
    finally:
        for s in servers:
            s.close()


async def test_guessing_confirms_hosts_by_connecting(peers: Peers) -> None:
    host = f"127.{random.randint(1, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
    peers.zone.add("mail.guess.test", "A", host)
    peers.zone.add("guess.test", "A", host)
    try:
        ctx = listeners(host, [993, 587])
        await ctx.__aenter__()
    except PermissionError:
        pytest.skip("binding ports 993/587 needs root")
    try:
        found = await peers.discover("k@guess.test")
    finally:
        await ctx.__aexit__(None, None, None)
    assert found.found_by == "guess"
    provider = found.provider
    assert provider is not None and provider.source == "guess"
    assert [(s.host, s.port, s.security) for s in provider.incoming] == [
        ("mail.guess.test", 993, "ssl"), ("guess.test", 993, "ssl")]
    assert [(s.host, s.port) for s in provider.outgoing] == [
        ("mail.guess.test", 587), ("guess.test", 587)]
    assert "mail.guess.test:993" in found.steps[-1].evidence


async def test_guessing_uses_the_injected_port_probe(peers: Peers) -> None:
    peers.zone.add("imap.inj.test", "A", "127.0.0.1")
    peers.zone.add("smtp.inj.test", "A", "127.0.0.1")
    async with listeners("127.0.0.1", [0]) as (server,):
        real_port = server.sockets[0].getsockname()[1]
        asked: list[tuple[str, int]] = []

        async def probe_port(host: str, port: int) -> bool:
            asked.append((host, port))
            if (host, port) != ("imap.inj.test", 143):
                return False
            _, writer = await asyncio.open_connection("127.0.0.1", real_port)
            writer.close()
            return True

        found = await peers.discover("l@inj.test", probe_port=probe_port)
    assert sorted(asked) == sorted(
        [("imap.inj.test", p) for p in (993, 143)] + [("smtp.inj.test", p) for p in (465, 587, 25)]
    )  # only names that exist are tried
    assert found.provider is not None
    assert [(s.host, s.port, s.security) for s in found.provider.incoming] == [
        ("imap.inj.test", 143, "starttls")]
    assert found.provider.outgoing == ()


async def test_nothing_found_says_why_for_every_step(peers: Peers) -> None:
    found = await peers.discover("m@nowhere.test")
    assert found.provider is None
    assert probes(found) == [
        ("catalogue", "not_found"), ("autoconfig", "nxdomain"), ("autoconfig", "nxdomain"),
        ("mx", "nxdomain"), ("srv", "not_found"), ("guess", "not_found"),
    ]
    assert all(s.status == "fail" and s.evidence for s in found.steps)
    assert found.as_report().outcome == "not_found"


# --- deadlines ----------------------------------------------------------------------------------


async def test_dead_dns_fails_every_step_within_the_deadline(peers: Peers) -> None:
    peers.zone.down = True
    config = Config(nameservers=peers.config.nameservers, timeout=0.5)
    start = time.perf_counter()
    found = await discover("n@offline.test", peers.catalog, config)
    elapsed = time.perf_counter() - start
    assert found.provider is None
    network = [s for s in found.steps if s.probe != "catalogue"]
    assert network and all(s.status == "fail" for s in network)
    assert {s.outcome for s in network if s.probe in ("autoconfig", "mx")} == {"timeout"}
    assert "0.5 s" in network[0].evidence
    # The network steps run side by side: two timeouts (lookups, then guessing), not five.
    assert elapsed < 2.0


async def test_silent_https_server_times_out_with_a_reason(peers: Peers) -> None:
    silent = MisbehavingServer("127.0.0.1", "silent")
    await silent.start()
    peers.zone.add("autoconfig.corp.test", "A", "127.0.0.1")
    config = Config(nameservers=peers.config.nameservers, timeout=0.3)
    try:
        found = await discover("o@corp.test", peers.catalog, config, https_port=silent.port)
    finally:
        await silent.stop()
    assert found.steps[1].outcome == "timeout"
    assert "within 0.3 s" in found.steps[1].evidence
