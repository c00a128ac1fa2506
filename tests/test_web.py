"""The web chat page in headless Chromium: a whole conversation, probe progress, settings table."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.interfaces.http import create_app
from tests.peers import MailWorld
from tests.test_http_support import ThreadedServer

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)

@pytest.fixture
def server(world: MailWorld, tmp_path: Path) -> Iterator[ThreadedServer]:
    """The real app under uvicorn, probing the loopback mail world (tests/peers)."""
    base = Config.load(world.config_path, serve_mode=True)
    serve = {"sqlite_path": str(tmp_path / "web.db"), "mail_ports": sorted(world.ports.values())}
    with ThreadedServer(create_app(base.with_overrides(serve=serve))) as srv:
        yield srv


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=900,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, script: str, timeout: float = 10.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(
        lambda d: d.execute_script(script)
    )


def _answer(driver: Any, slot: str, world: MailWorld) -> None:
    from selenium.webdriver.common.by import By

    buttons = {b.text: b for b in driver.find_elements(By.CSS_SELECTOR, "#choices button")}
    wanted = {"symptom": "correct settings", "test_offer": "Yes", "login_consent": "Yes"}
    if slot in wanted and buttons:
        next(b for t, b in buttons.items() if wanted[slot].lower() in t.lower()).click()
        return
    typed = {"client": "Thunderbird", "username": world.email, "password": world.password,
             "email": world.email,
             "message": "I need the settings to set up my e-mail account"}.get(slot, "I don't know")
    box = driver.find_element(By.ID, "text")
    box.send_keys(typed)
    driver.find_element(By.ID, "send").click()


def test_a_whole_conversation_in_the_browser(
    server: ThreadedServer, browser: Any, tmp_path: Path, world: MailWorld
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/?email={world.email}")
    _wait(browser, "return document.body.dataset.session")
    for _ in range(12):
        if browser.find_element(By.ID, "outcome").is_displayed():
            break
        turns = int(browser.execute_script("return document.body.dataset.turns || 0"))
        _answer(browser, browser.execute_script("return document.body.dataset.slot || ''"), world)
        _wait(browser, f"return Number(document.body.dataset.turns || 0) > {turns}")
    shot = Path(os.environ.get("DESKBOT_SCREENSHOT_DIR", tmp_path)) / "web-chat.png"
    browser.save_screenshot(str(shot))

    outcome = browser.find_element(By.ID, "outcome")
    assert outcome.is_displayed() and "resolved" in outcome.text
    table = browser.find_element(By.CSS_SELECTOR, "table.settings")
    assert "imap.example.test" in table.text and "smtp.example.test" in table.text
    done = browser.find_elements(By.CSS_SELECTOR, "#log li.probe.ok")
    submission = f"smtp.example.test:{world.ports['submission']}"
    assert any(submission in row.text for row in done), "probe progress was not shown"
    assert world.password not in browser.find_element(By.ID, "log").text
    assert world.email in world.smtp.auth_attempts  # the login test really reached the server
    assert shot.stat().st_size > 10_000
    # a reload continues the same conversation from the service, not a new one
    browser.refresh()
    _wait(browser, "return document.body.dataset.resumed === 'true'")
    assert browser.find_element(By.ID, "outcome").is_displayed()
    assert "Thunderbird" in browser.find_element(By.ID, "log").text
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("web.db*"))
    assert stored and world.password.encode() not in stored
