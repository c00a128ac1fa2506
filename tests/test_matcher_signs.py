"""What a long message tells beside its trouble: signs it says are absent, what keeps
happening, what works, and a cause the line does not speak for."""

from __future__ import annotations

import pytest

from bot.flows.bundled import default_flows_dir
from bot.matcher import Matcher
from bot.matcher.clauses import denied


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_flows_dir(default_flows_dir())


def test_a_sign_said_to_be_absent_is_marked() -> None:
    tokens = ["it", "not", "see", "any", "error", "or", "password", "box"]
    assert denied(tokens) == ["it", "not", "see", "any", "no:error", "or", "no:password", "no:box"]
    # what is not done to the sign ("doesn't accept my password") denies nothing
    assert denied(["not", "accept", "my", "password"]) == ["not", "accept", "my", "password"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "no warning", "no error or password prompt": no certificate or login trouble told
        ("My inbox on the laptop seems frozen: the newest email is from a week ago, and there's "
         "no warning at all.", "cannot_receive"),
        ("Incoming mail just stopped; outgoing works and there is no error or password prompt",
         "cannot_receive"),
        # a clause of what keeps happening is no working side
        ("We see the same batch of messages arrive again and again at reception, and we've "
         "deleted them several times.", "duplicate_messages"),
        ("Windows keeps showing a credentials prompt for the mailbox, and it loops no matter "
         "what I enter.", "auth_failed"),
        # copies, plural, are duplicates; a count of them is no full mailbox
        ("my phone now has 300 copies of one newsletter", "duplicate_messages"),
        ("Outlook keeps downloading the same 200 emails every time I press Send/Receive. The "
         "inbox is full of copies.", "duplicate_messages"),
        ("the mail app keeps fetching everything again and the inbox now has thousands of "
         "duplicates", "duplicate_messages"),
        # a recipient's quarantine is where rejected mail goes
        ("my clients say my invoices end up in quarantine", "outgoing_rejected"),
        # what works, told in a sentence of its own, is no second trouble
        ("Since this morning everything I send just sits in the Outbox in italics and never "
         "moves to Sent Items. Incoming mail still arrives fine.", "outbox_stuck"),
        # where it happens names no symptom: which trouble is it?
        ("Outlook is causing problems on three of our office computers.", "clarify"),
        # "please call" at the end asks for a person, and is no other topic
        ("the email on the front desk computer is not right, please call", "clarify"),
        # the people a mail of the customer's does not reach are its recipients
        ("my sister says she never gets my emails", "outgoing_rejected"),
        ("people tell me they never get my emails, sending looks fine", "outgoing_rejected"),
        ("I don't get my emails anymore", "cannot_receive"),
        # ... however it is said (the fresh attack's lines)
        ("my boss says he doesn't receive anything from me", "outgoing_rejected"),
        ("customers tell me my emails never arrive", "outgoing_rejected"),
        ("my emails don't reach my sister", "outgoing_rejected"),
        ("nobody gets my emails", "outgoing_rejected"),
        ("my sister's emails never reach me", "cannot_receive"),
        # a denied sign keeps its topic, and its qualifier goes with it
        ("it doesn't prompt for a password and nothing arrives", "cannot_receive"),
        ("without any security warning it stopped receiving mail", "cannot_receive"),
        # a network told as what has the trouble is the subject; told as where, the setting
        ("the VPN says certificate error", "none"),
        ("vpn connection times out", "none"),
        ("the router login page says wrong password", "none"),
        ("imap server not responding on airport wifi", "connection_timeout"),
        ("my emails won't send when I'm on the vpn", "outbox_stuck"),
        # a mail asking to confirm a password is phishing, not a rejected login
        ("I got an email from my bank asking me to confirm my password", "none"),
        ("Outlook keeps asking me to confirm my password", "auth_failed"),
        # texts, chat apps and phone calls have outboxes and inboxes too
        ("my phone's sms outbox is stuck", "none"),
        # receiving calls or paper mail is no e-mail
        ("I can't receive phone calls", "none"),
        ("I haven't received my paper mail in a week", "none"),
        # webmail having the mail is no mail taken elsewhere when the line says none arrives
        ("I'm not getting any emails in Windows Mail since the last update. The inbox only "
         "shows old stuff while webmail has the new ones. No errors shown anywhere.",
         "cannot_receive"),
    ],
)
def test_long_messages_route_to_the_trouble_they_tell(
    matcher: Matcher, text: str, expected: str
) -> None:
    assert matcher.match(text).decision == expected


def test_an_example_typed_as_written_starts_its_flow(matcher: Matcher) -> None:
    # no e-mail word in it, yet the help desk wrote it as an example of a full mailbox
    assert "my account is out of space" in matcher.specs["large_mailbox"].examples
    assert matcher.match("My account is out of space!").decision == "large_mailbox"


def test_copies_of_sent_mail_are_no_duplicates(matcher: Matcher) -> None:
    assert matcher.match("my sent copies are missing").decision != "duplicate_messages"
    assert matcher.match("cc copies don't arrive").decision != "duplicate_messages"
