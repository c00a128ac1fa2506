"""schemathesis fuzzes every operation of /openapi.json: no request shape yields a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.applications import Starlette

from bot.config import Config
from bot.interfaces.http import create_app
from bot.probes.runners import RecordedProbeRunner


def _app(tmp: Path) -> Starlette:
    path = tmp / "serve.toml"
    path.write_text('[serve]\nsqlite_path = "fuzz.db"\n')
    # The real engine and flows; probes answer "inconclusive" from an empty recording, so the
    # fuzzed text drives real conversations without touching the network.
    return create_app(Config.load(path, serve_mode=True), runner=RecordedProbeRunner())


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    return _app(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def live_session(app: Starlette) -> str:
    async def start() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://deskbot") as client:
            return str((await client.post("/v1/sessions", json={})).json()["id"])

    return asyncio.run(start())


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(app: Starlette) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_shape_yields_a_server_error(
    case: schemathesis.Case, live_session: str
) -> None:
    # Half the cases talk to a real session, so bodies reach the conversation, not just 404.
    if "id" in (case.path_parameters or {}) and case.path_parameters["id"][-1:] in "02468AC":
        case.path_parameters["id"] = live_session
    response = case.call()
    if response.status_code == 413:
        # A body over the size cap is rejected before its schema is read: a valid refusal of
        # negative data that schemathesis does not list among the rejection codes.
        assert "larger than" in response.json()["error"]
        return
    case.validate_response(response)
