"""Slot extraction (bot/reading/slots.py) and choice answers in the customer's own words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.engine.answers import parse_choice, parse_yesno
from bot.reading.slots import extract

ROOT = Path(__file__).resolve().parent.parent
APPS = {str(k).lower(): str(v) for k, v in
        yaml.safe_load((ROOT / "flows" / "_clients.yaml").read_text())["aliases"].items()}


def test_a_first_message_with_everything_the_customer_knows() -> None:
    found = extract("Thunderbird on my PC, CenturyLink account. Receiving is fine but sending "
                    "times out; outgoing server smtp.centurylink.net, port 25, no encryption.",
                    APPS)
    assert found.slots == {
        "client": "thunderbird", "failing_side": "sending",
        "outgoing_server": "smtp.centurylink.net", "outgoing_port": "25",
        "outgoing_security": "none",
    }
    assert found.facts["platform"] == "Windows"
    assert found.facts["provider_name"] == "centurylink"


def test_both_sides_with_ports_in_host_notation_and_security_words() -> None:
    found = extract("incoming imap.gmail.com port 993 SSL, outgoing smtp.gmail.com:465 ssl/tls",
                    APPS)
    assert found.slots == {
        "incoming_server": "imap.gmail.com", "incoming_port": "993", "incoming_security": "ssl",
        "outgoing_server": "smtp.gmail.com", "outgoing_port": "465", "outgoing_security": "ssl",
        "incoming_protocol": "imap",
    }


@pytest.mark.parametrize("line", [
    "my script send.sh fails with 535 5.7.8 authentication failed",
    'File "/usr/lib/python3.11/smtplib.py", line 729: 535 authentication failed',
    "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted')",
    "webmail at https://mail.example.com works but outlook can't send",
])
def test_a_file_a_module_or_a_web_address_is_no_server(line: str) -> None:
    """A login would be tested against the server a line names: a script, a Python module or
    a web address never becomes one (send.sh is a file, though .sh is a country domain)."""
    slots = extract(line).slots
    assert "outgoing_server" not in slots and "incoming_server" not in slots


def test_server_names_as_providers_give_them() -> None:
    for line, slot, host in (("smtp-mail.outlook.com times out", "outgoing_server",
                              "smtp-mail.outlook.com"),
                             ("send.one.com rejects my login", "outgoing_server", "send.one.com"),
                             ("imap-mail.outlook.com:993 refuses", "incoming_server",
                              "imap-mail.outlook.com")):
        assert extract(line).slots[slot] == host


def test_two_ports_named_are_a_doubt_to_confirm_not_a_value() -> None:
    found = extract("the outgoing port is 25 or 26, I'm not sure", APPS)
    assert "outgoing_port" not in found.slots
    assert found.doubtful == {"outgoing_port": ("25", "26")}


@pytest.mark.parametrize(("line", "fact"), [
    ("2-step verification is on", "two_step_on"),
    ("I have two factor authentication enabled", "two_step_on"),
    ("it works fine on webmail", "webmail_works"),
    ("works on wifi but not on mobile data", "wifi_not_mobile"),
    ("I already tried an app password", "app_password_tried"),
    ("normal password and an app password both failed", "app_password_tried"),
    ("I changed my password yesterday", "password_changed"),
    ("I just got a new laptop", "new_device"),
])
def test_stated_facts(line: str, fact: str) -> None:
    assert extract(line, APPS).facts.get(fact) == "yes"


@pytest.mark.parametrize(("line", "client", "side"), [
    ("Outlook 2016 keeps asking for my password when checking for new mail", "outlook",
     "receiving"),
    ("My Gmail account won't send from my iPhone", "ios_mail", "sending"),
    ("the new Outlook can't send or receive", "new_outlook", "both"),
])
def test_the_app_and_the_failing_side(line: str, client: str, side: str) -> None:
    found = extract(line, APPS)
    assert found.slots.get("client") == client
    assert found.slots.get("failing_side") == side


@pytest.mark.parametrize(("line", "side"), [
    ("Outlook is asking for my password when I send", "sending"),
    ("asks for my password every time I send an email", "sending"),
    ("password popup when sending mail", "sending"),
    ("asks for password when I hit send", "sending"),
    ("the password window pops up when I check mail", "receiving"),
    ("asking for password when checking mail", "receiving"),
    ("asking for my password when I open outlook", "receiving"),
    ("password box appears whenever I send or receive", "both"),
    ("when I send it works fine, but when I check mail it asks for my password", "receiving"),
    ("IMAP keeps asking for my password when I send", "sending"),
])
def test_the_moment_it_happens_names_the_side(line: str, side: str) -> None:
    """Input "…asking for my password when I send": the side is stated without a failure word."""
    assert extract(line, APPS).slots.get("failing_side") == side


def test_an_account_named_after_an_app_is_not_the_app() -> None:
    assert "client" not in extract("my Gmail account is full", APPS).slots


def test_a_pasted_error_fills_what_it_implies() -> None:
    found = extract("the bounce says 550 5.7.1 Relaying denied", APPS)
    assert found.slots["bounce_reason"] == "relay"
    assert found.slots["failing_side"] == "sending"
    assert found.errors[0].entry.diagnosis == "smtp_auth_required"


def test_short_answers_state_nothing_new() -> None:
    for line in ("yes", "587", "no idea", "alice@example.test"):
        found = extract(line, APPS)
        assert set(found.slots) <= {"email"} and not found.doubtful


BOUNCE = [("relay", "relay denied / relaying not allowed / authentication required"),
          ("spam", "rejected as spam / blocked / blacklisted / policy"),
          ("recipient", "user unknown / no such user / mailbox full"),
          ("other", "something else, or I have no message")]
SIDE = [("receiving", "when checking for new mail (receiving)"), ("sending", "when sending"),
        ("both", "both, or I am not sure")]


@pytest.mark.parametrize(("text", "value"), [
    ("relaying denied", "relay"), ("it says blacklisted", "spam"), ("mailbox full", "recipient"),
    ("the first one", "relay"), ("2nd", "spam"), ("the last one", "other"),
    ("blacklsited", "spam"), ("it says 550 5.7.1 Relaying denied", "relay"),
    ("no message", "other"), ("user unknwon", "recipient"),
])
def test_bounce_kinds_in_the_customers_words(text: str, value: str) -> None:
    assert parse_choice(text, BOUNCE) == value


@pytest.mark.parametrize(("text", "value"), [
    ("when checking for new mail", "receiving"), ("recieving", "receiving"),
    ("when I send", "sending"), ("sending and receiving", "both"), ("the second one", "sending"),
    ("incoming", "receiving"),
])
def test_failing_side_in_the_customers_words(text: str, value: str) -> None:
    assert parse_choice(text, SIDE) == value


def test_a_line_fitting_two_options_equally_is_not_an_answer() -> None:
    assert parse_choice("spam or relay", BOUNCE) is None


@pytest.mark.parametrize(("text", "value"), [
    ("it's on", "yes"), ("enabled", "yes"), ("I think so", "yes"), ("no, it is off", "no"),
    ("I don't think so", "no"),
])
def test_yes_no_variants(text: str, value: str) -> None:
    assert parse_yesno(text) == value
