"""A server-side check the port policy skipped still yields a job the customer can run.

The service here keeps its default mail ports, so the world's loopback ports are outside what it
may probe: its own check of a stuck Outbox is skipped and reports no provider. The link it offers
must still carry the session's provider (the servers the skipped check would have tested), and
`deskbot probe --join` on the customer's side (tests/peers/customer_net.py, submission filtered
there) runs them and proves the cause. The customer also reads what happened in plain words.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Config
from bot.interfaces.http import create_app
from tests.peers import MailWorld
from tests.peers.customer_net import CustomerNetwork
from tests.test_http_support import ThreadedServer
from tests.test_probelink import SMTP, link_of


@pytest.fixture
def server(world: MailWorld, tmp_path: Path) -> Iterator[ThreadedServer]:
    base = Config.load(world.config_path, serve_mode=True)  # default mail ports: world's skipped
    config = base.with_overrides(allow_private=True,
                                 serve={"sqlite_path": str(tmp_path / "desk.db")})
    with ThreadedServer(create_app(config)) as srv:
        yield srv


def talk(http: httpx.Client, email: str) -> tuple[str, list[dict[str, Any]]]:
    res = http.post("/v1/sessions", json={"context": {"email": email, "client": "Thunderbird"}})
    assert res.status_code == 201, res.text
    sid, bodies = res.json()["id"], [res.json()]
    for text in ("my mail is stuck in the outbox", "no", "no"):
        bodies.append(http.post(f"/v1/sessions/{sid}/messages", json={"text": text}).json())
    assert bodies[-1]["outcome"]["status"] == "handoff"
    return sid, bodies


def test_skipped_server_check_offers_the_sessions_servers(
    world: MailWorld, server: ThreadedServer
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http, \
            CustomerNetwork(world, blocked=("submission",)) as net:
        sid, bodies = talk(http, world.email)
        texts = [m["text"] for b in bodies for m in b["messages"]]
        line = next(t for b in bodies for m in b["messages"] if m["kind"] == "probe"
                    for t in [m["text"]])
        assert "→" not in line and "policy" not in line and "skipped" not in line, line
        assert "I could not test sending from the help desk's server" in line, texts
        job = http.get(link_of(bodies)["url"]).json()["job"]
        submission = f"{SMTP}:{world.ports['submission']}"
        assert job["provider"] is not None and job["provider"]["id"] == "example.test"
        assert submission in job["targets"]
        # a fresh conversation: the customer's own run, consent typed on stdin
        sid, bodies = talk(http, world.email)
        run = subprocess.run(["deskbot", "probe", "--join", link_of(bodies)["url"],
                              "--config", str(net.config_path)],
                             input=f"y\n{SMTP}\n", capture_output=True, text=True, timeout=90)
        assert run.returncode == 0, run.stderr
        assert f"{submission}  SMTP STARTTLS" in run.stdout  # listed before connecting
        transcript = http.get(f"/v1/sessions/{sid}/transcript").json()
        assert transcript["outcome"]["status"] == "resolved", transcript["outcome"]
        assert transcript["outcome"]["diagnosis"] == "port_blocked"


def test_no_link_when_no_server_is_known(world: MailWorld, server: ThreadedServer) -> None:
    """An address no catalogue knows and no settings given: nothing a link could run."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        sid, bodies = talk(http, "bob@nowhere.test")
        assert not [m for b in bodies for m in b["messages"] if "probe_link" in m]
        asked = http.post(f"/v1/sessions/{sid}/probe-link")
        assert asked.status_code == 409 and "names a server" in asked.json()["error"]
