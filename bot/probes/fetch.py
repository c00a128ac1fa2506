"""A small, bounded HTTPS GET for autoconfig documents, resolved through our own DNS.

Why not an HTTP library: the host must be resolved with the configured nameservers (tests and
help desks point them elsewhere), the connection must verify the certificate against the URL's
host name while connecting to the address we resolved, honour `[tls] ca_file`, cap the body and
stop at one wall-clock deadline. HTTP/1.0 keeps the reply free of chunked encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import dns.asyncresolver

from bot.addresses import refusal
from bot.config import Config
from bot.probes.dns import resolve_host

HEADER_LIMIT = 16 * 1024
MAX_REDIRECTS = 2
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DNS_OUTCOMES = {"nxdomain": "nxdomain", "timeout": "timeout"}
# A redirect's host and path go into our request line and Host header: nothing odd passes.
_SAFE_HOST = re.compile(r"[a-z0-9._-]{1,253}")
_SAFE_PATH = re.compile(r"/[!-~]{0,2000}")


@dataclass(frozen=True)
class FetchResult:
    """What one GET got: a body on `ok`, otherwise an outcome class and a plain reason."""

    url: str
    outcome: str  # ok | nxdomain | dns_error | timeout | refused | tls_error | http_error |
    # too_large | policy | error
    body: bytes = b""
    detail: str = ""
    status: int = 0
    ms: float = 0.0
    final_url: str = ""  # where the body came from, after redirects

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def tls_context(config: Config) -> ssl.SSLContext:
    """The system trust store plus `config.ca_file` (extra roots)."""
    ctx = ssl.create_default_context()
    if config.ca_file is not None:
        ctx.load_verify_locations(cafile=str(config.ca_file))
    return ctx


def allowed(address: str, config: Config) -> bool:
    """False for loopback/private/multicast targets, and IPv6 forms carrying one, unless the
    config permits them (bot.addresses: the one policy, shared with the probes)."""
    return config.allow_private or refusal(address) is None


def https_url(host: str, path: str, port: int = 443) -> str:
    """The URL `https_get` fetches, as shown to the user."""
    return f"https://{host}{'' if port == 443 else f':{port}'}{path}"


async def https_get(
    host: str,
    path: str,
    *,
    config: Config,
    resolver: dns.asyncresolver.Resolver,
    max_bytes: int,
    port: int = 443,
) -> FetchResult:
    """GET https://host[:port]/path within `config.timeout`; failures are values, not raises.

    Up to MAX_REDIRECTS redirects are followed, to HTTPS URLs only, inside the same deadline.
    """
    url = https_url(host, path, port)
    start = time.perf_counter()
    at = _Hop(host, path, port)  # the hop in progress, for error messages

    def result(outcome: str, detail: str = "", body: bytes = b"", status: int = 0) -> FetchResult:
        ms = (time.perf_counter() - start) * 1e3
        return FetchResult(url, outcome, body, detail, status, ms, at.url)

    try:
        async with asyncio.timeout(config.timeout):
            for hop in range(MAX_REDIRECTS + 1):
                answer = await resolve_host(resolver, at.host, config.timeout)
                if not answer.ok:
                    return result(_DNS_OUTCOMES.get(answer.outcome, "dns_error"),
                                  answer.detail or f"{at.host} has no address")
                address = answer.records[0]
                if not allowed(address, config):
                    return result("policy", f"{at.host} resolves to {address}, which is not "
                                  "a public address")
                raw = await _exchange(at.host, address, at.port, at.path, config, max_bytes)
                outcome, detail, body, status, location = _parse_response(raw)
                if location is None or hop == MAX_REDIRECTS:
                    break
                target = _redirect_target(at.url, location)
                if target is None:
                    return result("http_error", f"redirected to {location[:80]!r}: only "
                                  "HTTPS URLs are followed", status=status)
                at = target
    except TimeoutError:
        return result("timeout", f"no complete answer from {url} within {config.timeout:g} s")
    except ssl.SSLCertVerificationError as exc:
        return result("tls_error", f"{at.host}: certificate not trusted: {exc.verify_message}")
    except ssl.SSLError as exc:
        return result("tls_error", f"{at.host}: TLS failed: {exc.reason or exc}")
    except ConnectionRefusedError:
        return result("refused", f"{at.host} port {at.port} refused the connection")
    except _TooLarge:
        return result("too_large", f"{url} sent more than {max_bytes} bytes")
    except OSError as exc:
        return result("error", f"{url}: {exc.strerror or exc}")
    if at.url != url:
        detail += f" (redirected to {at.url})"
    return result(outcome, detail, body, status)


@dataclass(frozen=True)
class _Hop:
    host: str
    path: str
    port: int

    @property
    def url(self) -> str:
        return https_url(self.host, self.path, self.port)


def _redirect_target(base: str, location: str) -> _Hop | None:
    """Where an HTTPS redirect points; None for any other scheme or a bad URL."""
    target = urlsplit(urljoin(base, location.strip()))
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    try:
        port = target.port or 443
    except ValueError:
        return None
    host = target.hostname or ""
    if target.scheme != "https" or not _SAFE_HOST.fullmatch(host) or not _SAFE_PATH.fullmatch(path):
        return None
    return _Hop(host, path, port)


class _TooLarge(Exception):
    pass


async def _exchange(
    host: str, address: str, port: int, path: str, config: Config, max_bytes: int
) -> bytes:
    reader, writer = await asyncio.open_connection(
        address, port, ssl=tls_context(config), server_hostname=host
    )
    try:
        request = (
            f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: deskbot\r\n"
            "Accept: application/xml, text/xml\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii"))
        await writer.drain()
        data = b""
        while chunk := await reader.read(65536):
            data += chunk
            if len(data) > max_bytes + HEADER_LIMIT:
                raise _TooLarge
        return data
    finally:
        writer.close()
        # The peer may drop TLS without close_notify, or stall the shutdown: the body is
        # already read, so neither may turn into a failure.
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 0.5)


def _parse_response(raw: bytes) -> tuple[str, str, bytes, int, str | None]:
    """(outcome, detail, body, status, redirect location) of a raw HTTP/1.x reply."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return "http_error", f"not an HTTP reply: {lines[0][:60]!r}", b"", 0, None
    status = int(parts[1])
    if status in REDIRECTS:
        location = next((v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
                         if k.strip().lower() == "location"), None)
        if location:
            return "http_error", f"HTTP {status} to {location[:80]}", b"", status, location
    if status != 200:
        return "http_error", f"HTTP {lines[0][len(parts[0]) + 1:]}", b"", status, None
    return "ok", f"HTTP 200, {len(body)} bytes", body, status, None
