"""Curated providers: large consumer ISPs that Thunderbird's ISPDB lacks, from their help pages.

`bot/data/curated_providers.yaml` (its format is documented at its top) is read into the same
`Provider` records as the ISPDB-derived catalogue, so the engine treats them alike. Every entry
is checked when it is read; a problem is a `CatalogError` naming `FILE:LINE` and the field:

    bot/data/curated_providers.yaml:31: cox.net: incoming[0]: port must be 1-65535, not 0

The page that states the settings (`source`), what kind of page it is (`source_kind`: `isp` for
the ISP's own help page, `third_party` for a public list such as Delta Chat's provider database
when the ISP's own page could not be found) and the login note ride along in `Provider.extra`
(`source_url`, `source_kind`, `login_note`, `curated: True`).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from bot.catalog.model import Provider, ServerSettings
from bot.errors import CatalogError
from bot.yamlguard import MAX_NODES, YamlProblem, expanded_size

CURATED_FILE = "curated_providers.yaml"
PROTOCOLS = {"incoming": ("imap", "pop3"), "outgoing": ("smtp",)}
SECURITIES = ("ssl", "starttls", "none")
USERNAMES = ("%EMAILADDRESS%", "%EMAILLOCALPART%")
SOURCE_KINDS = ("isp", "third_party")
_KEYS = {"name", "short_name", "domains", "incoming", "outgoing", "username", "login_note",
         "source", "source_kind"}
_SERVER_KEYS = {"protocol", "host", "port", "security"}


@functools.cache
def curated_providers() -> tuple[Provider, ...]:
    """The bundled curated providers (CatalogError with FILE:LINE when an entry is wrong)."""
    text = resources.files("bot.data").joinpath(CURATED_FILE).read_text(encoding="utf-8")
    return parse_curated(text, f"bot/data/{CURATED_FILE}")


def parse_curated(text: str, label: str) -> tuple[Provider, ...]:
    """A curated-providers document → providers, in file order; CatalogError if wrong."""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if root is not None and expanded_size(root) > MAX_NODES:
            raise CatalogError(f"{label}:1: too large once YAML aliases are expanded")
    except YamlProblem as exc:
        raise CatalogError(f"{label}:{exc.line}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{label}: not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise CatalogError(f"{label}:1: must be a mapping with `format: 1` and `providers:`")
    top = _mapping(root)
    if _scalar(top.get("format")) != "1":
        raise CatalogError(f"{label}:{_line(root)}: `format: 1` is required")
    providers = top.get("providers")
    if not isinstance(providers, yaml.MappingNode) or not providers.value:
        raise CatalogError(f"{label}:{_line(root)}: `providers` must be a non-empty mapping")
    seen: dict[str, int] = {}
    out: list[Provider] = []
    for key_node, body in providers.value:
        provider = _provider(str(key_node.value).lower(), body, label)
        for domain in provider.domains:
            if domain in seen:
                raise CatalogError(f"{label}:{_line(body)}: {provider.id}: domain {domain} is "
                                   f"already listed at line {seen[domain]}")
            seen[domain] = _line(body)
        out.append(provider)
    return tuple(out)


def _provider(pid: str, node: yaml.Node, label: str) -> Provider:
    where = f"{label}:{_line(node)}: {pid}"
    if not isinstance(node, yaml.MappingNode):
        raise CatalogError(f"{where}: must be a mapping")
    fields = _mapping(node)
    unknown = sorted(set(fields) - _KEYS)
    if unknown:
        raise CatalogError(f"{where}: unknown field {unknown[0]!r} (known: "
                           f"{', '.join(sorted(_KEYS))})")
    source = _text(fields, "source", where, required=True)
    if not source.startswith(("https://", "http://")):
        raise CatalogError(f"{where}: source must be the URL of the page stating these "
                           f"settings, not {source!r}")
    source_kind = _text(fields, "source_kind", where, required=True)
    if source_kind not in SOURCE_KINDS:
        raise CatalogError(f"{where}: source_kind must be isp or third_party, "
                           f"not {source_kind!r}")
    username = _text(fields, "username", where) or "%EMAILADDRESS%"
    if username not in USERNAMES:
        raise CatalogError(f"{where}: username must be one of {', '.join(USERNAMES)}")
    extra: dict[str, Any] = {"curated": True, "source_url": source, "source_kind": source_kind}
    if note := _text(fields, "login_note", where):
        extra["login_note"] = note
    return Provider(
        id=pid, name=_text(fields, "name", where, required=True),
        short_name=_text(fields, "short_name", where),
        domains=_domains(fields.get("domains"), where),
        incoming=_servers(fields.get("incoming"), "incoming", username, label, pid),
        outgoing=_servers(fields.get("outgoing"), "outgoing", username, label, pid),
        extra=extra,
    )


def _servers(node: yaml.Node | None, side: str, username: str, label: str,
             pid: str) -> tuple[ServerSettings, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        line = _line(node) if node is not None else 0
        raise CatalogError(f"{label}:{line}: {pid}: {side} must list at least one server")
    return tuple(_server(item, side, username, f"{label}:{_line(item)}: {pid}: {side}[{i}]")
                 for i, item in enumerate(node.value))


def _server(node: yaml.Node, side: str, username: str, where: str) -> ServerSettings:
    if not isinstance(node, yaml.MappingNode):
        raise CatalogError(f"{where}: must be {{protocol, host, port, security}}")
    fields = _mapping(node)
    if set(fields) != _SERVER_KEYS:
        raise CatalogError(f"{where}: needs exactly protocol, host, port and security")
    protocol, security = _scalar(fields["protocol"]), _scalar(fields["security"])
    if protocol not in PROTOCOLS[side]:
        raise CatalogError(f"{where}: protocol must be {' or '.join(PROTOCOLS[side])}, "
                           f"not {protocol!r}")
    if security not in SECURITIES:
        raise CatalogError(f"{where}: security must be ssl, starttls or none, not {security!r}")
    host = _scalar(fields["host"]).lower()
    if not host or "." not in host or any(c.isspace() or c in "/:@" for c in host):
        raise CatalogError(f"{where}: host must be a server name, not {host!r}")
    port = _scalar(fields["port"])
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CatalogError(f"{where}: port must be 1-65535, not {port}")
    return ServerSettings(protocol, host, int(port), security,  # type: ignore[arg-type]
                          ("password-cleartext",), username)


def _domains(node: yaml.Node | None, where: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise CatalogError(f"{where}: domains must list at least one mail domain")
    domains = tuple(_scalar(d).lower() for d in node.value)
    bad = next((d for d in domains if "." not in d or "@" in d or " " in d), None)
    if bad is not None:
        raise CatalogError(f"{where}: {bad!r} is not a mail domain")
    return domains


def _text(fields: dict[str, yaml.Node], key: str, where: str, required: bool = False) -> str:
    node = fields.get(key)
    if node is not None and not isinstance(node, yaml.ScalarNode):
        raise CatalogError(f"{where}: {key} must be text")
    value = " ".join(_scalar(node).split()) if node is not None else ""
    if required and not value:
        raise CatalogError(f"{where}: {key} is required")
    return value


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {str(k.value): v for k, v in node.value}


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
