"""The web chat page in headless Chromium: a whole conversation, probe progress, settings table."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.catalog.model import Provider, ServerSettings
from bot.config import Config
from bot.engine import Engine
from bot.interfaces.http import create_app
from bot.interfaces.http.factory import default_flows_dir
from bot.probes.model import Check, ProbeReport
from bot.probes.recorded import RecordedProbeRunner
from tests.test_http_support import ThreadedServer

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)

PROVIDER = Provider(
    id="example", name="Example Mail", domains=("example.test",),
    incoming=(ServerSettings("imap", "imap.example.test", 993, "ssl"),),
    outgoing=(ServerSettings("smtp", "smtp.example.test", 587, "starttls"),),
)
PASSWORD = "web-secret-Pw9"


def _reports() -> list[ProbeReport]:
    def ok(name: str, *checks: tuple[str, str, str]) -> ProbeReport:
        found = tuple(Check(p, t, "ok", e, ms=3.2) for p, t, e in checks)
        return ProbeReport(name, "ann@example.test", "ok", checks=found, provider=PROVIDER)

    return [
        ProbeReport("lookup_provider", "example.test", "found", provider=PROVIDER,
                    checks=(Check("autoconfig", "example.test", "ok", "catalogue entry"),)),
        ok("check_incoming", ("dns", "imap.example.test", "resolves to 203.0.113.7"),
           ("tls", "imap.example.test:993", "certificate valid for imap.example.test"),
           ("imap", "imap.example.test:993", "login accepted")),
        ok("check_outgoing", ("tcp", "smtp.example.test:587", "port open"),
           ("smtp", "smtp.example.test:587", "STARTTLS, AUTH PLAIN, login accepted")),
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadedServer]:
    """The real app under uvicorn, probes answered from recordings (the page is under test)."""
    cfg = tmp_path / "serve.toml"
    cfg.write_text('[serve]\nsqlite_path = "web.db"\n')
    config = Config.load(cfg, serve_mode=True)
    engine = Engine.load(default_flows_dir(), config=config,
                         runner=RecordedProbeRunner(_reports()), vantage="server")
    with ThreadedServer(create_app(config, engine=engine)) as srv:
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


def _answer(driver: Any, slot: str) -> None:
    from selenium.webdriver.common.by import By

    buttons = {b.text: b for b in driver.find_elements(By.CSS_SELECTOR, "#choices button")}
    wanted = {"symptom": "correct settings", "test_offer": "Yes", "login_consent": "Yes"}
    if slot in wanted and buttons:
        next(b for t, b in buttons.items() if wanted[slot].lower() in t.lower()).click()
        return
    typed = {"client": "Thunderbird", "username": "ann@example.test", "password": PASSWORD,
             "message": "I need the settings to set up my e-mail account"}.get(slot, "I don't know")
    box = driver.find_element(By.ID, "text")
    box.send_keys(typed)
    driver.find_element(By.ID, "send").click()


def test_a_whole_conversation_in_the_browser(
    server: ThreadedServer, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/?email=ann@example.test")
    _wait(browser, "return document.body.dataset.session")
    for _ in range(12):
        if browser.find_element(By.ID, "outcome").is_displayed():
            break
        turns = int(browser.execute_script("return document.body.dataset.turns || 0"))
        _answer(browser, browser.execute_script("return document.body.dataset.slot || ''"))
        _wait(browser, f"return Number(document.body.dataset.turns || 0) > {turns}")
    shot = Path(os.environ.get("DESKBOT_SCREENSHOT_DIR", tmp_path)) / "web-chat.png"
    browser.save_screenshot(str(shot))

    outcome = browser.find_element(By.ID, "outcome")
    assert outcome.is_displayed() and "resolved" in outcome.text
    table = browser.find_element(By.CSS_SELECTOR, "table.settings")
    assert "imap.example.test" in table.text and "smtp.example.test" in table.text
    done = browser.find_elements(By.CSS_SELECTOR, "#log li.probe.ok")
    assert any("login accepted" in row.text for row in done), "probe progress was not shown"
    assert PASSWORD not in browser.find_element(By.ID, "log").text
    assert shot.stat().st_size > 10_000
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("web.db*"))
    assert stored and PASSWORD.encode() not in stored
