"""Curated ISPs the ISPDB lacks (issue 12, catalogue breadth): validated at load with FILE:LINE,
used by the engine like ISPDB entries, and counted truly in the README."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.catalog.curated import curated_providers, parse_curated
from bot.config import Config
from bot.errors import CatalogError

README = Path(__file__).resolve().parent.parent / "README.md"

GOOD = """\
format: 1
providers:
  example.net:
    name: Example ISP
    domains: [example.net]
    incoming:
      - {protocol: imap, host: imap.example.net, port: 993, security: ssl}
    outgoing:
      - {protocol: smtp, host: smtp.example.net, port: 465, security: ssl}
    source: https://help.example.net/mail
    source_kind: isp
"""


def _ispdb_domains() -> set[str]:
    raw = resources.files("bot.data").joinpath("catalog.json").read_bytes()
    return {d for p in json.loads(raw)["providers"] for d in p["domains"]}


def test_readme_counts_are_what_the_catalogue_loads() -> None:
    catalog = Catalog.load(Config())
    text = README.read_text(encoding="utf-8")
    providers = re.search(r"\*\*(\d+) providers\*\*", text)
    domains = re.search(r"\*\*(\d+) mail domains\*\*", text)
    curated = re.search(r"\*\*(\d+)\*\* are large consumer ISPs", text)
    assert providers and domains and curated, "README lost its catalogue counts"
    assert int(providers.group(1)) == len(catalog.providers)
    assert int(domains.group(1)) == len(catalog.domains)
    assert int(curated.group(1)) == len(curated_providers())
    assert "Mozilla Public License 2.0" in text and "ISPDB" in text


def test_curated_isps_are_sourced_and_none_is_already_in_the_ispdb() -> None:
    """Each entry names the page that states its servers and says whose page it is; an ISP
    whose servers no source states is left out (issue 12 audit), so there is no count floor."""
    curated = curated_providers()
    assert curated
    overlap = {d for p in curated for d in p.domains} & _ispdb_domains()
    assert not overlap, f"curated domains the ISPDB already has: {sorted(overlap)}"
    for provider in curated:
        assert provider.extra["source_url"].startswith("https://")
        assert provider.extra["source_kind"] in ("isp", "third_party")
        assert provider.incoming and provider.outgoing


@pytest.mark.parametrize(("change", "message"), [
    ("port: 993", "port: 0"),
    ("security: ssl}\n    outgoing", "security: tls}\n    outgoing"),
    ("    source: https://help.example.net/mail\n", ""),
    ("    domains: [example.net]\n", "    domains: [example.net]\n    colour: blue\n"),
    ("protocol: imap", "protocol: smtp"),
    ("source_kind: isp", "source_kind: forum"),
    ("    source_kind: isp\n", ""),
])
def test_a_bad_entry_is_refused_with_file_and_line(change: str, message: str) -> None:
    """Each wrong field is one CatalogError naming the file, the entry's line and the field."""
    with pytest.raises(CatalogError) as err:
        parse_curated(GOOD.replace(change, message), "curated.yaml")
    text = str(err.value)
    assert re.match(r"curated\.yaml:\d+: example\.net", text), text
    assert "\n" not in text


def test_the_good_example_loads() -> None:
    (provider,) = parse_curated(GOOD, "curated.yaml")
    assert provider.incoming[0].host == "imap.example.net"
    assert provider.extra["curated"] is True


def test_a_curated_isp_gets_its_settings_table_in_a_chat(tmp_path: Path) -> None:
    """'what are the correct settings to set up my email account' for a Windstream address:
    the curated servers are the settings table, as for an ISPDB provider (no DNS is used)."""
    config = tmp_path / "dead.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    answers = tmp_path / "a.yaml"
    answers.write_text('message: "what are the correct settings to set up my email account"\n'
                       'email: "pat@windstream.net"\nclient: "Thunderbird"\n', encoding="utf-8")
    out = subprocess.run(["deskbot", "chat", "--config", str(config), "--answers", str(answers)],
                         input="no\n", capture_output=True, text=True, timeout=60, check=True)
    assert "curated from https://www.windstream.com/" in out.stdout
    assert ("Incoming (IMAP): server imap.windstream.net, port 993, security SSL/TLS, "
            "username pat@windstream.net") in out.stdout
    assert "Outgoing (SMTP): server smtp.windstream.net, port 465" in out.stdout
    assert "The outgoing server needs authentication" in out.stdout  # the ISP's own login note


def test_a_third_party_source_is_named_as_such_in_a_chat(tmp_path: Path) -> None:
    """freenet's servers come from Delta Chat's public provider list, not freenet's own page:
    the chat says so, and gives freenet's own rule (switch mail-app access on first)."""
    config = tmp_path / "dead.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    answers = tmp_path / "a.yaml"
    answers.write_text('message: "what are the correct settings to set up my email account"\n'
                       'email: "kim@freenet.de"\nclient: "Thunderbird"\n', encoding="utf-8")
    out = subprocess.run(["deskbot", "chat", "--config", str(config), "--answers", str(answers)],
                         input="no\n", capture_output=True, text=True, timeout=60, check=True)
    assert "a public provider list, not the ISP's own page" in out.stdout
    assert "mx.freenet.de, port 993" in out.stdout
    assert "must first be switched on" in out.stdout


def test_an_isp_whose_servers_no_source_states_gets_no_invented_names(tmp_path: Path) -> None:
    """Rogers Yahoo e-mail was removed from the curated list (no stored page states its
    servers): a Rogers address gets no server names at all, rather than guessed ones."""
    config = tmp_path / "dead.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n', encoding="utf-8")
    answers = tmp_path / "a.yaml"
    answers.write_text('message: "what are the correct settings to set up my email account"\n'
                       'email: "lee@rogers.com"\nclient: "iPhone"\n', encoding="utf-8")
    out = subprocess.run(["deskbot", "chat", "--config", str(config), "--answers", str(answers)],
                         input="no\n", capture_output=True, text=True, timeout=60, check=True)
    assert "broadband.rogers.com" not in out.stdout
    assert "I have no settings for lee@rogers.com" in out.stdout


def test_the_settings_comparison_uses_curated_servers() -> None:
    from bot.engine.compare import also_noticed

    provider = Catalog.load(Config()).lookup("pat@windstream.net")
    assert provider is not None
    notes = also_noticed({"email": "pat@windstream.net", "username": "pat",
                          "outgoing_server": "mail.windstream.net"}, provider)
    sentences = " ".join(n.sentence for n in notes)
    assert "smtp.windstream.net" in sentences        # the curated server, not the one typed
    assert "pat@windstream.net" in sentences         # Windstream wants the full address
