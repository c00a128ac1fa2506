"""A handoff carries the provider's settings table as a typed part, as a resolved answer does.

The help desk's service (server vantage) cannot see the customer's network, so the CenturyLink
customer of issue 11 (offline: DNS at a dead loopback port) is handed over; their stated
settings differ from the catalogue's, and the agent and the web page get the table as
`settings` rows, not only as words inside the message text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bot.config import Config
from bot.interfaces.http import create_app
from tests.test_listening import CENTURYLINK


async def _handoff(tmp: Path, context: dict[str, str]) -> dict[str, Any]:
    config = tmp / "deskbot.toml"
    config.write_text('[dns]\nnameservers = ["127.0.0.1:9"]\n[probes]\ntimeout = 0.5\n'
                      f'[serve]\nsqlite_path = "{tmp / "sessions.db"}"\n', encoding="utf-8")
    app = create_app(Config.load(config, serve_mode=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://deskbot", timeout=60) as http:
        res = await http.post("/v1/sessions", json={"context": context})
        assert res.status_code == 201, res.text
        messages = res.json()["messages"]
        sid = res.json()["id"]
        for _ in range(12):  # "I don't know" until the flow ends
            if any(m["kind"] in ("handoff", "result") for m in messages):
                break
            res = await http.post(f"/v1/sessions/{sid}/messages", json={"text": "I don't know"})
            assert res.status_code == 200, res.text
            messages = res.json()["messages"]
    return next(m for m in messages if m["kind"] in ("handoff", "result"))


async def test_a_handoff_names_the_settings_in_the_settings_part(tmp_path: Path) -> None:
    """Input: "Thunderbird on my PC, CenturyLink account. Receiving is fine but sending times
    out; outgoing server smtp.centurylink.net, port 25, no encryption." (issue 11, input 1),
    asked from the help desk's server with no DNS."""
    message = await _handoff(tmp_path, {"message": CENTURYLINK, "email": "john@centurylink.net"})
    assert message["kind"] == "handoff"
    rows = message["settings"]
    assert rows and rows[0]["host"] == "smtp.centurylink.net"
    assert {str(r["port"]) for r in rows} == {"587"}
    # the words alone in `body`; the plain `text` still shows the table before the closing note
    assert "The settings to use" not in message["body"]
    text = message["text"]
    assert text.index("The settings to use") < text.index("A support agent will take over")
