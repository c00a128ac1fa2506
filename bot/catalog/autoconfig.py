"""Read Mozilla autoconfig `clientConfig` v1.1 XML into `Provider` values.

Only the settings a mail client needs are kept: domains, names, and every pop3/imap
incoming and smtp outgoing server (hostname, port, socketType, authentication list,
username template). The first server of each kind is the recommended one, the rest are
alternatives. Unknown elements (documentation, webMail, oAuth2, ews ...) are ignored.

The input may come from a provider's own web server, so the parser refuses DTDs and entity
declarations outright (billion-laughs and external-entity attacks) and caps the size.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from bot.catalog.model import SOCKET_TYPES, Protocol, Provider, ServerSettings
from bot.errors import CatalogError
from bot.files import UnreadableFile, read_bounded

log = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024  # the largest ISPDB file is ~10 KB; anything huge is not a config
INCOMING_TYPES: frozenset[str] = frozenset({"pop3", "imap"})
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(rb"\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
# A few ISPDB files drop the closing % ("%EMAILADDRESS"); Thunderbird then sends the literal
# text, which cannot be what the provider meant, so the template is repaired.
_BROKEN_TEMPLATE = re.compile(r"%(EMAILADDRESS|EMAILLOCALPART|EMAILDOMAIN)(?!%)")


def parse_bytes(data: bytes, name: str, *, source: str = "catalogue") -> Provider:
    """Parse one clientConfig document; `name` labels errors (file name or URL)."""
    if len(data) > MAX_BYTES:
        raise CatalogError(f"{name}: {len(data)} bytes is larger than the {MAX_BYTES} allowed")
    text = _decode(data, name)
    # Checked on the decoded text, so a UTF-16 document cannot hide a DTD from the check.
    if _DTD.search(text):
        raise CatalogError(f"{name}: DTD or entity declarations are not allowed")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise CatalogError(f"{name}: not well-formed XML: {exc}") from exc
    return _provider(root, name, source)


def _decode(data: bytes, name: str) -> str:
    """The document as text, in the encoding its BOM or XML declaration names (default UTF-8)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        declared = _DECLARED.match(data)
        encoding = declared.group(1).decode("ascii") if declared else "utf-8-sig"
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{name}: cannot be read as {encoding} text: {exc}") from exc


def parse_file(path: str | Path, *, source: str = "catalogue") -> Provider:
    """Parse one autoconfig file from disk (CatalogError names the file and the reason)."""
    path = Path(path)
    try:
        data = read_bounded(path, MAX_BYTES)  # a FIFO or a device is refused, not read
    except UnreadableFile as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from exc
    return parse_bytes(data, str(path), source=source)


def load_files(paths: list[Path] | tuple[Path, ...], *, source: str) -> list[Provider]:
    """Parse several files; a bad one is logged with its reason and skipped."""
    providers: list[Provider] = []
    for path in paths:
        try:
            providers.append(parse_file(path, source=source))
        except CatalogError as exc:
            log.warning("skipping provider file: %s", exc)
    return providers


def _local(tag: object) -> str:
    # Tolerate a default namespace: compare local names only.
    return str(tag).rpartition("}")[2]


def _children(elem: ET.Element, tag: str) -> list[ET.Element]:
    return [c for c in elem if _local(c.tag) == tag]


def _text(elem: ET.Element, tag: str) -> str:
    found = _children(elem, tag)
    return (found[0].text or "").strip() if found else ""


def _provider(root: ET.Element, name: str, source: str) -> Provider:
    if _local(root.tag) != "clientConfig":
        raise CatalogError(f"{name}: root element is <{_local(root.tag)}>, not <clientConfig>")
    found = _children(root, "emailProvider")
    if not found:
        raise CatalogError(f"{name}: no <emailProvider> element")
    elem = found[0]
    domains = _domains(elem, name)
    incoming = tuple(
        _server(s, name, s.get("type", ""))
        for s in _children(elem, "incomingServer")
        if s.get("type") in INCOMING_TYPES
    )
    outgoing = tuple(
        _server(s, name, "smtp")
        for s in _children(elem, "outgoingServer")
        if s.get("type") == "smtp"
    )
    if not incoming and not outgoing:
        raise CatalogError(f"{name}: no pop3, imap or smtp server")
    provider_id = (elem.get("id") or domains[0]).strip().lower()
    return Provider(
        id=provider_id,
        name=_text(elem, "displayName") or provider_id,
        short_name=_text(elem, "displayShortName"),
        domains=domains,
        incoming=incoming,
        outgoing=outgoing,
        source=source,
    )


def _domains(elem: ET.Element, name: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for d in _children(elem, "domain"):
        text = (d.text or "").strip().lower().rstrip(".")
        try:  # lookups use the ASCII (IDNA) form of an address's domain
            text = text.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise CatalogError(f"{name}: <domain> {text!r} is not a valid domain") from exc
        if text:
            seen.setdefault(text, None)
    if not seen:
        raise CatalogError(f"{name}: <emailProvider> has no <domain>")
    return tuple(seen)


def _server(elem: ET.Element, name: str, protocol: str) -> ServerSettings:
    where = f"{name}: <{_local(elem.tag)} type=\"{protocol}\">"
    host = _text(elem, "hostname").lower().rstrip(".").replace("%emaildomain%", "%EMAILDOMAIN%")
    if len(host) > 253 or not _HOST.fullmatch(host.replace("%EMAILDOMAIN%", "example.com")):
        raise CatalogError(f"{where} has a missing or invalid <hostname> {host!r}")
    port_text = _text(elem, "port")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise CatalogError(f"{where} has a missing or invalid <port> {port_text!r}")
    socket_type = _text(elem, "socketType")
    if socket_type not in SOCKET_TYPES:
        raise CatalogError(
            f"{where} has <socketType> {socket_type!r}; expected SSL, STARTTLS or plain"
        )
    auth = tuple(
        dict.fromkeys(
            (a.text or "").strip() for a in _children(elem, "authentication") if a.text
        )
    )
    username = _BROKEN_TEMPLATE.sub(r"%\1%", _text(elem, "username")) or "%EMAILADDRESS%"
    proto: Protocol = "smtp" if protocol == "smtp" else ("imap" if protocol == "imap" else "pop3")
    return ServerSettings(
        protocol=proto,
        host=host,
        port=int(port_text),
        security=SOCKET_TYPES[socket_type],
        auth=auth or ("password-cleartext",),
        username=username,
    )
