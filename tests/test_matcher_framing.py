"""A written ticket's wrapping, how-to questions and who sends the mail: what the matcher reads."""

from __future__ import annotations

import pytest

from bot.flows.bundled import default_flows_dir
from bot.matcher import Matcher
from bot.matcher.framing import unwrapped


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_flows_dir(default_flows_dir())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a greeting, a sign-off, a pasted error between them
        ("Hi support team, my inbox is full of duplicates Thanks in advance, Maria",
         "duplicate_messages"),
        ("Good morning. 0x800CCC0E Kind regards, John", "connection_timeout"),
        # who is writing, and a setup question
        ("Dear IT, I'm the office manager at a small dental practice. is it 993 or 143",
         "account_setup"),
        # what was tried: its "twice" is no duplicate, its "computer" no second device
        ("Samsung email keeps giving me a Sending failed notification. "
         "I've already restarted the computer twice.", "outbox_stuck"),
        # all was well before, nothing changed: no failing side
        ("I've had this account for 10 years and never had problems. "
         "keeps asking for my password", "auth_failed"),
        ("sending broken, receiving ok. Nothing has changed on my end.", "outbox_stuck"),
        # a subject line that names nothing
        ("Subject: Email problem\n\nmac mail has a number next to Outbox that never goes down",
         "outbox_stuck"),
        # a trouble announced before it is told, and a call-back request
        ("I have a problem with my email. Outlook keeps saying sending 1 of 3 and never finishes",
         "outbox_stuck"),
        ("can recieve fine but nothing i send goes out Please call me on 555 0123.",
         "outbox_stuck"),
        # an aside about the writer and what was searched
        ("sending broken, receiving ok. I'm not very good with computers.", "outbox_stuck"),
        ("my replies go nowhere, they pile up in the outbox. I searched online but found nothing.",
         "outbox_stuck"),
        # the provider told in passing
        ("send/receive finishes without any error but 0 new messages. I use Gmail.",
         "cannot_receive"),
    ],
)
def test_a_tickets_wrapping_is_no_evidence(matcher: Matcher, text: str, expected: str) -> None:
    assert matcher.match(text).decision == expected


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("I restarted the computer but it is still stuck", "but it is still stuck"),
        ("It started yesterday, my outbox is stuck", "It started yesterday, my outbox is stuck"),
        ("I am the email admin at a school and nothing sends.",
         "I am the email admin at a school and nothing sends."),
        ("My grandson set up my email before, now I need to put it on my new tablet",
         "My grandson set up my email before, now I need to put it on my new tablet"),
        ("Thanks", "Thanks"),  # nothing else would be left
        ("outlook 2 emails stuck", "outlook 2 emails stuck"),  # a count, not a version
    ],
)
def test_what_tells_the_trouble_stays(text: str, kept: str) -> None:
    assert unwrapped(text) == kept


@pytest.mark.parametrize(
    "text",
    [
        "how do i make text bold in an email",
        "can I schedule an email to go out tomorrow morning",
        "Can I recall an email I sent to the wrong person in Outlook?",
        "What's the best email client for Linux these days?",
        "how do I turn on read receipts in outlook",
    ],
)
def test_how_to_use_a_mail_feature_is_none(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision == "none"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how do I stop outlook asking for my password", "auth_failed"),
        ("can you fix my email", "clarify"),
    ],
)
def test_a_question_about_a_trouble_stays_a_trouble(
    matcher: Matcher, text: str, expected: str
) -> None:
    assert matcher.match(text).decision == expected


@pytest.mark.parametrize(
    "text",
    [
        "my grandson sends me emails and they don't turn up on my computer",
        "i not get any mail from my customers since 2 days, but sending is work normal",
        "send/receive completes with no errors but no new items ever download",
    ],
)
def test_mail_someone_else_sends_me_is_receiving(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision == "cannot_receive"


def test_one_device_taking_the_mail_from_another(matcher: Matcher) -> None:
    assert (
        matcher.match("when my laptop is switched on my phone never gets any of the new mail")
        .decision == "missing_on_other_devices"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a greeting without its comma greets nobody: the words after it are the trouble
        ("hi emails not sending. windows 10 laptop", "outbox_stuck"),
        ("hey my inbox is full. iphone 12", "large_mailbox"),
        ("Hi I can't send, any ideas?", "outbox_stuck"),
        # "best" and "regards" inside a sentence are no sign-off
        ("My best customer never receives my invoices", "outgoing_rejected"),
        ("I have a question with regards to the outbox being stuck", "outbox_stuck"),
        # a sentence that introduces, is urgent or says who set it up, and tells the trouble too
        ("I'm a freelancer in Berlin and my Thunderbird shows every message twice. "
         "I use Windows 11.", "duplicate_messages"),
        ("I use Outlook. My son set up Outlook and every email comes in twice.",
         "duplicate_messages"),
        ("I use an iPhone. My husband installed Thunderbird and it shows a certificate warning.",
         "certificate_warning"),
        ("I have a problem with my mailbox storage. I use Outlook on Windows 10.",
         "large_mailbox"),
        # a reply code after a product's name is no version
        ("Exchange 550 5.7.1 relay denied", "outgoing_rejected"),
    ],
)
def test_the_wrapping_rules_leave_the_trouble_alone(
    matcher: Matcher, text: str, expected: str
) -> None:
    assert matcher.match(text).decision == expected


@pytest.mark.parametrize(
    "text",
    ["how do I get my emails back", "how do I get outlook to send", "how can I send emails again"],
)
def test_how_to_get_mail_working_again_is_a_trouble(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision != "none"
