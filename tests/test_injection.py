"""Line breaks in a customer's value never reach a mail server as extra commands (issue 15).

Real Dovecot (IMAPS, POP3S) and aiosmtpd count what they received: Dovecot's `auth_verbose`
log has one line per authentication attempt, the SMTP peer records every AUTH and MAIL.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from tests.peers import MailWorld
from tests.peers.dovecot import Dovecot

INJECTED_IMAP = "x\r\nd100 LOGIN victim guess1\r\nd101 LOGIN victim guess2\r\nd102 NOOP"
INJECTED_POP3 = "x\r\nUSER victim\r\nPASS guess1\r\nQUIT"


def _probe(world: MailWorld, **slots: Any) -> dict[str, Any]:
    answers = world.dir / "hostile.json"  # JSON is YAML, and keeps CR/LF/NUL exact
    answers.write_text(json.dumps(world.answers(**slots)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "probe", world.email, "--json", "--answers", str(answers),
         "--config", str(world.config_path)], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def _flush(dovecot: Dovecot) -> None:
    """Log in as a fresh name and wait for its log line: every earlier attempt is logged too."""
    sentinel = f"sentinel-{uuid.uuid4().hex[:8]}"
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((dovecot.host, dovecot.ports["imaps"]), 5) as raw, \
            ctx.wrap_socket(raw) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(f"a LOGIN {sentinel} x\r\n".encode())
        reader.readline()
    deadline = time.monotonic() + 10
    while dovecot.auth_lines(sentinel) == 0:
        assert time.monotonic() < deadline, dovecot.log_tail()
        time.sleep(0.05)


def test_imap_password_with_line_breaks_sends_no_extra_login(world: MailWorld) -> None:
    assert world.dovecot is not None
    before = world.dovecot.auth_lines("victim")
    doc = _probe(world, password=INJECTED_IMAP)
    _flush(world.dovecot)
    assert world.dovecot.auth_lines("victim") == before
    evidence = " ".join(c["evidence"] for c in doc["checks"])
    assert "not sent" in evidence and "line break" in evidence
    assert "guess1" not in json.dumps(doc)


def test_pop3_password_with_line_breaks_is_not_reported_accepted(world: MailWorld) -> None:
    assert world.dovecot is not None
    before = world.dovecot.auth_lines("victim")
    doc = _probe(world, incoming_protocol="pop3", incoming_server="pop.example.test",
                 incoming_port=world.ports["pop3s"], password=INJECTED_POP3)
    _flush(world.dovecot)
    assert world.dovecot.auth_lines("victim") == before
    pop3 = [c for c in doc["checks"] if c["target"].endswith(f":{world.ports['pop3s']}")
            and c["probe"] == "pop3"]
    assert pop3 and not any("accepted" in c["evidence"] for c in pop3)
    assert "auth_wrong_password" not in doc["diagnoses"]


def test_smtp_username_and_sender_with_line_breaks_are_not_sent(world: MailWorld) -> None:
    doc = _probe(world, username="victim\r\nMAIL FROM:<x@example.test>",
                 password="guess\r\nRSET")
    assert not any("\r" in u or "\n" in u for u in world.smtp.auth_attempts)
    assert world.smtp.mail_commands == []
    assert "not sent" in " ".join(c["evidence"] for c in doc["checks"])


def test_context_values_are_cleaned_like_typed_lines() -> None:
    from bot.slots import normalize_slots

    slots = normalize_slots({"username": "ann\r\nd1 LOGIN victim x", "email": "a@b.test\x00",
                             "client": "Outlook\x1b]0;title\x07 \ud800", "incoming_port": 993,
                             "password": "kept\r\nexactly"})
    assert slots["username"] == "ann d1 LOGIN victim x"
    assert slots["email"] == "a@b.test"
    assert slots["client"] == "Outlook"  # a terminal title sequence is no part of it
    assert slots["incoming_port"] == "993"
    assert slots["password"] == "kept\r\nexactly"  # refused on the wire, never altered


@pytest.mark.parametrize("slot, value", [
    ("incoming_server", "imap.example.test\r\nA1 LOGIN x y"),
    ("outgoing_server", "smtp.example.test MAIL FROM:<x@example.test>"),
    ("email", "alice@example.test\r\nX"),
])
def test_a_server_name_or_address_that_is_several_words_is_refused(slot: str,
                                                                   value: str) -> None:
    """Cleaning a line break into a space would still look up (or write to) another name:
    such a value is refused with the slot named, over --answers and the HTTP context alike."""
    from bot.errors import AnswersError
    from bot.slots import normalize_slots

    with pytest.raises(AnswersError, match=f"slot {slot} must be one"):
        normalize_slots({slot: value}, source="context")
