"""No form of a password is stored or shown (issue 15): IMAP-quoted, base64 AUTH PLAIN/LOGIN,
URL-encoded, or typed at the username question.

The SMTP peer is the real aiosmtpd, told to echo the login it received in its 535 reply (the
way some servers' verbose modes do); everything the CLI and the HTTP service print, serve and
store is then searched for every encoding of the password."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from bot.scrub import scrub_text
from tests.peers import MailWorld
from tests.test_http_live import Client, _config, _session, client_for  # noqa: F401
from tests.test_http_support import converse

WRONG = 'wr"ong\\pass/word+1'


def _forms(password: str, username: str) -> list[str]:
    plain = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    return [password, password.replace("\\", "\\\\").replace('"', '\\"'), quote(password, safe=""),
            quote_plus(password), base64.b64encode(password.encode()).decode(), plain,
            json.dumps(password)[1:-1]]


def _leaks(text: str, password: str, username: str) -> list[str]:
    return [form for form in _forms(password, username) if form in text]


def test_every_encoding_is_scrubbed_from_text() -> None:
    username = "alice@example.test"
    for form in _forms(WRONG, username):
        assert _leaks(scrub_text(f"reply: {form} (end)", [WRONG]), WRONG, username) == [], form


def test_the_leak_warning_fires_for_a_stray_secret_not_for_the_password_slot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operator reads `WARNING bot.scrub` as "a password nearly leaked": dropping the
    session's own `password` slot is the normal path and stays quiet, a password inside some
    other text still warns (and is redacted either way)."""
    from bot.scrub import REDACTED, scrub

    with caplog.at_level("WARNING", logger="bot.scrub"):
        kept = scrub({"slots": {"password": WRONG, "email": "a@example.test"}}, [WRONG])
    assert kept == {"slots": {"email": "a@example.test"}}
    assert caplog.records == []
    with caplog.at_level("WARNING", logger="bot.scrub"):
        kept = scrub({"turns": [{"text": f"my password is {WRONG}"}]}, [WRONG])
    assert kept == {"turns": [{"text": f"my password is {REDACTED}"}]}
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_probe_output_never_shows_an_echoed_login(mail_world: object) -> None:
    world: MailWorld = mail_world(dovecot=False)  # type: ignore[operator]
    world.smtp.echo_auth = True
    answers = world.dir / "a.json"
    answers.write_text(json.dumps(world.answers(password=WRONG)), encoding="utf-8")
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "probe", world.email, "--answers", str(answers),
             "--config", str(world.config_path), *extra], capture_output=True, text=True,
            timeout=90)
        assert done.returncode == 0, done.stderr
        assert "5.7.8" in done.stdout  # the echoing reply itself is shown
        assert _leaks(done.stdout + done.stderr, WRONG, world.email) == []


def test_a_password_typed_as_the_username_is_not_printed(mail_world: object) -> None:
    world: MailWorld = mail_world(dovecot=False)  # type: ignore[operator]
    answers = world.dir / "a.json"
    answers.write_text(json.dumps(world.answers(username=WRONG, password=WRONG)),
                       encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "probe", world.email, "--answers", str(answers),
         "--config", str(world.config_path)], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "login as" in done.stdout
    assert _leaks(done.stdout, WRONG, world.email) == []


@pytest.mark.parametrize("typed_username", ["the address", "the password"])
async def test_http_store_transcript_and_replies_hold_no_form_of_the_password(
    mail_world: object, client_for: Client, tmp_path: Path, typed_username: str  # noqa: F811
) -> None:
    world: MailWorld = mail_world(dovecot=False)  # type: ignore[operator]
    world.smtp.echo_auth = True
    client = client_for(_config(world, tmp_path))
    sid = await _session(client, email=world.email, client="Thunderbird")
    bodies = await converse(client, sid, {
        "message": "my mail is stuck in the outbox", "symptom": "outbox_stuck",
        "test_offer": "yes", "login_consent": "yes",
        "username": world.email if typed_username == "the address" else WRONG,
        "password": WRONG, "outgoing_server": "smtp.example.test",
        "outgoing_port": str(world.ports["submission"]), "outgoing_security": "STARTTLS",
        "outgoing_auth": "yes",
    })
    assert any(a for a in world.smtp.auth_attempts), "the login was really tried"
    shown = json.dumps(bodies)
    assert "5.7.8" in shown
    served = (await client.get(f"/v1/sessions/{sid}/transcript")).text
    state = (await client.get(f"/v1/sessions/{sid}")).text
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("live.db*")).decode("latin-1")
    for name, where in (("replies", shown), ("transcript", served), ("state", state),
                        ("store", stored)):
        assert _leaks(where, WRONG, world.email) == [], name
    db = tmp_path / "live.db"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
