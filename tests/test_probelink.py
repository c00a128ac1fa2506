"""Probe links for real: the service and the loopback mail world, a port filtered only on the
customer's side (tests/peers/customer_net.py), and `deskbot probe --join` in a second process.

From the help desk's server every port answers, so the server alone can only hand off; the
customer's run sees the submission port time out while SMTPS answers, and the same session
ends `port_blocked`, proven by the probe from the customer's vantage.
"""

from __future__ import annotations

import json
import subprocess
import sys
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

SMTP = "smtp.example.test"


def serve_config(world: MailWorld, tmp: Path, **serve: Any) -> Config:
    """The service's config: the world's DNS and CA, its ports counted as mail ports."""
    base = Config.load(world.config_path, serve_mode=True)
    table = {"sqlite_path": str(tmp / "desk.db"), "mail_ports": sorted(set(world.ports.values())),
             **serve}
    return base.with_overrides(allow_private=True, serve=table)


@pytest.fixture
def server(world: MailWorld, tmp_path: Path) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app(serve_config(world, tmp_path))) as srv:
        yield srv


@pytest.fixture
def customer(world: MailWorld) -> Iterator[CustomerNetwork]:
    with CustomerNetwork(world, blocked=("submission",)) as net:
        yield net


def outbox_context(world: MailWorld) -> dict[str, str]:
    return {"email": world.email, "client": "Thunderbird", "outgoing_server": SMTP,
            "outgoing_port": str(world.ports["submission"]), "outgoing_security": "starttls",
            "message": "my mail is stuck in the outbox"}


def talk_to_handoff(http: httpx.Client, world: MailWorld) -> tuple[str, list[dict[str, Any]]]:
    """A conversation about a stuck Outbox up to the server-side handoff; (id, replies)."""
    res = http.post("/v1/sessions", json={"context": outbox_context(world)})
    assert res.status_code == 201, res.text
    body = res.json()
    sid, bodies = body["id"], [body]
    for _ in range(10):
        if body["outcome"] is not None:
            return sid, bodies
        slot = body["question"]["slot"]
        text = "no" if slot == "login_consent" else "I don't know"
        body = http.post(f"/v1/sessions/{sid}/messages", json={"text": text}).json()
        bodies.append(body)
    raise AssertionError(f"no outcome: {bodies[-1]}")


def link_of(bodies: list[dict[str, Any]]) -> dict[str, str]:
    (offer,) = [m["probe_link"] for b in bodies for m in b["messages"] if "probe_link" in m]
    return dict(offer)


def join(url: str, net: CustomerNetwork, *args: str,
         stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = ["deskbot", "probe", "--join", url, "--config", str(net.config_path), *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=90)


def test_server_alone_hands_off_and_the_customers_run_proves_port_blocked(
    world: MailWorld, server: ThreadedServer, customer: CustomerNetwork
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        sid, bodies = talk_to_handoff(http, world)
        assert bodies[-1]["outcome"]["status"] == "handoff"  # the server alone cannot tell
        offer = link_of(bodies)
        text = next(m["text"] for m in bodies[-1]["messages"] if "probe_link" in m)
        assert f"deskbot probe --join {offer['url']}" in text  # the exact command, in the chat
        assert f"python3 deskbot-probe.pyz --join {offer['url']}" in text

        # consent typed on stdin: yes, then the loopback host confirmed by its name
        run = join(offer["url"], customer, stdin=f"y\n{SMTP}\n")
        assert run.returncode == 0, run.stderr
        submission = f"{SMTP}:{world.ports['submission']}"
        assert f"{submission}  SMTP STARTTLS" in run.stdout  # shown before connecting
        assert "Run these checks now?" in run.stderr
        assert "FAIL" in run.stdout and submission in run.stdout  # live progress
        assert "port_blocked" in run.stdout  # the result printed

        transcript = http.get(f"/v1/sessions/{sid}/transcript").json()
        assert transcript["outcome"]["status"] == "resolved"
        assert transcript["outcome"]["diagnosis"] == "port_blocked"
        assert transcript["outcome"].get("basis", "probe") == "probe"
        probes = [t for t in transcript["turns"] if t["role"] == "probe"]
        assert [p["vantage"] for p in probes][-2:] == ["server", "customer"]
        assert probes[-1]["report"]["outcome"] == "port_blocked"

        # the page's event stream shows the customer-side checks, then the reply
        lines = [json.loads(x) for x in http.get(f"/v1/sessions/{sid}/events").text.splitlines()]
        checks = [e for e in lines if e["event"] == "check_finished"]
        assert checks and all(e["vantage"] == "customer" for e in checks)
        assert any(e["check"]["target"] == submission and e["check"]["status"] == "fail"
                   for e in checks)
        assert lines[-1]["event"] == "reply"
        assert lines[-1]["outcome"]["diagnosis"] == "port_blocked"
        assert any(m["kind"] == "result" for m in lines[-1]["messages"])

        again = join(offer["url"], customer, "--yes")  # single use
        assert again.returncode != 0 and "already used" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1


def test_declining_contacts_nothing_and_changes_nothing(
    world: MailWorld, server: ThreadedServer, customer: CustomerNetwork
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        sid, bodies = talk_to_handoff(http, world)
        before = len(world.smtp.auth_attempts), customer.zone.queries[:]
        url = link_of(bodies)["url"]
        run = join(url, customer, stdin="n\n")
        assert run.returncode == 1 and "declined" in run.stderr
        assert "the link still works" in run.stderr
        assert customer.zone.queries == before[1]  # not even a DNS lookup
        state = http.get(f"/v1/sessions/{sid}").json()
        assert state["outcome"]["status"] == "handoff"
        # a customer who said no at first can still say yes with the same link
        again = join(url, customer, stdin=f"y\n{SMTP}\n")
        assert again.returncode == 0, again.stderr
        assert http.get(f"/v1/sessions/{sid}").json()["outcome"]["status"] == "resolved"


def test_a_private_address_is_skipped_unless_confirmed_by_name(
    world: MailWorld, server: ThreadedServer, customer: CustomerNetwork
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        sid, bodies = talk_to_handoff(http, world)
        run = join(link_of(bodies)["url"], customer, stdin="y\n\n")  # Enter: not confirmed
        assert run.returncode == 1
        assert "private or reserved address" in run.stderr
        assert http.get(f"/v1/sessions/{sid}").json()["outcome"]["status"] == "handoff"


def test_the_probe_kit_runs_in_a_clean_interpreter_and_joins(
    world: MailWorld, server: ThreadedServer, customer: CustomerNetwork, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.url, timeout=120) as http:
        kit = http.get("/v1/probe-kit")
        assert kit.status_code == 200
        assert kit.headers["content-disposition"].endswith('filename="deskbot-probe.pyz"')
        path = tmp_path / "deskbot-probe.pyz"
        path.write_bytes(kit.content)
        sid, bodies = talk_to_handoff(http, world)
        url = link_of(bodies)["url"]
        # -I -S: no site-packages, no user site, no PYTHON* variables: only the kit itself
        run = subprocess.run(
            [sys.executable, "-I", "-S", str(path), "--join", url, "--config",
             str(customer.config_path), "--yes", "--allow-private", SMTP],
            capture_output=True, text=True, timeout=90, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert "port_blocked" in run.stdout
        outcome = http.get(f"/v1/sessions/{sid}").json()["outcome"]
        assert outcome["status"] == "resolved" and outcome["diagnosis"] == "port_blocked"


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--join", "ftp://desk.example/x"], 1, "not a probe link"),
    (["--join", "http://127.0.0.1:9/v1/probe-links/AAAAAAAAAAAAAAAAAAAA"], 3,
     "cannot reach the help desk"),
    (["--join", "http://127.0.0.1:9/v1/probe-links/AAAAAAAAAAAAAAAAAAAA", "a@b.example"], 2,
     "--join takes no e-mail address"),
    ([], 2, "give an e-mail address"),
])
def test_join_refusals_are_one_line(args: list[str], code: int, words: str) -> None:
    run = subprocess.run(["deskbot", "probe", *args], capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == code and words in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
