"""Provider rules: app passwords, OAuth2-only sign-in, dated switches and storage, per provider.

Curated by hand in `bot/data/provider_rules.yaml` (the format is documented at its top), kept
apart from the ISPDB-derived servers. Every rule carries the provider's help page as `source`;
a rule without one, or with a value outside the documented words, is a `CatalogError` at load.

    book = RuleBook.load()
    rule = book.for_address("bob@icloud.com")          # by domain
    rule = book.for_address("ceo@firm.example", "office365.com")   # by catalogue provider id
    rule.login.needs_app_password                        # True for iCloud
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, cast

import yaml

from bot.errors import CatalogError

AppPassword = Literal["always", "with_2sv", "never"]
APP_PASSWORD_VALUES: tuple[AppPassword, ...] = ("always", "with_2sv", "never")
PROTOCOLS = ("imap", "pop3")
RULES_FILE = "provider_rules.yaml"


@dataclass(frozen=True)
class Switch:
    """A dated change still to come (e.g. Exchange Online's SMTP AUTH basic-auth switch-off)."""

    date: str  # YYYY-MM-DD
    what: str
    reply: str  # the server reply customers will see afterwards
    source: str


@dataclass(frozen=True)
class LoginRule:
    """How the provider treats a mail app's password login."""

    app_password: AppPassword
    oauth_only: bool
    source: str
    app_password_name: str = "app password"
    app_password_url: str = ""
    app_password_steps: tuple[str, ...] = ()
    before: str = ""  # something to switch on first (IMAP access, third-party access)
    since: str = ""
    switching: Switch | None = None

    @property
    def needs_app_password(self) -> bool:
        """True when a refused normal password most likely means "use an app password"."""
        return self.app_password in ("always", "with_2sv") and not self.oauth_only


@dataclass(frozen=True)
class StorageRule:
    """The storage limit, what shares it and what happens to mail when it is full."""

    limit: str
    shared_with: str
    when_full: str
    manage_url: str
    source: str


@dataclass(frozen=True)
class ProviderRule:
    """Everything curated about one provider."""

    id: str
    name: str
    domains: tuple[str, ...]
    catalog_ids: tuple[str, ...]
    protocols: tuple[str, ...]
    login: LoginRule
    storage: StorageRule | None

    @property
    def single_protocol(self) -> str | None:
        """The one incoming protocol mail apps can use, when there is only one (iCloud: imap)."""
        return self.protocols[0] if len(self.protocols) == 1 else None

    def facts(self) -> dict[str, str]:
        """The rule as probe-report facts (strings) that fix texts may name."""
        login = self.login
        out = {
            "rule_provider": self.name, "rule_source": login.source,
            "app_password": login.app_password,
        }
        if login.oauth_only:
            out["oauth_only"] = "true"
        if login.app_password != "never":
            out.update(app_password_name=login.app_password_name,
                       app_password_url=login.app_password_url,
                       app_password_steps="\n".join(
                           f"{i}. {s}" for i, s in enumerate(login.app_password_steps, 1)))
            # what a login test must be given: the app's password, never the account's own
            when = "" if login.app_password == "always" else "With 2-step verification on, "
            out["app_password_needed"] = (
                f"{when}{self.name} accepts only an {login.app_password_name} from mail apps, "
                "not your normal account password")
        if login.before:
            out["login_before"] = login.before
        if login.switching is not None:
            out.update(switch_date=login.switching.date, switch_what=login.switching.what,
                       switch_reply=login.switching.reply,
                       switch_note=f"Coming change ({login.switching.date}): "
                       f"{login.switching.what}.")
        if self.storage is not None and self.storage.limit:
            s = self.storage
            out.update(storage_limit=s.limit, storage_when_full=s.when_full,
                       storage_manage_url=s.manage_url, storage_source=s.source)
            if s.shared_with:
                out["storage_shared_with"] = s.shared_with
            shared = f", shared with {s.shared_with}" if s.shared_with else ""
            full = f" While it is full, {s.when_full}." if s.when_full else ""
            where = f" See and free space at {s.manage_url}." if s.manage_url else ""
            out["storage_note"] = (f"{self.name} gives {s.limit}{shared}.{full}{where}")
        return out


def provider_traits(rule: ProviderRule | None, catalogue_oauth_only: bool = False,
                    ) -> frozenset[str]:
    """The provider facts flows branch on (bot.ids.PROVIDER_TRAITS): sign-in by OAuth only
    (the rule or the catalogue's servers say so), an app password needed, one incoming
    protocol only (`imap_only`), a storage rule with a limit."""
    traits: set[str] = {"oauth_only"} if catalogue_oauth_only else set()
    if rule is not None:
        if rule.login.oauth_only:
            traits.add("oauth_only")
        if rule.login.needs_app_password:
            traits.add("app_password")
        if rule.single_protocol:
            traits.add(f"{rule.single_protocol}_only")
        if rule.storage is not None and rule.storage.limit:
            traits.add("storage_rule")
    return frozenset(traits)


class RuleBook:
    """Provider rules by mail domain and by catalogue provider id."""

    def __init__(self, rules: Iterable[ProviderRule]) -> None:
        self.rules = tuple(rules)
        self._by_domain = {d: r for r in self.rules for d in r.domains}
        self._by_catalog = {c: r for r in self.rules for c in r.catalog_ids}

    @classmethod
    def load(cls) -> RuleBook:
        """The bundled rules (validated; CatalogError names the rule and field at fault)."""
        return _bundled()

    def for_address(self, email: str, catalog_id: str | None = None) -> ProviderRule | None:
        """The rule for an address (its domain first), else for the catalogue provider id."""
        domain = email.rpartition("@")[2].strip().lower().rstrip(".")
        found = self._by_domain.get(domain)
        if found is None and catalog_id:
            found = self._by_catalog.get(catalog_id.lower())
        return found

    def __len__(self) -> int:
        return len(self.rules)


@functools.cache
def _bundled() -> RuleBook:
    text = resources.files("bot.data").joinpath(RULES_FILE).read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise CatalogError(f"bot/data/{RULES_FILE}: not valid YAML: {exc}") from exc
    return RuleBook(parse_rules(data, f"bot/data/{RULES_FILE}"))


def parse_rules(data: Any, where: str) -> list[ProviderRule]:
    """Validate a rules document (see the YAML's header) into rules; CatalogError if wrong."""
    if not isinstance(data, dict) or data.get("format") != 1:
        raise CatalogError(f"{where}: must be a mapping with `format: 1`")
    providers = data.get("providers")
    if not isinstance(providers, dict) or not providers:
        raise CatalogError(f"{where}: `providers` must be a non-empty mapping")
    return [_rule(str(k), v, f"{where}: {k}") for k, v in providers.items()]


def _rule(rule_id: str, raw: Any, where: str) -> ProviderRule:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: must be a mapping")
    protocols = _words(raw, "protocols", where)
    if not protocols or any(p not in PROTOCOLS for p in protocols):
        raise CatalogError(f"{where}: protocols must be some of {', '.join(PROTOCOLS)}")
    domains = _words(raw, "domains", where)
    if not domains:
        raise CatalogError(f"{where}: domains must list at least one mail domain")
    storage = raw.get("storage")
    return ProviderRule(
        id=rule_id, name=_text(raw, "name", where, required=True), domains=domains,
        catalog_ids=_words(raw, "catalog_ids", where), protocols=protocols,
        login=_login(raw.get("login"), f"{where}: login"),
        storage=_storage(storage, f"{where}: storage") if storage is not None else None,
    )


def _login(raw: Any, where: str) -> LoginRule:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: must be a mapping")
    app_password = raw.get("app_password")
    if app_password not in APP_PASSWORD_VALUES:
        raise CatalogError(f"{where}: app_password must be one of "
                           f"{', '.join(APP_PASSWORD_VALUES)}, not {app_password!r}")
    oauth_only = raw.get("oauth_only", False)
    if not isinstance(oauth_only, bool):
        raise CatalogError(f"{where}: oauth_only must be true or false")
    steps = tuple(line.strip() for line in _text(raw, "app_password_steps", where).splitlines()
                  if line.strip())
    url = _text(raw, "app_password_url", where)
    if app_password != "never" and not (url and steps):
        raise CatalogError(f"{where}: an app password rule needs app_password_url and "
                           "app_password_steps")
    switching = raw.get("switching")
    return LoginRule(
        app_password=cast(AppPassword, app_password), oauth_only=oauth_only,
        source=_source(raw, where), app_password_name=_text(raw, "app_password_name", where)
        or "app password", app_password_url=url, app_password_steps=steps,
        before=_text(raw, "before", where), since=_text(raw, "since", where),
        switching=_switch(switching, f"{where}: switching") if switching else None,
    )


def _switch(raw: Any, where: str) -> Switch:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: must be a mapping")
    date = _text(raw, "date", where, required=True)
    if len(date) != 10 or date[4] != "-" or date[7] != "-":
        raise CatalogError(f"{where}: date must be YYYY-MM-DD, not {date!r}")
    return Switch(date, _text(raw, "what", where, required=True), _text(raw, "reply", where),
                  _source(raw, where))


def _storage(raw: Any, where: str) -> StorageRule:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: must be a mapping")
    return StorageRule(limit=_text(raw, "limit", where),
                       shared_with=_text(raw, "shared_with", where),
                       when_full=_text(raw, "when_full", where),
                       manage_url=_text(raw, "manage_url", where), source=_source(raw, where))


def _source(raw: Mapping[str, Any], where: str) -> str:
    source = _text(raw, "source", where, required=True)
    if not source.startswith("https://"):
        raise CatalogError(f"{where}: source must be the provider's https:// help page")
    return source


def _text(raw: Mapping[str, Any], key: str, where: str, required: bool = False) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CatalogError(f"{where}: {key} must be text")
    if required and not value.strip():
        raise CatalogError(f"{where}: {key} is required")
    return " ".join(value.split()) if "\n" not in value.strip() else value.strip()


def _words(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: {key} must be a list of names")
    return tuple(v.strip().lower() for v in value)
