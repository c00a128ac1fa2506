"""Issue 12's failing inputs that had no test of their own (4 and 9), and the attacker findings
on the fixes for a wrong username form and OAuth-only providers, each run through
`deskbot chat --answers` against the real loopback peers (aiosmtpd, Dovecot, dnslib DNS).

Where the other inputs are tested (each test's docstring quotes its input):
1-3 tests/test_probe_faults.py, 5-7 tests/test_right_names.py, 8 tests/test_ipv6_path.py,
10 tests/test_flows_dialogue.py.
"""

from __future__ import annotations

import subprocess
from typing import Any

from tests.conftest import WorldFactory
from tests.peers import MailWorld

STORAGE_QUESTION = "My iCloud storage is full; do people's mails to me bounce?"


def _chat(world: MailWorld, stdin: str = "", **slots: Any) -> str:
    answers = world.write_answers(**slots)
    out = subprocess.run(["deskbot", "chat", "--config", str(world.config_path),
                          "--answers", str(answers)], input=stdin, capture_output=True,
                         text=True, timeout=120, check=True)
    return out.stdout


def test_input_4_microsoft_oauth_fix_has_sign_in_steps_and_no_password(
        mail_world: WorldFactory) -> None:
    """Input 4: "Microsoft 365 / Outlook.com: the fix suggests an app password (useless once
    basic authentication is off) and then appends 'type your password again' steps that
    contradict it." Now: no password is asked or tried, and the steps are the app's sign-in."""
    world = mail_world(oauth_only=True, basic_auth_disabled=True, dovecot=False)
    out = _chat(world, stdin="yes\nsecret\n", message="my emails are stuck in the outbox",
                client="Thunderbird", password=None, username=None)
    assert "[outcome: resolved, symptom outbox_stuck, diagnosis auth_oauth_required]" in out
    assert "Shall I test the login?" not in out          # no password asked for nothing
    assert world.smtp.auth_attempts == []                 # and none tried
    assert 'Authentication method "OAuth2"' in out       # Thunderbird's own sign-in steps
    assert "type the password" not in out.lower() and "type your password" not in out.lower()
    assert "app password" not in out.replace("no app password", "")


def test_oauth_only_provider_skips_the_login_test_in_every_client(
        mail_world: WorldFactory) -> None:
    """Attacker finding: the bot offered a password login test for an OAuth-only provider
    ("pointless, and asks for a password for nothing"); the iPhone gets its own sign-in steps."""
    world = mail_world(oauth_only=True, dovecot=False)
    out = _chat(world, stdin="yes\nsecret\n", message="my emails are stuck in the outbox",
                client="iPhone", password=None, username=None)
    assert "Shall I test the login?" not in out and "password (hidden)" not in out
    assert "Add Account > Outlook.com" in out
    assert world.smtp.auth_attempts == []


def test_wrong_username_form_fix_shows_the_accepted_form(mail_world: WorldFactory) -> None:
    """Attacker finding: for auth_username_format "the client steps and the settings table
    still show the refused username". The server accepts only "alice"; both show alice."""
    world = mail_world(user_form="localpart", dovecot=False)
    out = _chat(world, message="my emails are stuck in the outbox", client="Thunderbird")
    assert "diagnosis auth_username_format]" in out
    assert "User Name alice;" in out                      # Thunderbird's step
    assert "security STARTTLS, username alice\n" in out   # the settings table
    assert "User Name alice@example.test" not in out


def test_input_9_icloud_storage_full_mail_bounces(mail_world: WorldFactory) -> None:
    """Input 9: "My iCloud storage is full; do people's mails to me bounce?" No POP-or-IMAP
    question (iCloud offers IMAP only); incoming mail bounces while the storage is full; the
    storage is shared with backups, photos and iCloud Drive; Apple's page to free space."""
    world = mail_world()
    out = _chat(world, message=STORAGE_QUESTION, email="bob@icloud.com", client="iPhone",
                username=None, password=None, outgoing_server=None, outgoing_port=None,
                outgoing_security=None, outgoing_auth=None, incoming_protocol=None)
    assert "symptom large_mailbox" in out
    assert "POP3 or IMAP" not in out
    assert "bounces back to its senders" in out
    assert "iCloud Backup, iCloud Photos, iCloud Drive" in out
    assert "https://www.icloud.com/settings/" in out
    assert "Incoming (IMAP)" in out


def test_storage_answer_is_per_provider_gmail(mail_world: WorldFactory) -> None:
    """The storage answer generalises to every provider with a storage rule: a Gmail address
    ("my gmail storage is full, do emails to me bounce") gets Google's limit and what shares it."""
    world = mail_world()
    out = _chat(world, message="my gmail storage is full, do emails to me bounce",
                email="kim@gmail.com", client="Thunderbird", username=None, password=None,
                outgoing_server=None, outgoing_port=None, outgoing_security=None,
                outgoing_auth=None)
    assert "symptom large_mailbox" in out
    assert "15 GB free" in out and "Google Drive and Google Photos" in out
    assert "go back to their senders" in out
