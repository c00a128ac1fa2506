"""The error catalogue (bot/data/errors.yaml): validated data, a pure reader, matcher routing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.errors import FlowError
from bot.ids import diagnosis_codes, symptom_ids
from bot.reading import load_errors, pasted_error, read_errors

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "bench" / "data" / "pasted-errors.yaml"


def test_bundled_catalogue_has_80_sourced_patterns() -> None:
    catalogue = load_errors()
    assert len(catalogue) >= 80
    for entry in catalogue.entries:
        assert entry.source.strip() and entry.meaning.strip()
        assert entry.symptom in symptom_ids()
        assert set(entry.hypotheses) <= diagnosis_codes()


@pytest.mark.parametrize(
    ("text", "diagnosis"),
    [
        ("535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
         "auth_oauth_required"),
        ("534-5.7.9 Application-specific password required. Learn more at "
         "https://support.google.com/mail/?p=InvalidSecondFactor", "auth_app_password_required"),
        ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
         "sender_blocklisted"),
        ("-ERR [IN-USE] Unable to lock maildrop: Mailbox is locked by POP server",
         "mailbox_locked"),
        ("530 5.7.0 Must issue a STARTTLS command first", "encryption_required"),
        ("NO [OVERQUOTA] Quota exceeded (mailbox for user is full)", "mailbox_over_quota"),
    ],
)
def test_decisive_texts_prove_their_diagnosis(text: str, diagnosis: str) -> None:
    best = load_errors().best(text)
    assert best is not None and best.decisive
    assert best.entry.diagnosis == diagnosis


def test_a_wrong_password_reply_is_a_hypothesis_not_a_proof() -> None:
    best = load_errors().best("535 5.7.139 Authentication unsuccessful, the user credentials "
                              "were incorrect.")
    assert best is not None and not best.decisive
    assert best.entry.hypotheses[0] == "auth_wrong_password"


def test_ordinary_sentences_match_nothing() -> None:
    catalogue = load_errors()
    for text in ("my mail is stuck in the outbox", "how do I set up my new iPhone",
                 "it worked yesterday", ""):
        assert catalogue.find(text) == ()


def test_every_example_and_labelled_text_survives_the_literal_prefilter() -> None:
    """The fast path (substring pre-filter) must never hide a regex match."""
    catalogue = load_errors()
    texts = [str(i["text"]) for i in yaml.safe_load(LABELLED.read_text())["items"]]
    raw = yaml.safe_load((ROOT / "bot" / "data" / "errors.yaml").read_text())["errors"]
    texts += [str(item["example"]) for item in raw]
    for text in texts:
        slow = [e.id for e in catalogue.entries if e.pattern.search(text)]
        assert [m.entry.id for m in catalogue.find(text)] == slow, text


BAD = """\
errors:
  - id: fine
    pattern: 'Relaying denied'
    symptom: outgoing_rejected
    hypotheses: [smtp_auth_required]
    meaning: "m"
    source: "RFC 5321"
    example: "550 5.7.1 Relaying denied"
  - id: broken_regex
    pattern: '5\\.7\\.(139'
    symptom: auth_failed
    hypotheses: []
    meaning: "m"
    source: "s"
    example: "x"
  - id: wrong_ids
    pattern: 'zzz'
    symptom: no_such_symptom
    hypotheses: [auth_wrong_passwrd]
    meaning: "m"
    source: "s"
    example: "does not match"
  - id: no_source
    pattern: 'yyy'
    symptom: auth_failed
    hypotheses: []
    meaning: "m"
    example: "yyy"
"""


def test_a_bad_entry_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "errors.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        read_errors(path)
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{path}:10: ") and "not a valid regex" in line
               for line in lines), lines
    assert any(line.startswith(f"{path}:18: ") and "no_such_symptom" in line for line in lines)
    assert any(line.startswith(f"{path}:19: ") and "auth_wrong_passwrd" in line
               for line in lines)
    assert any("does not match the pattern" in line for line in lines)
    assert any(line.startswith(f"{path}:23: ") and "missing key 'source'" in line
               for line in lines)
    assert not any("'fine'" in line for line in lines)


def test_a_pasted_error_alone_is_recognised_but_a_story_is_not() -> None:
    assert pasted_error("550 5.7.1 Relaying denied") is not None
    assert pasted_error("I get 550 5.7.1 Relaying denied when I send") is None


def match(*texts: str) -> list[dict[str, object]]:
    run = subprocess.run([sys.executable, "-m", "bot", "match"], input="\n".join(texts),
                         capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_deskbot_match_routes_a_line_that_is_only_a_pasted_error() -> None:
    results = match(
        "550 5.7.1 Relaying denied",
        "-ERR [IN-USE] Unable to lock maildrop",
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
        "Cannot Verify Server Identity",
        "0x800CCC0E",
    )
    assert [r["decision"] for r in results] == [
        "outgoing_rejected", "cannot_receive", "auth_failed", "certificate_warning",
        "connection_timeout",
    ]


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("thunderbird shows SEC_ERROR_UNKNOWN_ISSUER for the imap server", "cert_self_signed"),
        ("sun.security.provider.certpath.SunCertPathBuilderException: PKIX path building failed",
         "cert_self_signed"),
        ("x509: certificate signed by unknown authority", "cert_self_signed"),
        ("You might be connecting to a server that is pretending to be “mail.example.com”",
         "apple_cannot_verify_identity"),
        ("Windows Live Mail: Socket Error: 10060, Error Number: 0x800CCC0E",
         "windows_socket_10060"),
        ("Your message to bob@example.org couldn't be delivered.", "bounce_generic"),
        ("550 5.7.25 The IP address sending this message does not have a PTR record setup",
         "smtp_no_ptr"),
        ("java.net.ConnectException: Connection refused", "android_connection_refused"),
        ("javax.mail.AuthenticationFailedException", "javamail_authentication_failed"),
        ("x509: certificate is valid for mail.example.net, not imap.example.com",
         "cert_wrong_site"),
        ("Socket Error: 11004, Error Number: 0x800CCC0D", "windows_socket_host_not_found"),
        # an errno name (Node's mailers print it), an RFC 5530 code without its brackets
        ("Error: Greeting never received, code: 'ETIMEDOUT'", "android_socket_timeout"),
        ("webmail login says AUTHENTICATIONFAILED", "imap_authenticationfailed"),
        ("the contact form logs: Error: read ECONNRESET", "socket_reset_or_unreachable"),
        ("[Errno 111] Connection refused", "android_connection_refused"),
        ("[Errno -3] Temporary failure in name resolution", "android_unknown_host"),
        ("[WinError 10060] A connection attempt failed", "windows_socket_10060"),
        ("smtplib.SMTPServerDisconnected: Connection unexpectedly closed",
         "python_smtp_disconnected"),
    ],
)
def test_app_error_constants_and_exceptions_are_quoted_errors(text: str, entry: str) -> None:
    """What apps and libraries print (an NSS constant, a Java exception, a Windows sockets
    error, Microsoft's bounce) is read as the app's words, with the entry that explains it."""
    found = [m for m in load_errors().find(text) if m.quoted]
    assert found and found[0].entry.id == entry


def test_an_apps_short_message_in_quote_marks_is_its_words() -> None:
    """Shorter than an app's sentence usually is, but the customer quoted it: the app's
    words. The same words unquoted are a description (no quoted match)."""
    found = [m for m in load_errors().find("Thunderbird says 'Sending of the message failed.'")
             if m.quoted]
    assert found and found[0].entry.id == "tb_send_failed"
    assert not [m for m in load_errors().find("the sending of the message failed") if m.quoted]


def test_another_tools_pasted_error_is_that_tools_trouble() -> None:
    """The same x509 error pasted alone is a mail client's certificate warning; after
    "docker pull" or "kubectl" it is that tool's trouble (deskbot match, with the catalogue)."""
    results = match(
        "x509: certificate signed by unknown authority",
        "docker pull x509: certificate signed by unknown authority",
        "kubectl get pods: x509: certificate signed by unknown authority",
    )
    assert [r["decision"] for r in results] == ["certificate_warning", "none", "none"]
