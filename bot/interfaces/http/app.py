"""The Starlette application: routes of CONTRACT.md's HTTP API, the web page, /openapi.json."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.errors import DeskbotError, MessageIdReused, SessionBusy, StoreUnavailable
from bot.interfaces.http.openapi import openapi_document
from bot.interfaces.http.probe_routes import ProbeRoutes
from bot.interfaces.http.serialize import to_json
from bot.interfaces.http.service import ChatService, Turn
from bot.interfaces.http.validation import (
    SESSION_ID,
    Limits,
    Problem,
    UserMessage,
    client_address,
    read_json,
    session_context,
    user_message,
)
from bot.probes.model import Check

log = logging.getLogger(__name__)

_STATIC = {"app.js": "text/javascript", "style.css": "text/css", "index.html": "text/html"}
# The page loads only its own files and talks only to this API: a strict CSP keeps any text
# that slipped into the DOM from running as script.
_PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'",  # help desks may frame the page
    "X-Content-Type-Options": "nosniff",
}


def _problem(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status)


def _unknown(session_id: str) -> JSONResponse:
    return JSONResponse({"error": f"unknown session {session_id[:64]!r}"}, status_code=404)


class _QueueObserver:
    """Probe progress as NDJSON events for the streaming route."""

    def __init__(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self.queue = queue

    def check_started(self, probe: str, target: str) -> None:
        self.queue.put_nowait({"event": "check_started", "probe": probe, "target": target})

    def check_finished(self, check: Check) -> None:
        self.queue.put_nowait({"event": "check_finished", "check": check.to_dict()})


class Routes:
    """The handlers, sharing one ChatService and the request limits."""

    def __init__(self, service: ChatService, limits: Limits,
                 customer: ProbeRoutes | None = None) -> None:
        self.service = service
        self.limits = limits
        self.customer = customer
        self._background: set[asyncio.Task[None]] = set()

    async def _after(self, base: str, turn: Turn) -> Turn:
        """A handoff turn may carry a probe link and notify the webhook (probe_routes.py)."""
        if self.customer is None:
            return turn
        return await self.customer.side.after_turn(base, turn)

    async def sessions(self, request: Request) -> Response:
        """POST starts a conversation; GET lists them for agents (one route, so a 405
        names both methods in `Allow`)."""
        if request.method == "GET" and self.customer is not None:
            return await self.customer.sessions(request)
        return await self.create(request)

    def _base(self, request: Request) -> str:
        return self.customer.base(request) if self.customer else ""

    async def create(self, request: Request) -> Response:
        body = await read_json(request, self.limits)
        context = body if isinstance(body, Problem) else session_context(body)
        if isinstance(context, Problem):
            return _problem(context)
        started = time.perf_counter()
        turn = await self.service.start(context, client=client_address(request))
        turn = await self._after(self._base(request), turn)
        response = JSONResponse({"id": turn.session_id, **turn.body}, status_code=201)
        return _timed(response, started, turn)

    async def _text(self, request: Request) -> UserMessage | Problem:
        body = await read_json(request, self.limits)
        return body if isinstance(body, Problem) else user_message(body, self.limits)

    async def message(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        if not SESSION_ID.match(session_id):
            return _unknown(session_id)
        text = await self._text(request)
        if isinstance(text, Problem):
            return _problem(text)
        started = time.perf_counter()
        turn = await self.service.send(session_id, text.text, message_id=text.message_id,
                                       client=client_address(request))
        if turn is None:
            return _unknown(session_id)
        turn = await self._after(self._base(request), turn)
        return _timed(JSONResponse(turn.body), started, turn)

    async def stream(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        if not SESSION_ID.match(session_id) or not await self.service.exists(session_id):
            return _unknown(session_id)
        text = await self._text(request)
        if isinstance(text, Problem):
            return _problem(text)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        # The turn runs as its own task: a client that disconnects mid-probe must not cancel
        # the probes or lose the saved state.
        task = asyncio.create_task(
            self._stream_turn(session_id, text, queue, self._base(request),
                              client_address(request)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return StreamingResponse(_lines(queue), media_type="application/x-ndjson")

    async def _stream_turn(
        self, session_id: str, text: UserMessage, queue: asyncio.Queue[dict[str, Any] | None],
        base: str = "", client: str = "-",
    ) -> None:
        try:
            turn = await self.service.send(session_id, text.text, _QueueObserver(queue),
                                           message_id=text.message_id, client=client)
            if turn is None:
                queue.put_nowait({"event": "error", "status": 404, "error": "unknown session"})
            else:
                turn = await self._after(base, turn)
                queue.put_nowait({"event": "reply", **turn.body})
        except DeskbotError as exc:
            status = (503 if isinstance(exc, SessionBusy | StoreUnavailable)
                      else 409 if isinstance(exc, MessageIdReused) else 500)
            queue.put_nowait({"event": "error", "status": status, "error": str(exc)})
        except Exception:
            log.exception("turn of session %s failed", session_id)
            queue.put_nowait({"event": "error", "status": 500, "error": "internal error"})
        finally:
            queue.put_nowait(None)

    async def state(self, request: Request) -> Response:
        """Where a conversation stands: what a page needs to resume it after a reload."""
        session_id = request.path_params["id"]
        session = await self.service.session(session_id) if SESSION_ID.match(session_id) else None
        if session is None:
            return _unknown(session_id)
        from bot.transcripts import transcript_from_session

        turns = transcript_from_session(session).to_dict()["turns"]
        return JSONResponse({
            "id": session_id, "turns": turns,
            "outcome": to_json(getattr(session, "outcome", None)),
            "question": to_json(getattr(session, "question", None)),
        })

    async def transcript(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        session = await self.service.session(session_id) if SESSION_ID.match(session_id) else None
        if session is None:
            return _unknown(session_id)
        from bot.transcripts import transcript_from_session

        return JSONResponse(transcript_from_session(session).to_dict())


def _timed(response: Response, started: float, turn: Turn) -> Response:
    """Add Server-Timing: the turn's own time (lock wait, engine, store, JSON) and probe time,
    so a help desk (and bench/load.py) can tell the service's overhead from the network's."""
    total = (time.perf_counter() - started) * 1000
    probes = turn.probe_seconds * 1000
    response.headers["Server-Timing"] = f"app;dur={total - probes:.2f}, probes;dur={probes:.2f}"
    return response


async def _lines(queue: asyncio.Queue[dict[str, Any] | None]) -> AsyncIterator[bytes]:
    while (item := await queue.get()) is not None:
        yield (json.dumps(item) + "\n").encode()


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def _static(request: Request) -> Response:
    name = request.path_params.get("name", "index.html")
    if name not in _STATIC:
        return JSONResponse({"error": "not found"}, status_code=404)
    text = resources.files("bot.interfaces.web").joinpath(name).read_text(encoding="utf-8")
    return Response(text, media_type=_STATIC[name], headers=_PAGE_HEADERS)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        return await _crash(request, exc)
    # keep Starlette's headers: a 405 must list the allowed methods (RFC 9110)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _busy(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "1"})


async def _conflict(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=409)


async def _deskbot_error(request: Request, exc: Exception) -> Response:
    log.error("request %s %s failed: %s", request.method, request.url.path, exc)
    return JSONResponse({"error": str(exc)}, status_code=500)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("request %s %s crashed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


def build_app(service: ChatService, limits: Limits,
              customer: ProbeRoutes | None = None) -> Starlette:
    """The ASGI app around a ready ChatService; closes its store on shutdown. `customer`
    adds probe links, the probe kit, the session list and the handoff webhook."""
    routes = Routes(service, limits, customer)
    extra = customer.routes() if customer is not None else []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await service.store.close()

    return Starlette(
        routes=[
            Route("/", _static, methods=["GET"]),
            Route("/static/{name}", _static, methods=["GET"]),
            Route("/healthz", _health, methods=["GET"]),
            Route("/openapi.json", _openapi, methods=["GET"]),
            Route("/v1/sessions", routes.sessions,
                  methods=["GET", "POST"] if customer is not None else ["POST"]),
            Route("/v1/sessions/{id}", routes.state, methods=["GET"]),
            Route("/v1/sessions/{id}/messages", routes.message, methods=["POST"]),
            Route("/v1/sessions/{id}/messages/stream", routes.stream, methods=["POST"]),
            Route("/v1/sessions/{id}/transcript", routes.transcript, methods=["GET"]),
            *extra,
        ],
        exception_handlers={
            HTTPException: _http_error,
            SessionBusy: _busy,
            StoreUnavailable: _busy,
            MessageIdReused: _conflict,
            DeskbotError: _deskbot_error,
            Exception: _crash,
        },
        lifespan=lifespan,
    )
