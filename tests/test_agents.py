"""For the help desk's agents: the session list (paged, API key) and the signed handoff webhook,
delivered to a real HTTP receiver on loopback that fails once, so the retry is exercised."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.interfaces.http import create_app
from tests.peers import MailWorld
from tests.test_http_support import ThreadedServer
from tests.test_probelink import serve_config, talk_to_handoff

KEY = "agents-only-key-123"
SECRET = "webhook-secret-0123456789"


class Receiver(http.server.ThreadingHTTPServer):
    """A ticket system's endpoint: answers 503 to the first delivery, 204 after."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.arrived: list[float] = []
        self.failures_left = 1
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/deskbot"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.deliveries.append((dict(self.headers), body))
        self.server.arrived.append(time.monotonic())
        failing = self.server.failures_left > 0
        self.server.failures_left -= 1
        self.send_response(503 if failing else 204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.shutdown()


@pytest.fixture
def http(world: MailWorld, tmp_path: Path, receiver: Receiver) -> Iterator[httpx.Client]:
    config = serve_config(world, tmp_path, api_key=KEY).with_overrides(handoff={
        "webhook_url": receiver.url, "webhook_secret": SECRET})
    with ThreadedServer(create_app(config)) as srv, \
            httpx.Client(base_url=srv.url, timeout=60) as client:
        yield client


def test_agents_list_sessions_by_status_with_the_key(http: httpx.Client, world: MailWorld) -> None:
    handed, _ = talk_to_handoff(http, world)
    handed2, _ = talk_to_handoff(http, world)
    waiting = http.post("/v1/sessions", json={}).json()["id"]
    assert http.get("/v1/sessions").status_code == 401
    wrong = http.get("/v1/sessions", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["error"]
    auth = {"Authorization": f"Bearer {KEY}"}
    page = http.get("/v1/sessions", params={"status": "handoff"}, headers=auth).json()
    assert {s["id"] for s in page["sessions"]} == {handed, handed2}
    assert all(s["symptom"] == "outbox_stuck" and s["email"] == world.email
               for s in page["sessions"])
    opened = http.get("/v1/sessions", params={"status": "open"}, headers=auth).json()
    assert [s["id"] for s in opened["sessions"]] == [waiting]
    first = http.get("/v1/sessions", params={"status": "handoff", "limit": 1}, headers=auth)
    rest = http.get("/v1/sessions", params={"status": "handoff", "after": first.json()["next"]},
                    headers=auth).json()
    assert len(first.json()["sessions"]) == 1 and rest["next"] is None
    assert first.json()["sessions"] + rest["sessions"] == page["sessions"]
    assert http.get("/v1/sessions", params={"status": "stuck"}, headers=auth).status_code == 422
    assert http.post("/v1/sessions", json={}).status_code == 201  # customers need no key


def test_a_handoff_is_posted_signed_and_retried_without_blocking(
    http: httpx.Client, world: MailWorld, receiver: Receiver
) -> None:
    sid, bodies = talk_to_handoff(http, world)
    answered = time.monotonic()
    assert bodies[-1]["outcome"]["status"] == "handoff"
    deadline = time.monotonic() + 20
    while len(receiver.deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.deliveries) == 2, "the 503 was not retried"
    (h1, b1), (h2, b2) = receiver.deliveries
    assert b1 == b2 and h1["X-Deskbot-Delivery"] == h2["X-Deskbot-Delivery"]
    for headers, body in receiver.deliveries:
        stamp = headers["X-Deskbot-Timestamp"]
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        assert hmac.compare_digest(headers["X-Deskbot-Signature"],
                                   "sha256=" + expected.hexdigest())
    event = json.loads(b1)
    assert event["event"] == "handoff" and event["session"] == sid
    probes = event["handoff"]["probes"]
    assert probes and {p["vantage"] for p in probes} == {"server"}
    assert world.password not in b1.decode()
    # the customer had the reply before the retry: the conversation never waits for it
    assert answered < receiver.arrived[1]
