"""The provider catalogue: autoconfig XML parsing, bundled data, overrides, config precedence."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog.autoconfig import MAX_BYTES, parse_bytes, parse_file
from bot.catalog.catalog import Catalog
from bot.catalog.model import ServerSettings
from bot.config import Config
from bot.errors import CatalogError

ROOT = Path(__file__).resolve().parent.parent
ISPDB = ROOT.parent / "shared" / "data" / "ispdb"

EXAMPLE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>Example.TEST</domain>
    <domain>example-mail.test</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
      <futureElement>ignored</futureElement>
    </incomingServer>
    <incomingServer type="exchange"><hostname>ews.example.test</hostname></incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <documentation url="https://example.test/help"><descr>Help</descr></documentation>
  </emailProvider>
  <webMail><loginPage url="https://example.test/"/></webMail>
</clientConfig>
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(Config())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- autoconfig XML -------------------------------------------------------------------------


def test_parse_reads_every_server_in_order_and_ignores_unknown_elements() -> None:
    provider = parse_bytes(EXAMPLE_XML.encode(), "example.test.xml")
    assert provider.id == "example.test"
    assert provider.name == "Example Mail" and provider.short_name == "Example"
    assert provider.domains == ("example.test", "example-mail.test")
    assert [(s.protocol, s.host, s.port, s.security) for s in provider.incoming] == [
        ("imap", "imap.example.test", 993, "ssl"),
        ("pop3", "pop.example.test", 110, "starttls"),
    ]
    recommended, alternative = provider.outgoing
    assert (recommended.port, recommended.security) == (587, "starttls")
    assert (alternative.port, alternative.security) == (465, "ssl")
    assert provider.incoming[0].auth == ("OAuth2", "password-cleartext")
    assert provider.incoming[0].username_for("ann@example.test") == "ann"
    # The ISPDB sometimes drops the closing %; the template still works.
    assert recommended.username_for("ann@example.test") == "ann@example.test"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<clientConfig><emailProvider id='x'>", "not well-formed XML"),
        ("<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY a 'aaaa'>]><clientConfig/>", "DTD"),
        ("<html><body>hello</body></html>", "not <clientConfig>"),
        ("<clientConfig version='1.1'/>", "no <emailProvider>"),
        (EXAMPLE_XML.replace("<port>993</port>", "<port>99999</port>"), "invalid <port>"),
        (EXAMPLE_XML.replace("imap.example.test<", "imap example<"), "invalid <hostname>"),
        (EXAMPLE_XML.replace("<socketType>SSL", "<socketType>TLS-ish"), "<socketType>"),
    ],
)
def test_malformed_file_names_the_file_and_the_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = write(tmp_path, "broken.test.xml", text)
    with pytest.raises(CatalogError) as err:
        parse_file(path)
    assert str(path) in str(err.value)
    assert reason in str(err.value)


def test_a_dtd_hidden_in_utf16_is_still_refused_and_latin1_is_read() -> None:
    sneaky = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><clientConfig/>'
    with pytest.raises(CatalogError, match="DTD"):
        parse_bytes(sneaky.encode("utf-16"), "sneaky.xml")
    latin1 = EXAMPLE_XML.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        "Example Mail", "Exemple Messagerie é")
    assert parse_bytes(latin1.encode("latin-1"), "l.xml").name == "Exemple Messagerie é"
    with pytest.raises(CatalogError, match="cannot be read as nope"):
        parse_bytes(b'<?xml version="1.0" encoding="nope"?><clientConfig/>', "n.xml")


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    padding = "<!-- pad -->" * (MAX_BYTES // 10)
    path = write(tmp_path, "huge.xml", EXAMPLE_XML.replace("</clientConfig>", padding + "<"))
    with pytest.raises(CatalogError, match="larger than"):
        parse_file(path)


# --- bundled catalogue ----------------------------------------------------------------------


def test_centurylink_settings_come_from_the_bundled_catalogue(catalog: Catalog) -> None:
    provider = catalog.lookup("Someone@CenturyLink.NET")
    assert provider is not None
    assert provider.name == "CenturyLink.net"
    assert "embarqmail.com" in provider.domains
    assert provider.incoming[0] == ServerSettings("pop3", "pop.centurylink.net", 995, "ssl")
    assert catalog.lookup("embarqmail.com") == provider
    assert catalog.lookup("no-such-provider.test") is None


def test_centurylink_override_adds_465_ssl_after_recommended_587(catalog: Catalog) -> None:
    provider = catalog.lookup("centurylink.net")
    assert provider is not None
    ports = [(s.host, s.port, s.security) for s in provider.outgoing]
    assert ports == [
        ("smtp.centurylink.net", 587, "starttls"),
        ("smtp.centurylink.net", 465, "ssl"),
    ]
    assert "465" in provider.extra["override_note"]


@pytest.mark.parametrize(
    ("domain", "oauth_only"),
    [("outlook.com", True), ("hotmail.com", True), ("live.com", True),
     ("gmail.com", False), ("centurylink.net", False)],
)
def test_oauth_only_providers_are_known(catalog: Catalog, domain: str, oauth_only: bool) -> None:
    provider = catalog.lookup(domain)
    assert provider is not None
    assert provider.oauth_only is oauth_only
    assert provider.to_dict()["oauth_only"] is oauth_only


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("smtp.centurylink.com", "smtp.centurylink.net"),
        ("pop.centrylink.net", "pop.centurylink.net"),
        ("SMTP.GMIAL.COM", "smtp.gmail.com"),
        ("qwxz.zzyzx-unrelated.invalid", None),
        ("smtp.centurylink.net", None),  # already right: nothing to suggest
    ],
)
def test_mistyped_host_gets_the_closest_catalogue_host(
    catalog: Catalog, typed: str, suggested: str | None
) -> None:
    assert catalog.suggest_host(typed) == suggested


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("gmial.com", "gmail.com"), ("ann@hotmial.com", "hotmail.com"),
     ("centurylnk.net", "centurylink.net"), ("gmail.com", None), ("mycompany.org", None)],
)
def test_mistyped_domain_gets_the_closest_catalogue_domain(
    catalog: Catalog, typed: str, suggested: str | None
) -> None:
    assert catalog.suggest_domain(typed) == suggested


def test_server_hosts_and_mx_hosts_map_back_to_providers(catalog: Catalog) -> None:
    gmail = catalog.provider_for_host("smtp.gmail.com")
    assert gmail is not None and "gmail.com" in gmail.domains
    assert catalog.provider_for_host("smtp.unknown.test") is None
    assert catalog.provider_for_mx("alt1.aspmx.l.google.com") == gmail
    m365 = catalog.provider_for_mx("contoso-com.mail.protection.outlook.com")
    assert m365 is not None and m365.name == "Microsoft 365" and m365.oauth_only
    assert catalog.provider_for_mx("mx1.centurylink.net") == catalog.lookup("centurylink.net")
    assert catalog.provider_for_mx("mx.unknown.test") is None


def test_host_templates_are_filled_with_the_looked_up_domain(catalog: Catalog) -> None:
    provider = catalog.lookup("messagingengine.com")
    assert provider is not None
    hosts = [s.host for s in provider.incoming + provider.outgoing]
    assert hosts and not any("%" in h for h in hosts)


def test_every_bundled_provider_has_servers_and_unique_domains(catalog: Catalog) -> None:
    providers = catalog.providers
    assert len(providers) >= 160
    assert len({p.id for p in providers}) == len(providers)
    assert all(p.incoming or p.outgoing for p in providers)


# --- config files take precedence -----------------------------------------------------------


def test_config_files_take_precedence_and_bad_ones_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mine = EXAMPLE_XML.replace("example-mail.test", "centurylink.net")
    good = write(tmp_path, "mine.xml", mine)
    bad = write(tmp_path, "bad.xml", "<clientConfig><oops")
    missing = tmp_path / "missing.xml"
    with caplog.at_level(logging.WARNING):
        catalog = Catalog.load(Config(catalog_files=(bad, good, missing)))
    provider = catalog.lookup("centurylink.net")
    assert provider is not None and provider.name == "Example Mail"
    assert provider.source == "config file"
    assert catalog.lookup("example.test") == provider
    assert catalog.lookup("embarqmail.com") is not None  # the rest of CenturyLink stays
    assert len(catalog.problems) == 2
    assert str(bad) in catalog.problems[0] and "not well-formed" in catalog.problems[0]
    assert str(missing) in catalog.problems[1]
    assert str(bad) in caplog.text


def test_config_file_with_same_id_replaces_the_bundled_provider(tmp_path: Path) -> None:
    mine = EXAMPLE_XML.replace('id="example.test"', 'id="centurylink.net"')
    catalog = Catalog.load(Config(catalog_files=(write(tmp_path, "c.xml", mine),)))
    assert catalog.lookup("centurylink.net") is None  # its domains left with the old entry
    assert catalog.lookup("embarqmail.com") is None
    assert catalog.provider_for_host("pop.centurylink.net") is None
    replaced = catalog.by_id("centurylink.net")
    assert replaced is not None and replaced.name == "Example Mail"


# --- the generator --------------------------------------------------------------------------


@pytest.mark.skipif(not ISPDB.is_dir(), reason="ISPDB snapshot not present")
def test_build_catalog_reproduces_the_bundled_data(tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build-catalog"), str(ISPDB), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    assert "wrote" in run.stdout
    assert out.read_bytes() == (ROOT / "bot" / "data" / "catalog.json").read_bytes()


def test_build_catalog_keeps_settings_only_and_skips_bad_files(tmp_path: Path) -> None:
    src = tmp_path / "ispdb"
    src.mkdir()
    write(src, "example.test.xml", EXAMPLE_XML)
    write(src, "broken.test.xml", "<clientConfig>")
    out = tmp_path / "catalog.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build-catalog"), str(src), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    assert "broken.test.xml" in run.stderr and "not well-formed" in run.stderr
    doc = json.loads(out.read_text())
    (entry,) = doc["providers"]
    assert set(entry) == {"id", "name", "short_name", "domains", "incoming", "outgoing"}
    assert "Help" not in out.read_text() and "webMail" not in out.read_text()
    assert "ISPDB" in doc["source"] and "MPL-2.0" in doc["source"]
