"""Configuration (`--config F`, TOML) as in CONTRACT.md, with the defaults each mode uses."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.files import UnreadableFile, read_text_bounded

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Nameserver:
    """One DNS server to query (host and UDP/TCP port)."""

    host: str
    port: int = 53

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """Parse `host`, `host:port` or `[v6]:port`."""
        text = text.strip()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif text.count(":") == 1:
            host, port = text.split(":")
        else:
            host, port = text, "53"
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"[dns] nameservers: {text!r} is not host or host:port")
        try:
            # a name would itself need the system resolver, which this setting replaces
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"[dns] nameservers: {host!r} is not an IP address (a name "
                              "server is given by address, e.g. \"127.0.0.1:5353\")") from None
        return cls(host, int(port))


MAX_TIMEOUT = 300.0  # seconds per probe step; more is a typo (or infinity), not a setting


@dataclass(frozen=True)
class Config:
    """Every setting deskbot reads; build with `Config.load(path)` or `Config()`."""

    nameservers: tuple[Nameserver, ...] = ()  # empty: the system resolver
    ca_file: Path | None = None
    catalog_files: tuple[Path, ...] = ()
    timeout: float = 5.0
    allow_private: bool = True
    # ports `deskbot probe --join` counts as mail ports ([probes] mail_ports; the customer's
    # own setting: SMTP 25/465/587/2525, POP3 110/995, IMAP 143/993 by default)
    mail_ports: frozenset[int] = frozenset({25, 465, 587, 2525, 110, 995, 143, 993})
    serve: dict[str, Any] = field(default_factory=dict)  # [serve] table, read by the service
    handoff: dict[str, Any] = field(default_factory=dict)  # [handoff] table (the webhook)
    source: Path | None = None

    @classmethod
    def load(cls, path: str | Path | None, *, serve_mode: bool = False) -> Config:
        """Read a TOML config; relative paths in it are relative to the file."""
        if path is None:
            return cls(allow_private=not serve_mode)
        path = Path(path)
        try:
            data = tomllib.loads(read_text_bounded(path, MAX_CONFIG_BYTES))
        except UnreadableFile as exc:  # missing, a FIFO or a device, too large, not UTF-8
            raise ConfigError(f"{path}: cannot read config: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        return _from_dict(data, path, serve_mode)

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with some settings changed."""
        return replace(self, **changes)


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


# The keys of each table this module reads; [serve] and [handoff] are read by the service.
# A misspelt key must not pass silently: `nameserver = …` would fall back to the system resolver.
KNOWN_KEYS: dict[str, frozenset[str] | None] = {
    "dns": frozenset({"nameservers"}),
    "tls": frozenset({"ca_file"}),
    "catalog": frozenset({"files"}),
    "probes": frozenset({"timeout", "allow_private", "mail_ports"}),
    "serve": None,
    "handoff": None,
}


def _check_known(data: dict[str, Any], path: Path) -> None:
    for name, value in data.items():
        if name not in KNOWN_KEYS:
            known = ", ".join(f"[{t}]" for t in KNOWN_KEYS)
            raise ConfigError(f"{path}: unknown table [{name[:40]}] (known: {known})")
        keys = KNOWN_KEYS[name]
        if keys is not None and isinstance(value, dict):
            unknown = sorted(set(value) - keys)
            if unknown:
                raise ConfigError(f"{path}: [{name}] has no setting {unknown[0][:40]!r} "
                                  f"(known: {', '.join(sorted(keys))})")


def _from_dict(data: dict[str, Any], path: Path, serve_mode: bool) -> Config:
    _check_known(data, path)
    base = path.parent
    dns, tls, catalog = (_table(data, n, path) for n in ("dns", "tls", "catalog"))
    probes, serve = _table(data, "probes", path), _table(data, "serve", path)
    handoff = _table(data, "handoff", path)
    servers = dns.get("nameservers", [])
    files = catalog.get("files", [])
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        raise ConfigError(f"{path}: [dns] nameservers must be a list of \"host:port\" strings")
    if "nameservers" in dns and not servers:
        # an empty list reads as "no DNS at all" but would mean the system resolver
        raise ConfigError(f"{path}: [dns] nameservers is empty; list at least one, or leave "
                          "the setting out to use the system resolver")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f"{path}: [catalog] files must be a list of paths")
    timeout = probes.get("timeout", 5.0)
    if (isinstance(timeout, bool) or not isinstance(timeout, int | float)
            or not 0 < timeout <= MAX_TIMEOUT):
        raise ConfigError(f"{path}: [probes] timeout must be a number of seconds above 0 and "
                          f"at most {MAX_TIMEOUT:g}")
    allow_private = probes.get("allow_private", not serve_mode)
    if not isinstance(allow_private, bool):
        raise ConfigError(f"{path}: [probes] allow_private must be true or false")
    ports = probes.get("mail_ports", sorted(Config.mail_ports))
    if not isinstance(ports, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in ports):
        raise ConfigError(f"{path}: [probes] mail_ports must be a list of port numbers")
    ca_file = tls.get("ca_file")
    if ca_file is not None and not isinstance(ca_file, str):
        raise ConfigError(f"{path}: [tls] ca_file must be a path")
    try:
        nameservers = tuple(Nameserver.parse(s) for s in servers)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    catalog_files = tuple(base / f for f in files)
    for file in catalog_files:
        if not file.exists():
            raise ConfigError(f"{path}: [catalog] files: {file}: no such file or folder")
    return Config(
        nameservers=nameservers,
        ca_file=_checked_ca_file(base / ca_file, path) if ca_file else None,
        catalog_files=catalog_files,
        timeout=float(timeout),
        allow_private=allow_private,
        mail_ports=frozenset(ports),
        serve=serve,
        handoff=handoff,
        source=path,
    )


def _checked_ca_file(ca_file: Path, path: Path) -> Path:
    """The CA file, once it is known to hold PEM certificates OpenSSL accepts as trust roots.

    Raises ConfigError naming the config file, the CA file and the reason.
    """
    import ssl  # only configs naming a CA file pay for it

    try:
        ssl.create_default_context(cafile=str(ca_file))
    except ssl.SSLError as exc:  # before OSError, its base class
        raise ConfigError(f"{path}: [tls] ca_file {ca_file}: no usable PEM certificate in it "
                          f"({exc.reason or exc})") from exc
    except FileNotFoundError:
        raise ConfigError(f"{path}: [tls] ca_file {ca_file}: no such file") from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: [tls] ca_file {ca_file}: cannot read: {exc.strerror or exc}") from exc
    return ca_file
