"""The web chat page in headless Chromium with a probe link: the server hands off and the page
shows the link and the command; `deskbot probe --join` runs in a second process on the
"customer's network" (one port filtered); the page then shows the customer-side checks as they
arrive and the proven outcome, with no further typing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.interfaces.http import create_app
from tests.peers import MailWorld
from tests.peers.customer_net import CustomerNetwork
from tests.test_http_support import ThreadedServer
from tests.test_probelink import SMTP, outbox_context, serve_config
from tests.test_web import CHROMIUM, DRIVER, _wait, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)


@pytest.fixture
def server(world: MailWorld, tmp_path: Path) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app(serve_config(world, tmp_path))) as srv:
        yield srv


def test_the_page_shows_the_link_then_the_customer_side_checks(
    server: ThreadedServer, browser: Any, world: MailWorld, tmp_path: Path  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    # a link may carry only harmless fields: the address and servers are typed
    context = outbox_context(world)
    query = urlencode({"message": context["message"], "client": "Thunderbird"})
    browser.get(f"{server.url}/?{query}")
    typed = {**context, "outgoing_security": "STARTTLS", "outgoing_auth": "yes"}
    _wait(browser, "return document.body.dataset.session")
    for _ in range(8):
        if browser.find_elements(By.CSS_SELECTOR, "#log li.probe-link"):
            break
        turns = int(browser.execute_script("return document.body.dataset.turns || 0"))
        slot = browser.execute_script("return document.body.dataset.slot || ''")
        buttons = browser.find_elements(By.CSS_SELECTOR, "#choices button")
        if slot == "login_consent" and buttons:
            next(b for b in buttons if b.text.lower() == "no").click()
        else:
            browser.find_element(By.ID, "text").send_keys(typed.get(slot, "I don't know"))
            browser.find_element(By.ID, "send").click()
        _wait(browser, f"return Number(document.body.dataset.turns || 0) > {turns}")
    offer = _wait(browser, "return document.querySelector('#log li.probe-link')")
    assert "deskbot probe --join http" in offer.text  # the link and the exact command
    assert browser.find_element(By.ID, "outcome").get_attribute("data-status") == "handoff"
    url = offer.get_attribute("data-url")

    with CustomerNetwork(world, blocked=("submission",)) as net:
        run = subprocess.run(
            ["deskbot", "probe", "--join", url, "--config", str(net.config_path), "--yes",
             "--allow-private", SMTP], capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr

    _wait(browser, "return document.getElementById('outcome').dataset.status === 'resolved'",
          timeout=30)
    customer = browser.find_elements(By.CSS_SELECTOR, "#log li.probe.customer")
    submission = f"{SMTP}:{world.ports['submission']}"
    assert any(submission in row.text and "fail" in row.get_attribute("class")
               for row in customer), "the customer-side checks were not shown"
    assert "port_blocked" in browser.find_element(By.ID, "outcome").text
    log = browser.find_element(By.ID, "log").text
    assert "The checks from your computer have arrived" in log
    shot = Path(os.environ.get("DESKBOT_SCREENSHOT_DIR", tmp_path)) / "web-probe-link.png"
    browser.save_screenshot(str(shot))
