"""The customer's settings against the catalogue, and when a pasted reply stands in for a
probe that could not decide (pure functions; the conversations are in test_listening.py)."""

from __future__ import annotations

from bot.catalog.model import Provider, ServerSettings
from bot.engine import listen
from bot.engine.compare import also_noticed

PROVIDER = Provider(
    "centurylink.net", "CenturyLink.net", ("centurylink.net",),
    incoming=(ServerSettings("imap", "mail.centurylink.net", 993, "ssl"),),
    outgoing=(ServerSettings("smtp", "smtp.centurylink.net", 587, "starttls"),
              ServerSettings("smtp", "smtp.centurylink.net", 465, "ssl")),
    short_name="CenturyLink",
)


def test_each_difference_is_named_with_the_providers_value() -> None:
    slots = {"email": "john@centurylink.net", "outgoing_server": "smtp.centurylink.net",
             "outgoing_port": "25", "outgoing_security": "none", "outgoing_auth": "false",
             "incoming_server": "mail.centurylink.net", "incoming_port": "993",
             "incoming_security": "starttls", "username": "john"}
    found = {(d.side, d.kind): d.sentence for d in also_noticed(slots, PROVIDER)}
    assert set(found) == {("outgoing", "port"), ("outgoing", "auth"),
                          ("incoming", "security"), ("incoming", "username")}
    assert "port 587 with STARTTLS or port 465 with SSL/TLS" in found[("outgoing", "port")]
    assert "needs SSL/TLS there" in found[("incoming", "security")]
    assert "expects john@centurylink.net" in found[("incoming", "username")]


def test_matching_settings_and_what_the_fix_already_says_are_not_repeated() -> None:
    slots = {"outgoing_server": "smtp.centurylink.net", "outgoing_port": "465",
             "outgoing_security": "ssl", "outgoing_auth": "false"}
    assert [d.kind for d in also_noticed(slots, PROVIDER)] == ["auth"]
    assert also_noticed(slots, PROVIDER, "smtp_auth_required") == []
    assert also_noticed(slots, None) == []


def _slots(text: str) -> dict[str, str]:
    slots: dict[str, str] = {}
    listen.hear(slots, text, {})
    return slots


def test_a_decisive_reply_stands_in_only_where_the_probes_could_not_see() -> None:
    slots = _slots("535 5.7.139 Authentication unsuccessful, basic authentication is disabled")
    handled = frozenset({"auth_oauth_required", "ok", "port_blocked", "inconclusive"})
    decide = listen.reply_decides
    assert decide("check_outgoing", "dns_unavailable", slots, "local", handled) is not None
    assert decide("check_outgoing", "inconclusive", slots, "local", handled) is not None
    assert decide("check_outgoing", "ok", slots, "local", handled) is not None  # no login tried
    assert decide("check_outgoing", "ok", slots, "local", handled, logged_in=True) is None
    assert decide("check_outgoing", "port_blocked", slots, "local", handled) is None
    assert decide("check_outgoing", "port_blocked", slots, "server", handled) is not None
    assert decide("check_incoming", "inconclusive", slots, "local", handled) is None  # other side
    assert decide("check_outgoing", "inconclusive", slots, "local",
                  frozenset({"inconclusive"})) is None  # the node cannot take the diagnosis


def test_a_described_problem_is_no_pasted_reply() -> None:
    assert listen.PASTED not in _slots("my mailbox is full")
    assert _slots("552 5.2.2 Mailbox full")[listen.PASTED] == "smtp_5_2_2_mailbox_full"
