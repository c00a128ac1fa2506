"""Probe links under attack: guessed, reused, expired and cross-session links; oversized and
malformed evidence; evidence about hosts the session never asked about. Every one is refused
with a clear message and none changes the conversation's outcome; a genuine upload afterwards
still works (the refusals did not use the link up)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.interfaces.http import create_app
from bot.interfaces.http.probelinks import link_key
from bot.sessions import StoredSession
from bot.sessions.sqlite import SqliteStore
from tests.peers import MailWorld
from tests.test_http_support import ThreadedServer
from tests.test_probelink import SMTP, link_of, serve_config, talk_to_handoff


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "attacks.db")


@pytest.fixture
def http(world: MailWorld, tmp_path: Path, store: SqliteStore) -> Iterator[httpx.Client]:
    config = serve_config(world, tmp_path, max_evidence_bytes=4096,
                          probe_links_per_session=4, probe_links_per_address=40)
    with ThreadedServer(create_app(config, store=store)) as srv, \
            httpx.Client(base_url=srv.url, timeout=60) as client:
        yield client


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def blocked_report(world: MailWorld, **changes: Any) -> dict[str, Any]:
    """What the customer's computer would send when the submission port is filtered there."""
    sub, ssl_port = world.ports["submission"], world.ports["smtps"]
    report: dict[str, Any] = {
        "name": "check_outgoing", "target": f"{SMTP}:{sub}", "outcome": "port_blocked",
        "checks": [
            {"probe": "dns", "target": SMTP, "status": "ok", "evidence": f"{SMTP} → 127.0.0.3",
             "diagnosis": None, "ms": 1.0, "outcome": "ok"},
            {"probe": "tcp", "target": f"{SMTP}:{sub}", "status": "fail",
             "evidence": "no answer within 1.5 s", "diagnosis": "port_blocked", "ms": 1500.0,
             "outcome": "timeout"},
            {"probe": "tcp", "target": f"{SMTP}:{ssl_port}", "status": "ok",
             "evidence": "connected", "diagnosis": None, "ms": 0.4, "outcome": "ok"},
        ],
        "diagnoses": ["port_blocked"],
        "facts": {"configured_host": SMTP, "configured_port": str(sub),
                  "configured_security": "starttls", "protocol": "smtp",
                  "working_port": str(ssl_port), "working_security": "ssl"},
        "notes": [],
    }
    report.update(changes)
    return report


def outcome(http: httpx.Client, sid: str) -> Any:
    return http.get(f"/v1/sessions/{sid}").json()["outcome"]


def claim(http: httpx.Client, world: MailWorld) -> tuple[str, str, dict[str, Any]]:
    """A session handed off by the server, its link claimed: (session id, url, job answer)."""
    sid, bodies = talk_to_handoff(http, world)
    url = link_of(bodies)["url"]
    answer = http.get(url)
    assert answer.status_code == 200, answer.text
    return sid, url, answer.json()


def test_guessed_reused_and_expired_links_are_refused(
    http: httpx.Client, world: MailWorld, store: SqliteStore
) -> None:
    guessed = http.get(f"/v1/probe-links/{secrets.token_urlsafe(24)}")
    assert guessed.status_code == 404 and "unknown probe link" in guessed.json()["error"]
    assert http.get("/v1/probe-links/..%2f..%2fetc").status_code == 404

    sid, url, job = claim(http, world)
    assert '"password"' not in json.dumps(job) and world.password not in json.dumps(job)
    assert "imap.example.test" not in json.dumps(job)  # an outgoing check: outgoing servers
    assert set(job["job"]["params"]) <= {"client", "outgoing_server", "outgoing_port",
                                         "outgoing_security", "username", "outgoing_auth"}
    reread = http.get(url)
    assert reread.status_code == 410 and "already used" in reread.json()["error"]

    sid2, bodies2 = talk_to_handoff(http, world)
    url2 = link_of(bodies2)["url"]
    key = link_key(token_of(url2))
    import asyncio

    stored = asyncio.run(store.load(key))
    assert stored is not None
    state = {**stored.state, "expires_at": 1.0}  # as if its 15 minutes had passed
    asyncio.run(store.save(key, StoredSession(stored.rev, state)))
    expired = http.get(url2)
    assert expired.status_code == 410 and "expired" in expired.json()["error"]
    assert outcome(http, sid)["status"] == outcome(http, sid2)["status"] == "handoff"


def test_only_the_claimer_can_give_a_link_back(http: httpx.Client, world: MailWorld) -> None:
    """Releasing a declined link needs the upload token its job handed out: a guesser who
    knows the link cannot reset someone else's claim."""
    _, url, job = claim(http, world)
    wrong = http.post(f"{url}/release", json={"upload_token": secrets.token_urlsafe(24)})
    assert wrong.status_code == 403
    assert http.get(url).status_code == 410  # still claimed
    assert http.post(f"{url}/release", json={"token": "x"}).status_code == 422
    given = http.post(f"{url}/release", json={"upload_token": job["upload_token"]})
    assert given.status_code == 200 and given.json()["released"] is True
    assert http.get(url).status_code == 200  # claimable again, with a new upload token


def test_cross_session_and_bad_evidence_change_nothing(
    http: httpx.Client, world: MailWorld
) -> None:
    sid_a, url_a, job_a = claim(http, world)
    sid_b, url_b, job_b = claim(http, world)
    good = blocked_report(world)

    def upload(url: str, body: Any, **kw: Any) -> httpx.Response:
        return http.post(f"{url}/evidence", json=body, **kw) if body is not None else \
            http.post(f"{url}/evidence", **kw)

    # A's upload token on B's link, and B's on A's
    crossed = upload(url_b, {"upload_token": job_a["upload_token"], "report": good})
    assert crossed.status_code == 403 and "does not belong" in crossed.json()["error"]
    assert upload(url_a, {"upload_token": job_b["upload_token"], "report": good}
                  ).status_code == 403
    token = job_a["upload_token"]
    big = {"upload_token": token, "report": good, "pad": "x" * 5000}
    assert upload(url_a, big).status_code == 413
    assert upload(url_a, None, content=b"{not json",
                  headers={"Content-Type": "application/json"}).status_code == 422
    refusals = {
        "schema": {"upload_token": token},
        "name": {"upload_token": token, "report": blocked_report(world, name="check_incoming")},
        "outcome": {"upload_token": token, "report": blocked_report(world, outcome="pwned")},
        "field": {"upload_token": token, "report": blocked_report(world, password="x")},
        "foreign host": {"upload_token": token, "report": blocked_report(world, checks=[
            {"probe": "tcp", "target": "mail.evil.example:25", "status": "fail",
             "evidence": "", "diagnosis": None, "ms": 1, "outcome": "timeout"}])},
        "foreign port": {"upload_token": token, "report": blocked_report(world, checks=[
            {"probe": "tcp", "target": f"{SMTP}:22", "status": "fail", "evidence": "",
             "diagnosis": None, "ms": 1, "outcome": "timeout"}])},
        "foreign fact": {"upload_token": token, "report": blocked_report(world, facts={
            "working_host": "10.1.2.3", "working_port": "25"})},
        "foreign target": {"upload_token": token, "report": blocked_report(
            world, target="intranet.local:443")},
        # an outcome that no check shows, or without the facts its fix text needs
        "unshown outcome": {"upload_token": token, "report": blocked_report(world, checks=[])},
        "missing fact": {"upload_token": token, "report": blocked_report(world, facts={
            "configured_host": SMTP, "working_port": str(world.ports["smtps"])})},
    }
    for what, body in refusals.items():
        res = upload(url_a, body)
        assert res.status_code == 422, (what, res.text)
        assert res.json()["error"].startswith("evidence refused"), what
    for what in ("foreign host", "foreign port", "foreign fact", "foreign target"):
        assert "did not ask about" in upload(url_a, refusals[what]).json()["error"]
    assert outcome(http, sid_a)["status"] == outcome(http, sid_b)["status"] == "handoff"

    # the genuine upload still goes through, once, and only into session A
    accepted = upload(url_a, {"upload_token": token, "report": good})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["outcome"]["diagnosis"] == "port_blocked"
    assert "id" not in accepted.json() and sid_a not in accepted.text
    assert upload(url_a, {"upload_token": token, "report": good}).status_code == 410
    assert outcome(http, sid_a) == {"status": "resolved", "symptom": "outbox_stuck",
                                    "diagnosis": "port_blocked"} | (
        {"basis": "probe"} if "basis" in outcome(http, sid_a) else {})
    assert outcome(http, sid_b)["status"] == "handoff"


def test_links_are_rate_limited_per_session(http: httpx.Client, world: MailWorld) -> None:
    sid, _ = talk_to_handoff(http, world)  # the automatic offer counts as the first
    codes = [http.post(f"/v1/sessions/{sid}/probe-link").status_code for _ in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    unknown = http.post(f"/v1/sessions/{secrets.token_urlsafe(18)}/probe-link")
    assert unknown.status_code == 404


def test_a_link_needs_a_question_the_customer_can_settle(
    http: httpx.Client, world: MailWorld
) -> None:
    sid = http.post("/v1/sessions", json={}).json()["id"]
    res = http.post(f"/v1/sessions/{sid}/probe-link")
    assert res.status_code == 409 and "nothing to check" in res.json()["error"]


def test_without_the_upload_token_evidence_learns_nothing_about_the_job(
    http: httpx.Client, world: MailWorld
) -> None:
    """The upload token is checked before the report: a caller who only knows the link gets
    403 whatever it sends, never a validation error naming the job's probe or the address."""
    sid, url, _job = claim(http, world)
    for body in ({"upload_token": secrets.token_urlsafe(24), "report": {}},
                 {"upload_token": secrets.token_urlsafe(24)},
                 {"report": {}}, {"upload_token": 7, "report": {}}, []):
        res = http.post(f"{url}/evidence", json=body)
        assert res.status_code == 403, (body, res.text)
        for secret in ("check_outgoing", world.email, SMTP, "evidence about"):
            assert secret not in res.text, (body, res.text)
    assert outcome(http, sid)["status"] == "handoff"
