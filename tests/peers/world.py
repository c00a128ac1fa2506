"""A whole mail world on loopback: DNS, SMTP, Dovecot, fault ports, config.toml and catalogue XML.

    with MailWorld(WorldOptions(user_form="localpart")) as world:
        subprocess.run(["deskbot", "probe", world.email, "--config", str(world.config_path)])

Every server runs in a background thread with its own event loop, so the world keeps answering
while a test blocks (a subprocess, a sync client) and works from sync and async code alike.
Run `python -m tests.peers.world` to keep one up for manual use (prints the config path).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.peers.certs import CertKind, CertSet, load, write_certs
from tests.peers.dnsserver import DnsServer, Zone
from tests.peers.dovecot import HOST as DOVECOT_HOST
from tests.peers.dovecot import Dovecot, shared_dovecot
from tests.peers.dovecot_faults import shared_fault_dovecot
from tests.peers.faults import MisbehavingServer, filtered_port, refused_port
from tests.peers.netns import BROKEN_V6
from tests.peers.pop3stub import LockedPop3
from tests.peers.smtp import RelayPolicy, SmtpPeers, SmtpSettings, UserForm

T = TypeVar("T")
SMTP_HOST = "127.0.0.1"
DOMAIN = "example.test"
EMAIL = "alice@example.test"
PASSWORD = "correct horse"


@dataclass(frozen=True)
class WorldOptions:
    """Faults fixed when the world starts (SMTP ones can also be changed later via
    `world.smtp` and `world.set_smtp_cert()`; DNS via `world.zone`)."""

    user_form: UserForm = "address"  # the username form SMTP and Dovecot accept
    catalog_username: str = "%EMAILADDRESS%"  # the XML's <username> template
    smtp_cert: CertKind = "good"
    dovecot_cert: CertKind = "good"
    relay: RelayPolicy = "550"  # unauthenticated relay: 550 5.7.1 at RCPT, 530 at MAIL, open
    smtp_mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN")  # or ("CRAM-MD5",), ("XOAUTH2",)
    basic_auth_disabled: bool = False  # SMTP AUTH answers 535 5.7.139
    app_password_required: bool = False  # SMTP AUTH answers the right password 534 5.7.9
    blocklisted: bool = False  # SMTP MAIL FROM answers a Spamhaus DNSBL refusal
    relay_starttls: bool = True  # False: the relay port speaks plain SMTP only (no STARTTLS)
    smtp_too_many: bool = False  # SMTP EHLO answers 421 4.7.0 too many connections
    pop3_locked: bool = False  # the catalogue's POP3S entry is a server whose mailbox is in use
    oauth_only: bool = False  # the XML lists only OAuth2 authentication
    dovecot: bool = True  # False: no POP3/IMAP (faster start, no Dovecot needed)
    dns_down: bool = False  # the DNS server drops every query (timeouts)
    timeout: float = 1.5  # [probes] timeout written to config.toml
    slow_delay: float = 0.5  # seconds between bytes on the slow port
    fault_dovecot: bool = False  # also start tests/peers/dovecot_faults (ports "faults_*")
    ipv6_broken: bool = False  # mail hosts also get AAAA BROKEN_V6 (start it in a NetNamespace)


@dataclass
class MailWorld:
    """Starts everything on `start()` / `with` / `async with`; see tests/peers/README.md."""

    options: WorldOptions = field(default_factory=WorldOptions)
    root: Path | None = None  # folder for config, XML and certs (default: a new temp folder)
    email: str = EMAIL
    password: str = PASSWORD
    ports: dict[str, int] = field(default_factory=dict)
    zone: Zone = field(default_factory=Zone)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    def __post_init__(self) -> None:
        self._own_root = self.root is None
        self.dir = self.root or Path(tempfile.mkdtemp(prefix="deskbot-world-"))
        self.certs: CertSet | None = None
        self.dovecot: Dovecot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list[Any] = []
        self._sockets: list[socket.socket] = []
        self._smtp_tls: Any = None

    # --- paths a test hands to deskbot -------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.dir / "config.toml"

    @property
    def xml_path(self) -> Path:
        return self.dir / "example.test.xml"

    @property
    def ca_file(self) -> Path:
        return self.dir / "certs" / "ca.pem"

    @property
    def username(self) -> str:
        """The username the servers accept."""
        return self.email if self.options.user_form == "address" else self.email.split("@")[0]

    def answers(self, **slots: object) -> dict[str, str]:
        """Slot values for a client set up like the catalogue says, with overrides."""
        base: dict[str, object] = {
            "email": self.email, "username": self.email, "password": self.password,
            "outgoing_server": "smtp.example.test", "outgoing_port": self.ports["submission"],
            "outgoing_security": "starttls", "outgoing_auth": "true",
        }
        if "imaps" in self.ports:  # without Dovecot there is no incoming server to point at
            base.update(incoming_protocol="imap", incoming_server="imap.example.test",
                        incoming_port=self.ports["imaps"], incoming_security="ssl")
        base.update(slots)
        return {k: str(v) for k, v in base.items() if v is not None}

    def write_answers(self, name: str = "answers.yaml", **slots: object) -> Path:
        """Write `answers(**slots)` as an --answers YAML file; returns its path."""
        path = self.dir / name
        lines = [f'{k}: "{v}"' for k, v in self.answers(**slots).items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> MailWorld:
        """Start every peer and write config.toml and the catalogue XML."""
        self.certs = write_certs(self.dir / "certs")
        self.smtp.email, self.smtp.password = self.email, self.password
        self.smtp.user_form = self.options.user_form
        self.smtp.relay = self.options.relay
        self.smtp.mechanisms = self.options.smtp_mechanisms
        self.smtp.basic_auth_disabled = self.options.basic_auth_disabled
        self.smtp.app_password_required = self.options.app_password_required
        self.smtp.blocklisted = self.options.blocklisted
        self.smtp.relay_starttls = self.options.relay_starttls
        self.smtp.too_many = self.options.smtp_too_many
        self.zone.down = self.options.dns_down
        if self.options.dovecot:
            self.dovecot = shared_dovecot(
                self.certs.files[self.options.dovecot_cert], self.username, self.password
            )
            self.ports.update(self.dovecot.ports)
        if self.options.fault_dovecot:
            faults = shared_fault_dovecot(self.certs.files[self.options.dovecot_cert],
                                          self.password)
            self.ports.update({f"faults_{k}": v for k, v in faults.ports.items()})
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="mail-world")
        self._thread.start()
        try:
            self._call(self._astart())
        except BaseException:
            self.stop()
            raise
        self._fill_zone()
        self._write_files()
        return self

    def stop(self) -> None:
        """Stop every peer this world started (a shared Dovecot stays up for the next)."""
        if self._loop is not None and self._loop.is_running():
            with contextlib.suppress(Exception):
                self._call(self._astop())
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5.0)
        if self._loop is not None and not self._loop.is_running():
            self._loop.close()
        self._loop = None
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        if self._own_root:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> MailWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> MailWorld:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # --- runtime faults ----------------------------------------------------------------
    def set_smtp_cert(self, kind: CertKind) -> None:
        """Present another certificate on every SMTP port from the next handshake on."""
        assert self.certs is not None
        load(self._smtp_tls, self.certs.files[kind])

    # --- internals ---------------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30.0)

    async def _astart(self) -> None:
        assert self.certs is not None
        self._smtp_tls = self.certs.server_context(self.options.smtp_cert)
        dns = DnsServer(self.zone)
        smtp = SmtpPeers(self.smtp, self._smtp_tls, SMTP_HOST)
        misbehaving = {m: MisbehavingServer(SMTP_HOST, m, self.options.slow_delay)
                       for m in ("silent", "garbage", "slow")}
        locked = LockedPop3(
            self.certs.server_context(self.options.dovecot_cert), DOVECOT_HOST,
            lambda: (self.username, self.password),
        )
        servers: list[Any] = [dns, smtp, locked, *misbehaving.values()]
        for server in servers:
            await server.start()
            self._closers.append(server)
        self.ports.update(dns=dns.port, submission=smtp.ports.submission,
                          smtps=smtp.ports.smtps, relay=smtp.ports.relay,
                          pop3s_locked=locked.port)
        self.ports.update({m: s.port for m, s in misbehaving.items()})
        for host, suffix in ((SMTP_HOST, ""), (DOVECOT_HOST, "2")):
            port, socks = filtered_port(host)
            self.ports[f"filtered{suffix}"] = port
            rport, rsock = refused_port(host)
            self.ports[f"refused{suffix}"] = rport
            self._sockets += [*socks, rsock]

    async def _astop(self) -> None:
        for server in reversed(self._closers):
            with contextlib.suppress(Exception):
                await server.stop()
        self._closers.clear()

    def _fill_zone(self) -> None:
        z, p = self.zone, self.ports
        for name in ("smtp", "mail", "mx", ""):
            z.set(f"{name}.{DOMAIN}".lstrip("."), "A", SMTP_HOST)
        for name in ("imap", "pop", "pop3"):
            z.set(f"{name}.{DOMAIN}", "A", DOVECOT_HOST)
        if self.options.ipv6_broken:  # dual-stack hosts whose IPv6 path drops (netns.py)
            for name in ("smtp", "mail", "imap", "pop", "pop3"):
                z.set(f"{name}.{DOMAIN}", "AAAA", BROKEN_V6)
        z.set(DOMAIN, "MX", f"10 mx.{DOMAIN}")
        z.set(f"_submission._tcp.{DOMAIN}", "SRV", f"0 1 {p['submission']} smtp.{DOMAIN}")
        z.set(f"_submissions._tcp.{DOMAIN}", "SRV", f"0 1 {p['smtps']} smtp.{DOMAIN}")
        if self.options.dovecot:
            z.set(f"_imaps._tcp.{DOMAIN}", "SRV", f"0 1 {p['imaps']} imap.{DOMAIN}")
            z.set(f"_imap._tcp.{DOMAIN}", "SRV", f"0 1 {p['imap']} imap.{DOMAIN}")
            z.set(f"_pop3s._tcp.{DOMAIN}", "SRV", f"0 1 {p['pop3s']} pop.{DOMAIN}")
        z.set(f"_pop3._tcp.{DOMAIN}", "SRV", "0 0 0 .")  # RFC 6186: not offered

    def _write_files(self) -> None:
        self.xml_path.write_text(self.catalog_xml(), encoding="utf-8")
        self.config_path.write_text(
            "[dns]\n"
            f'nameservers = ["127.0.0.1:{self.ports["dns"]}"]\n'
            "[tls]\n"
            f'ca_file = "{self.ca_file}"\n'
            "[catalog]\n"
            f'files = ["{self.xml_path}"]\n'
            "[probes]\n"
            f"timeout = {self.options.timeout}\n"
            "allow_private = true\n",
            encoding="utf-8",
        )

    def catalog_xml(self) -> str:
        """The autoconfig clientConfig v1.1 for example.test: first = recommended."""
        auth = "OAuth2" if self.options.oauth_only else "password-cleartext"
        user = self.options.catalog_username
        p = self.ports
        pop3s = p["pop3s_locked"] if self.options.pop3_locked else p.get("pop3s")
        servers: list[tuple[str, str, str, int | None, str]] = [
            ("incomingServer", "imap", "imap.example.test", p.get("imaps"), "SSL"),
            ("incomingServer", "pop3", "pop.example.test", pop3s, "SSL"),
            ("incomingServer", "imap", "imap.example.test", p.get("imap"), "STARTTLS"),
            ("incomingServer", "pop3", "pop.example.test", p.get("pop3"), "STARTTLS"),
            ("outgoingServer", "smtp", "smtp.example.test", p["submission"], "STARTTLS"),
            ("outgoingServer", "smtp", "smtp.example.test", p["smtps"], "SSL"),
        ]
        if self.options.pop3_locked:  # the locked server is the one POP3 to try first
            servers.insert(0, servers.pop(1))
        body = "".join(
            f'    <{tag} type="{kind}">\n'
            f"      <hostname>{host}</hostname>\n      <port>{port}</port>\n"
            f"      <socketType>{sock}</socketType>\n"
            f"      <authentication>{auth}</authentication>\n"
            f"      <username>{user}</username>\n    </{tag}>\n"
            for tag, kind, host, port, sock in servers
            if port is not None
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n'
            f'  <emailProvider id="{DOMAIN}">\n    <domain>{DOMAIN}</domain>\n'
            "    <displayName>Example Test Mail</displayName>\n"
            "    <displayShortName>Example</displayShortName>\n"
            f"{body}  </emailProvider>\n</clientConfig>\n"
        )


def main() -> None:
    """Keep a world up until Ctrl-C, printing its config path and ports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--user-form", choices=["address", "localpart"], default="address")
    parser.add_argument("--timeout", type=float, default=1.5)
    parser.add_argument("--no-dovecot", action="store_true")
    args = parser.parse_args()
    options = WorldOptions(user_form=args.user_form, timeout=args.timeout,
                           dovecot=not args.no_dovecot)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with MailWorld(options) as world:
        print(world.config_path, flush=True)
        # one JSON line for scripts (bench/sweep.py): the account, ports and client answers
        print(json.dumps({"email": world.email, "password": world.password,
                          "ports": world.ports, "answers": world.answers()}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
