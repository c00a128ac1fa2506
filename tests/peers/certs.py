"""Certificates for the test peers (trustme): good, wrong name, expired, unknown CA."""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import trustme

CertKind = Literal["good", "wrong_name", "expired", "unknown_ca"]
CERT_KINDS: tuple[CertKind, ...] = ("good", "wrong_name", "expired", "unknown_ca")

# Names the good certificate covers: every mail host of example.test plus the loopback IPs.
GOOD_NAMES = (
    "smtp.example.test", "imap.example.test", "pop.example.test", "pop3.example.test",
    "mail.example.test", "example.test", "127.0.0.1", "127.0.0.2",
)
WRONG_NAMES = ("www.other.test", "other.test")


@dataclass(frozen=True)
class CertFiles:
    """PEM files of one server certificate (chain + key together and apart)."""

    kind: CertKind
    chain: Path  # leaf + intermediates
    key: Path
    combined: Path  # chain + key in one file


@dataclass(frozen=True)
class CertSet:
    """The trusted CA and a certificate of every kind, written under one folder."""

    ca_pem: Path  # the root the probes are told to trust ([tls] ca_file)
    files: dict[CertKind, CertFiles]

    def server_context(self, kind: CertKind) -> ssl.SSLContext:
        """A server-side TLS context presenting the certificate of `kind`."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        load(ctx, self.files[kind])
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_pem))


def load(ctx: ssl.SSLContext, files: CertFiles) -> None:
    """(Re)load a certificate into a server context; new handshakes present it."""
    ctx.load_cert_chain(str(files.chain), str(files.key))


@cache
def _authorities() -> tuple[trustme.CA, trustme.CA]:
    # Generating keys costs ~50 ms each: one trusted and one unknown CA per process.
    return trustme.CA(organization_name="deskbot test CA"), trustme.CA(
        organization_name="unknown CA"
    )


@cache
def _leaves() -> dict[CertKind, trustme.LeafCert]:
    trusted, unknown = _authorities()
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    return {
        "good": trusted.issue_cert(*GOOD_NAMES),
        "wrong_name": trusted.issue_cert(*WRONG_NAMES),
        "expired": trusted.issue_cert(
            *GOOD_NAMES, not_before=past - dt.timedelta(days=365), not_after=past
        ),
        "unknown_ca": unknown.issue_cert(*GOOD_NAMES),
    }


def write_certs(folder: Path) -> CertSet:
    """Write the CA and every kind of server certificate as PEM files under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    trusted, _ = _authorities()
    ca_pem = folder / "ca.pem"
    trusted.cert_pem.write_to_path(str(ca_pem))
    files: dict[CertKind, CertFiles] = {}
    for kind, leaf in _leaves().items():
        chain, key, combined = (folder / f"{kind}.{ext}" for ext in ("crt", "key", "pem"))
        chain.write_bytes(b"".join(b.bytes() for b in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(key))
        combined.write_bytes(chain.read_bytes() + key.read_bytes())
        files[kind] = CertFiles(kind, chain, key, combined)
    return CertSet(ca_pem, files)
