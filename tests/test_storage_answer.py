"""The storage question ("my storage is full, does mail to me bounce?") at a provider with a
storage rule (bot/data/provider_rules.yaml) is answered from the rule whether or not the mailbox
can be checked, asks an app-password provider for the app's password only (and only to read the
quota), and never words a check that could not run from here as "found a problem".

The dead-DNS runs use a loopback port nothing listens on (`127.0.0.1:9`) as the only nameserver,
as a tester does by hand; no real name is resolved."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import WorldFactory
from tests.peers.dovecot_faults import FULL

SECRET = "Qz7-app-pw-not-real"
DEAD = '[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 2.0\n'


def _dead_chat(tmp_path: Path, message: str, email: str, client: str, stdin: str = "") -> str:
    config = tmp_path / "dead.toml"
    config.write_text(DEAD, encoding="utf-8")
    answers = tmp_path / "answers.yaml"
    answers.write_text(f'message: "{message}"\nemail: {email}\nclient: {client}\n',
                       encoding="utf-8")
    out = subprocess.run(["deskbot", "chat", "--config", str(config), "--answers", str(answers)],
                         input=stdin, capture_output=True, text=True, timeout=120, check=True)
    return out.stdout


def test_icloud_storage_answer_without_dns(tmp_path: Path) -> None:
    """The tester's M3 input: the answer comes from Apple's rule although no probe can run; the
    consent question asks for an app-specific password, never the account's own; the untested
    mailbox is not "a problem found"; advice with no evidence records no diagnosis."""
    out = _dead_chat(tmp_path, "My iCloud storage is full. Do emails sent to me bounce?",
                     "carol@icloud.com", "iPhone Mail")
    assert "symptom large_mailbox" in out
    assert "bounces back to its senders" in out
    assert "iCloud Backup, iCloud Photos, iCloud Drive" in out
    assert "https://www.icloud.com/settings/" in out
    assert "the password of carol@icloud.com" not in out
    assert "accepts only an app-specific password from mail apps" in out
    assert "found a problem" not in out
    assert "not a problem found with your mailbox" in out
    assert "[outcome: resolved, symptom large_mailbox, diagnosis -]" in out


@pytest.mark.parametrize(("email", "message", "says"), [
    ("kim@gmail.com", "my gmail storage is full, do emails to me bounce",
     ("15 GB free", "Google Drive and Google Photos", "go back to their senders")),
    ("lee@comcast.net", "my mailbox is full, do emails sent to me bounce?",
     ("10 GB", "returned to its senders")),
])
def test_every_storage_rule_answers_without_a_probe(tmp_path: Path, email: str, message: str,
                                                    says: tuple[str, ...]) -> None:
    """Generalised: each provider with a storage rule gets its own limit, what shares it and
    what happens to incoming mail, with the dead DNS too; an app-password provider's consent
    names the app password."""
    out = _dead_chat(tmp_path, message, email, "Thunderbird")
    for text in says:
        assert text in out
    assert "found a problem" not in out
    assert "diagnosis -]" in out
    if email.endswith("gmail.com"):
        assert "With 2-step verification on, Gmail" in out
        assert f"the password of {email}" not in out


def test_consented_quota_check_asks_for_the_app_password(tmp_path: Path) -> None:
    """Consent given: the username and the app password are asked (input hidden), the storage
    answer still stands when the check cannot run, and nothing is called a problem."""
    out = _dead_chat(tmp_path, "My iCloud storage is full. Do emails sent to me bounce?",
                     "carol@icloud.com", "iPhone Mail", stdin=f"yes\ncarol@icloud.com\n{SECRET}\n")
    assert "Please type the app-specific password" in out
    assert "bounces back to its senders" in out
    assert "found a problem" not in out
    assert SECRET not in out


def test_unknown_provider_untested_mailbox_is_not_a_found_problem(tmp_path: Path) -> None:
    """No storage rule and no DNS: the generic path hands off without claiming a finding."""
    out = _dead_chat(tmp_path, "my mailbox is full", "dana@example.test", "Thunderbird",
                     stdin="IMAP\n")
    assert "found a problem" not in out
    assert "symptom large_mailbox" in out


def test_full_mailbox_read_from_the_quota_report_on_a_real_dovecot(
        mail_world: WorldFactory) -> None:
    """The probe path: an iCloud address whose app points at a real Dovecot (quota plugin) with
    the app password passed in by the help desk (consent): the storage answer, then the quota
    report proves mailbox_over_quota."""
    world = mail_world(fault_dovecot=True)
    answers = world.write_answers(
        message="My iCloud storage is full. Do emails sent to me bounce?",
        email="carol@icloud.com", client="iPhone Mail", username=FULL,
        incoming_protocol="imap", incoming_server="imap.example.test",
        incoming_port=world.ports["faults_imaps"], incoming_security="ssl",
        outgoing_server=None, outgoing_port=None, outgoing_security=None, outgoing_auth=None)
    out = subprocess.run(["deskbot", "chat", "--config", str(world.config_path),
                          "--answers", str(answers)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "bounces back to its senders" in out
    assert "Shall I read your mailbox's size?" not in out  # the passed-in password is consent
    assert "your mailbox is at its storage limit" in out
    assert "[outcome: resolved, symptom large_mailbox, diagnosis mailbox_over_quota]" in out
    assert world.password not in out
