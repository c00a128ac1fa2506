"""A crafted link cannot phish a password (issue 15): the web page takes no address, server or
password from its URL, and the login-consent question names the address and the exact servers
the password would be sent to, so the customer sees them before typing it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.peers import MailWorld
from tests.test_http_live import Client, _config, _session, client_for  # noqa: F401
from tests.test_http_support import ThreadedServer
from tests.test_web import _wait, browser, server  # noqa: F401

PHISHING = ("/?email=victim@attacker.example&incoming_server=imap.attacker.example"
            "&outgoing_server=smtp.attacker.example&password=hunter22"
            "&message=my+mail+is+stuck+in+the+outbox&client=Thunderbird")


def test_a_crafted_link_sets_no_address_server_or_password(
    server: ThreadedServer, browser: Any  # noqa: F811
) -> None:
    browser.get(server.url + PHISHING)
    sid = _wait(browser, "return document.body.dataset.session")
    transcript = httpx.get(f"{server.url}/v1/sessions/{sid}/transcript", timeout=10).json()
    assert transcript["context"] == {"message": "my mail is stuck in the outbox",
                                     "client": "Thunderbird"}
    assert "attacker" not in str(transcript) and "hunter22" not in str(transcript)


async def test_login_consent_names_the_address_and_the_servers(
    world: MailWorld, client_for: Client, tmp_path: Any  # noqa: F811
) -> None:
    client = client_for(_config(world, tmp_path))
    sid = await _session(client, email=world.email, client="Thunderbird",
                         outgoing_server="smtp.example.test")
    answers = {"message": "my mail is stuck in the outbox", "outgoing_port":
               str(world.ports["submission"]), "outgoing_security": "STARTTLS",
               "outgoing_auth": "yes", "test_offer": "yes"}
    text = answers["message"]
    for _ in range(12):
        res = await client.post(f"/v1/sessions/{sid}/messages", json={"text": text})
        question = res.json()["question"]
        assert question is not None, res.json()
        if question["slot"] == "login_consent":
            break
        text = answers.get(question["slot"], "yes")
    prompt = question["prompt"]
    assert world.email in prompt and "smtp.example.test" in prompt
