"""The provider catalogue: bundled ISPDB facts, curated overrides and ISPs, then the user's files.

Precedence, lowest first: the bundled `bot/data/catalog.json` (generated from Thunderbird's
ISPDB by `scripts/build-catalog`), the curated `bot/data/overrides.yaml`, the curated ISPs the
ISPDB lacks (`bot/data/curated_providers.yaml`, bot.catalog.curated), then the files named in
`[catalog] files`, which win for every domain they list.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.catalog.autoconfig import parse_file
from bot.catalog.curated import curated_providers
from bot.catalog.model import Provider, ServerSettings
from bot.config import Config
from bot.errors import CatalogError

log = logging.getLogger(__name__)

CATALOG_FORMAT = 1
# Similarity (0-1, Levenshtein) a typed host needs to a catalogue host to be suggested:
# one wrong TLD (".com" for ".net") on a 20-character name is 0.85, a dropped letter ~0.95.
SUGGEST_CUTOFF = 0.8
SUGGEST_DOMAIN_CUTOFF = 0.85  # domains are short: one slip in "gmial.com" is already 0.89
_TEMPLATE = "%EMAILDOMAIN%"


@dataclass(frozen=True)
class MxRule:
    """A curated mapping from an MX host suffix to a catalogue provider id."""

    suffix: str
    provider_id: str


class Catalog:
    """Providers by domain and by server host; build with `Catalog.load(config)`."""

    def __init__(
        self,
        providers: Iterable[Provider],
        *,
        mx_rules: Iterable[MxRule] = (),
        problems: Iterable[str] = (),
    ) -> None:
        self._by_domain: dict[str, Provider] = {}
        self._by_id: dict[str, Provider] = {}
        self._by_host: dict[str, Provider] = {}
        for provider in providers:  # later ones take precedence
            self._add(provider)
        self.mx_rules: tuple[MxRule, ...] = tuple(
            sorted(mx_rules, key=lambda r: -len(r.suffix))  # longest suffix wins
        )
        self.problems: tuple[str, ...] = tuple(problems)  # skipped files, with reasons
        self._hosts: list[str] = sorted(self._by_host)
        self._domains: list[str] = []  # filled on first use of suggest_domain

    def _add(self, provider: Provider) -> None:
        old = self._by_id.get(provider.id)
        if old is not None:  # a replaced provider keeps no stale domain or host entries
            self._by_domain = {d: p for d, p in self._by_domain.items() if p is not old}
            self._by_host = {h: p for h, p in self._by_host.items() if p is not old}
        self._by_id[provider.id] = provider
        for domain in provider.domains:
            self._by_domain[domain.lower()] = provider
        for server in provider.incoming + provider.outgoing:
            host = server.host.lower()
            current = self._by_host.get(host)
            if _TEMPLATE not in host and (
                current is None or _host_claim(provider, host) >= _host_claim(current, host)
            ):
                self._by_host[host] = provider

    @classmethod
    def load(cls, config: Config | None = None) -> Catalog:
        """Bundled data, curated overrides and ISPs, then `config.catalog_files` (bad ones
        skipped)."""
        config = config or Config()
        overrides = _bundled_overrides()
        providers = [_apply_override(p, overrides.get(p.id)) for p in _bundled_providers()]
        providers.extend(curated_providers())
        problems: list[str] = []
        for path in _expand_folders(config.catalog_files):
            try:
                providers.append(parse_file(path, source="config file"))
            except CatalogError as exc:
                log.warning("skipping provider file: %s", exc)
                problems.append(str(exc))
        return cls(providers, mx_rules=_bundled_mx_rules(), problems=problems)

    @property
    def providers(self) -> tuple[Provider, ...]:
        """Every provider once, sorted by id."""
        return tuple(self._by_id[k] for k in sorted(self._by_id))

    @property
    def domains(self) -> tuple[str, ...]:
        """Every mail domain the catalogue knows, sorted."""
        return tuple(sorted(self._by_domain))

    def lookup(self, domain: str) -> Provider | None:
        """The provider for a mail domain (or an address), case-insensitive.

        `%EMAILDOMAIN%` in host names (hosting providers) is filled in with `domain`.
        """
        domain = domain.rpartition("@")[2].strip().lower().rstrip(".")
        provider = self._by_domain.get(domain)
        return fill_domain(provider, domain) if provider else None

    def by_id(self, provider_id: str) -> Provider | None:
        """The provider with this id (as in the ISPDB file name), if any."""
        return self._by_id.get(provider_id.lower())

    def provider_for_host(self, host: str) -> Provider | None:
        """The provider that publishes this server host name, if any."""
        return self._by_host.get(host.strip().lower().rstrip("."))

    def provider_for_mx(self, mx_host: str) -> Provider | None:
        """The provider behind an MX host: curated suffixes first, then its parent domains.

        `aspmx.l.google.com` is tried as `l.google.com`, then `google.com` (a Gmail domain).
        """
        host = mx_host.strip().lower().rstrip(".")
        for rule in self.mx_rules:
            if host == rule.suffix or host.endswith("." + rule.suffix):
                found = self.by_id(rule.provider_id)
                if found:
                    return found
        labels = host.split(".")
        for i in range(len(labels) - 1):  # never a bare top-level domain
            candidate = ".".join(labels[i:])
            provider = self._by_domain.get(candidate) or self._by_host.get(candidate)
            if provider:
                return provider
        return None

    def suggest_host(self, host: str) -> str | None:
        """The catalogue host a mistyped server name most likely meant, or None.

        Only a suggestion for the user to confirm: a known host, or nothing close, gives None.
        """
        return _closest(host, self._hosts, set(self._by_host), SUGGEST_CUTOFF)

    def suggest_domain(self, domain: str) -> str | None:
        """The catalogue mail domain a mistyped one (gmial.com) most likely meant, or None."""
        if not self._domains:
            self._domains.extend(sorted(self._by_domain))
        return _closest(domain.rpartition("@")[2], self._domains, set(self._by_domain),
                        SUGGEST_DOMAIN_CUTOFF)


def _closest(typed: str, choices: list[str], known: set[str], cutoff: float) -> str | None:
    # Imported here: rapidfuzz costs ~15 ms to import and most runs never suggest anything.
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    typed = typed.strip().lower().rstrip(".")
    if not typed or typed in known:
        return None
    # OSA counts a swapped pair of letters (gmial) as one edit, the commonest typing slip.
    best = process.extractOne(typed, choices, scorer=OSA.normalized_similarity,
                              score_cutoff=cutoff)
    return best[0] if best else None


def _expand_folders(paths: Iterable[Path]) -> list[Path]:
    """A folder in `[catalog] files` stands for the *.xml files in it, in name order."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.glob("*.xml")) if path.is_dir() else [path])
    return out


def _host_claim(provider: Provider, host: str) -> tuple[bool, bool]:
    """Who a shared host belongs to: a config file first, then the provider whose domain
    the host is under (smtp.gmail.com is Gmail's, though umich.edu lists it too)."""
    owns = any(host == d or host.endswith("." + d) for d in provider.domains)
    return provider.source == "config file", owns


def fill_domain(provider: Provider, domain: str) -> Provider:
    """The provider with `%EMAILDOMAIN%` in server host names replaced by `domain`."""
    servers = provider.incoming + provider.outgoing
    if not any(_TEMPLATE in s.host for s in servers):
        return provider

    def fill(s: ServerSettings) -> ServerSettings:
        return replace(s, host=s.host.replace(_TEMPLATE, domain))

    return replace(
        provider,
        incoming=tuple(fill(s) for s in provider.incoming),
        outgoing=tuple(fill(s) for s in provider.outgoing),
    )


@functools.cache
def _bundled_providers_cached() -> tuple[Provider, ...]:
    raw = resources.files("bot.data").joinpath("catalog.json").read_bytes()
    data = json.loads(raw)
    if data.get("format") != CATALOG_FORMAT:
        raise CatalogError(f"bot/data/catalog.json: format {data.get('format')!r} is not 1")
    return tuple(Provider.from_dict(p) for p in data["providers"])


def _bundled_providers() -> list[Provider]:
    return list(_bundled_providers_cached())


@functools.cache
def _bundled_override_doc() -> Mapping[str, Any]:
    text = resources.files("bot.data").joinpath("overrides.yaml").read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise CatalogError(f"bot/data/overrides.yaml: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError("bot/data/overrides.yaml: must be a mapping")
    return data


def _bundled_overrides() -> Mapping[str, Mapping[str, Any]]:
    providers = _bundled_override_doc().get("providers") or {}
    if not isinstance(providers, dict):
        raise CatalogError("bot/data/overrides.yaml: `providers` must be a mapping")
    return providers


def _bundled_mx_rules() -> list[MxRule]:
    rules = _bundled_override_doc().get("mx") or {}
    return [MxRule(str(k).lower(), str(v).lower()) for k, v in rules.items()]


def _apply_override(provider: Provider, override: Mapping[str, Any] | None) -> Provider:
    """Add curated alternative servers (after the published ones) and a note saying why."""
    if not override:
        return provider
    try:
        extra_in = tuple(ServerSettings.from_dict(s) for s in override.get("add_incoming", ()))
        extra_out = tuple(ServerSettings.from_dict(s) for s in override.get("add_outgoing", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"bot/data/overrides.yaml: {provider.id}: bad server: {exc}") from exc
    notes = dict(provider.extra)
    if override.get("note"):
        notes["override_note"] = str(override["note"]).strip()
    return replace(
        provider,
        incoming=provider.incoming + tuple(s for s in extra_in if s not in provider.incoming),
        outgoing=provider.outgoing + tuple(s for s in extra_out if s not in provider.outgoing),
        extra=notes,
    )


def check_config_files(config: Config) -> None:
    """Parse every `[catalog] files` entry (a folder: its *.xml), so bad config fails fast.

    Raises CatalogError as `CONFIG: [catalog] files: FILE: reason` (one line).
    """
    for path in _expand_folders(config.catalog_files):
        try:
            parse_file(path, source="config file")
        except CatalogError as exc:
            raise CatalogError(f"{config.source}: [catalog] files: {exc}") from exc
