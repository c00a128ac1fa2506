"""The curated provider rules (bot/data/provider_rules.yaml): coverage, sources, validation."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog.catalog import Catalog
from bot.catalog.rules import RuleBook, parse_rules
from bot.errors import CatalogError

# The providers issue 12 names, by one address each.
REQUIRED = {
    "someone@gmail.com": "with_2sv", "someone@yahoo.com": "always", "someone@aol.com": "always",
    "someone@verizon.net": "always", "someone@icloud.com": "always",
    "someone@outlook.com": "never", "someone@hotmail.com": "never",
    "someone@att.net": "always", "someone@comcast.net": "never", "someone@gmx.de": "with_2sv",
    "someone@zoho.com": "with_2sv", "someone@fastmail.com": "always",
    "someone@yandex.ru": "always", "someone@mail.ru": "always", "someone@t-online.de": "always",
}


@pytest.mark.parametrize(("email", "app_password"), sorted(REQUIRED.items()))
def test_every_named_provider_has_a_sourced_rule(email: str, app_password: str) -> None:
    rule = RuleBook.load().for_address(email)
    assert rule is not None, email
    assert rule.login.app_password == app_password
    assert rule.login.source.startswith("https://")
    if rule.login.needs_app_password:
        assert rule.login.app_password_url.startswith("https://")
        assert len(rule.login.app_password_steps) >= 2


def test_oauth_only_and_the_dated_switch() -> None:
    book = RuleBook.load()
    outlook = book.for_address("a@outlook.com")
    assert outlook is not None and outlook.login.oauth_only
    assert not outlook.login.needs_app_password  # never suggest an app password there
    # a Microsoft 365 custom domain is found by its catalogue id (MX → office365.com)
    m365 = book.for_address("ceo@firm.example", "office365.com")
    assert m365 is not None and m365.login.switching is not None
    assert m365.login.switching.date == "2026-12-31"
    assert "5.7.30" in m365.login.switching.reply


def test_workspace_domains_get_the_gmail_rule_by_catalogue_id() -> None:
    rule = RuleBook.load().for_address("me@school.example", "googlemail.com")
    assert rule is not None and rule.id == "gmail"


def test_icloud_storage_is_shared_and_imap_only() -> None:
    rule = RuleBook.load().for_address("x@me.com")
    assert rule is not None and rule.storage is not None
    assert rule.single_protocol == "imap"
    assert "Photos" in rule.storage.shared_with and "Backup" in rule.storage.shared_with
    assert "bounce" in rule.storage.when_full
    assert rule.storage.source.startswith("https://support.apple.com/")


def test_catalogue_ids_named_by_rules_exist() -> None:
    catalog = Catalog.load()
    for rule in RuleBook.load().rules:
        for cid in rule.catalog_ids:
            assert catalog.by_id(cid) is not None or cid == "fastmail.com", (rule.id, cid)


def _doc(**login: Any) -> dict[str, Any]:
    base = {"app_password": "never", "source": "https://example.com/help"}
    base.update(login)
    return {"format": 1, "providers": {"x": {"name": "X", "domains": ["x.example"],
                                             "protocols": ["imap"], "login": base}}}


@pytest.mark.parametrize(("login", "message"), [
    ({"source": ""}, "source is required"),
    ({"source": "http://example.com"}, "https://"),
    ({"app_password": "sometimes"}, "app_password must be one of"),
    ({"app_password": "always"}, "needs app_password_url"),
    ({"switching": {"date": "end of 2026", "what": "x", "source": "https://e.com"}},
     "YYYY-MM-DD"),
])
def test_a_bad_rule_is_refused_with_its_place(login: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError, match=message) as info:
        parse_rules(_doc(**login), "rules.yaml")
    assert "rules.yaml: x" in str(info.value)
