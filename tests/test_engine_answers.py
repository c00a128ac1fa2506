"""What customers type, read the way a mail app's settings mean it."""

from __future__ import annotations

import pytest

from bot.engine.answers import (
    clean_line,
    parse_choice,
    parse_email,
    parse_every,
    parse_host,
    parse_port,
    parse_protocol,
    parse_security,
    parse_yesno,
    repair_of,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("SSL/TLS", "ssl"), ("SSL/TLS (recommended)", "ssl"), ("I think it is SSL", "ssl"),
    ("TLS", "starttls"),  # Outlook's "TLS" is STARTTLS
    ("STARTTLS", "starttls"), ("Start TLS", "starttls"), ("None", "none"),
    ("no encryption", "none"), ("ssl or starttls", None), ("auto", None),
])
def test_security_words(text: str, expected: str | None) -> None:
    assert parse_security(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("yes please", "yes"), ("Yep!", "yes"), ("sure", "yes"), ("of course", "yes"),
    ("👍", "yes"), ("nope", "no"), ("no, it doesn't", "no"), ("yes and no", None),
    ("purple", None),
])
def test_yes_and_no(text: str, expected: str | None) -> None:
    assert parse_yesno(text) == expected


@pytest.mark.parametrize(("text", "kind"), [
    ("I don't know", "unknown"), ("not sure", "unknown"), ("No idea.", "unknown"),
    ("go back", "back"), ("Back", "back"), ("start over", "restart"), ("restart", "restart"),
    ("talk to a person", "human"), ("Human please", "human"), ("agent", "human"),
    ("can I talk to a person please", "human"), ("outlook", None), ("my mail is stuck", None),
])
def test_repair_phrases(text: str, kind: str | None) -> None:
    assert repair_of(text) == kind


def test_values_are_normalised() -> None:
    assert parse_email("my address is Bob@Example.COM.") == "bob@example.com"
    assert parse_email("bob at example") is None
    assert parse_host("https://Mail.Example.com/") == "mail.example.com"
    assert parse_host("smtp.office365.com:587") == "smtp.office365.com"
    assert parse_host("mail") is None
    assert parse_port("587 I think") == "587"
    assert parse_port("465 or 587") is None and parse_port("70000") is None
    assert parse_protocol("POP") == "pop3" and parse_protocol("imap4") == "imap"
    choices = [("pop3", "POP3"), ("imap", "IMAP")]
    assert parse_choice("2", choices) == "imap" and parse_choice("pop 3", choices) == "pop3"
    assert parse_choice("7", choices) is None
    # "which of these?": neither is the "something else" option
    offered = [("auth_failed", "The server rejects your password"), ("other", "Something else")]
    assert parse_choice("neither", offered) == "other"
    assert parse_choice("both of them", offered) is None  # not "something else"
    # both troubles offered: "both" in its many forms, never one of them
    assert all(parse_every(t, 2) for t in ("yes, both of them", "1 and 2", "1,2", "both!!"))
    assert not any(parse_every(t, 2) for t in ("one of them", "2", "1 and 3", "neither"))


def test_a_terminals_colour_codes_are_not_part_of_the_answer() -> None:
    """An address pasted from a coloured terminal is the address, not "31mfoo@example.com"."""
    line, _ = clean_line("\x1b[31mfoo@example.com\x1b[0m")
    assert parse_email(line) == "foo@example.com"
    assert clean_line("\x1b]0;title\x07my mail is stuck")[0] == "my mail is stuck"
    # the character-set choice `tput sgr0` prints ("\x1b(B") is no letter of the address
    assert parse_email(clean_line("\x1b(Buser@gmail.com")[0]) == "user@gmail.com"
