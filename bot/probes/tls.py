"""TLS checks: chain trust, host name, validity dates, protocol version; ssl errors translated.

The client context verifies the chain (system store plus `[tls] ca_file`) but leaves the host
name to `inspect()`, so a name mismatch is reported with the names the certificate does cover
instead of a bare handshake failure. Callers must not send a password unless `TlsInfo.ok`.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from bot.diagnoses import Code

TlsOutcome = Literal[
    "ok", "name_mismatch", "expired", "untrusted", "not_tls", "timeout", "error"
]

# OpenSSL X509_V_ERR_* codes seen in SSLCertVerificationError.verify_code
_EXPIRED = {9, 10}  # not yet valid, has expired
_UNTRUSTED = {2, 18, 19, 20, 21, 27}  # unknown issuer, self-signed, untrusted
_HOSTNAME = {62}


@dataclass(frozen=True)
class TlsInfo:
    """What a TLS handshake showed."""

    outcome: TlsOutcome
    detail: str
    version: str = ""
    names: tuple[str, ...] = ()  # DNS names and IPs the certificate covers
    not_after: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def diagnosis(self) -> Code | None:
        """The diagnosis code this outcome supports, if it is a certificate fault."""
        faults: dict[str, Code] = {
            "name_mismatch": "certificate_name_mismatch",
            "expired": "certificate_expired",
            "untrusted": "certificate_untrusted",
        }
        return faults.get(self.outcome)


@cache
def _context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    ctx.check_hostname = False  # checked by inspect(), which can say which names it covers
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """The verifying client context: system roots plus the configured extra CA file."""
    try:
        return _context(str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        from bot.errors import ConfigError

        raise ConfigError(f"[tls] ca_file {ca_file}: cannot load: {exc}") from exc


def cert_names(peercert: dict[str, Any]) -> tuple[str, ...]:
    """Names a decoded certificate covers (subjectAltName, else the common name)."""
    names = tuple(v for k, v in peercert.get("subjectAltName", ()) if k in ("DNS", "IP Address"))
    if names:
        return names
    return tuple(v for rdn in peercert.get("subject", ()) for k, v in rdn if k == "commonName")


def name_matches(host: str, names: tuple[str, ...]) -> bool:
    """RFC 6125 matching: exact, or one wildcard for the left-most label; IPs exactly."""
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for name in names:
        name = name.lower().rstrip(".")
        if ip is not None:
            try:
                if ipaddress.ip_address(name) == ip:
                    return True
            except ValueError:
                continue
        elif name == host or (
            name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]
        ):
            return True
    return False


def inspect(ssl_object: ssl.SSLObject | ssl.SSLSocket | None, host: str) -> TlsInfo:
    """Judge a completed handshake (chain already verified) against the host name."""
    if ssl_object is None:
        return TlsInfo("error", f"{host}: no TLS session")
    peercert = ssl_object.getpeercert() or {}
    names = cert_names(peercert)
    version = ssl_object.version() or ""
    not_after = str(peercert.get("notAfter", ""))
    if not name_matches(host, names):
        covered = ", ".join(names) or "no names"
        return TlsInfo("name_mismatch",
                       f"the certificate is not for {host}; it covers {covered}",
                       version, names, not_after)
    return TlsInfo("ok", f"{version}, certificate for {host} valid until {not_after}",
                   version, names, not_after)


def classify_error(exc: BaseException, host: str) -> TlsInfo:
    """Translate an ssl/socket exception from a handshake into a TlsInfo."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        message = exc.verify_message or str(exc)
        if code in _EXPIRED:
            return TlsInfo("expired", f"the certificate of {host} is outside its validity "
                           f"dates ({message})")
        if code in _UNTRUSTED:
            return TlsInfo("untrusted", f"the certificate of {host} does not lead to a "
                           f"trusted root ({message})")
        if code in _HOSTNAME:
            return TlsInfo("name_mismatch", f"the certificate is not for {host} ({message})")
        return TlsInfo("untrusted", f"the certificate of {host} was rejected ({message})")
    if isinstance(exc, TimeoutError):
        return TlsInfo("timeout", f"{host}: no TLS handshake answer (the port may not speak "
                       "implicit TLS)")
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or str(exc)
        if reason in ("WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE",
                      "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST", "UNEXPECTED_EOF_WHILE_READING"):
            return TlsInfo("not_tls", f"{host}: the server does not speak TLS here ({reason})")
        return TlsInfo("error", f"{host}: TLS handshake failed ({reason})")
    if isinstance(exc, ConnectionError | EOFError):
        return TlsInfo("not_tls", f"{host}: the server closed the connection during the TLS "
                       "handshake")
    return TlsInfo("error", f"{host}: TLS handshake failed ({exc})")
