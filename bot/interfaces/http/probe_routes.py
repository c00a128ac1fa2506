"""Routes of the customer's side and the agents' list (CONTRACT.md HTTP API, docs/http.md).

    POST /v1/sessions/{id}/probe-link        → 201 {"url", "expires_at", "command", ...}
    GET  /v1/probe-links/{token}              → 200 the job (claims the link) | 404 | 410
    POST /v1/probe-links/{token}/evidence     → 200 {"accepted", "messages", "outcome"}
    GET  /v1/probe-kit                        → the probe kit (a Python zipapp)
    GET  /v1/sessions/{id}/events?after=N     → NDJSON: customer-side checks, then the reply
    GET  /v1/sessions?status=…&after=…&limit= → a page of sessions (agents; the API key is
                                                guard.py's; app.py
                                                routes it, as POST shares the path)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.interfaces.http.customer import CustomerSide
from bot.interfaces.http.evidence import parse_evidence
from bot.interfaces.http.kit import KIT_NAME, kit_bytes
from bot.interfaces.http.probelinks import iso, link_key
from bot.interfaces.http.validation import (
    SESSION_ID,
    Limits,
    Problem,
    client_address,
    read_json,
)
from bot.sessions.base import status_of

STATUSES = ("open", "handoff", "resolved", "abandoned", "incomplete")
TOKEN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
EVENTS_WAIT = 25.0  # seconds an events request waits for a delivery before answering idle
EVENTS_POLL = 0.2


def _problem(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, headers=headers)


def _unknown_link() -> JSONResponse:
    return _problem(Problem(404, "unknown probe link: check that it was copied whole, or ask "
                                 "the help desk for a new one"))


class ProbeRoutes:
    """The handlers around one CustomerSide."""

    def __init__(self, side: CustomerSide, public_url: str) -> None:
        self.side = side
        self.public_url = public_url
        s = side.book.settings
        self.evidence_limits = Limits(max_body_bytes=s.max_evidence_bytes)
        self.release_limits = Limits(max_body_bytes=1024)

    def base(self, request: Request) -> str:
        """The service's address as customers reach it (`[serve] public_url`, else the
        request's own)."""
        return self.public_url or str(request.base_url).rstrip("/")

    def routes(self) -> list[Route]:
        return [
            Route("/v1/sessions/{id}/probe-link", self.create, methods=["POST"]),
            Route("/v1/sessions/{id}/events", self.events, methods=["GET"]),
            Route("/v1/probe-links/{token}", self.job, methods=["GET"]),
            Route("/v1/probe-links/{token}/evidence", self.evidence, methods=["POST"]),
            Route("/v1/probe-links/{token}/release", self.release, methods=["POST"]),
            Route("/v1/probe-kit", self.kit, methods=["GET"]),
        ]

    async def _limited(self, request: Request, kind: str) -> JSONResponse | None:
        """429 once this address made more than `probe_links_per_address` requests of a kind
        in the window (link creation; link reads and uploads, which is what guessing costs)."""
        s = self.side.book.settings
        address = client_address(request)
        if await self.side.service.store.hit(f"plink:{kind}:{address}", s.window) <= \
                s.per_address:
            return None
        return _problem(Problem(429, "too many probe-link requests from this address; try "
                                     "again later"), {"Retry-After": str(int(s.window))})

    async def create(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        if not SESSION_ID.fullmatch(session_id):
            return _problem(Problem(404, f"unknown session {session_id[:64]!r}"))
        limited = await self._limited(request, "a")
        if limited is not None:
            return limited
        check = await self.side.check_for(session_id)
        if check is None:
            return _problem(Problem(404, f"unknown session {session_id[:64]!r}"))
        if isinstance(check, Problem):
            return _problem(check)
        if await self.side.over_limit(session_id):
            return _problem(Problem(429, "too many probe links for this conversation; try "
                                         "again later"))
        offer = await self.side.offer(self.base(request), session_id, check)
        return JSONResponse(offer.to_dict(), status_code=201)

    async def _gate(self, request: Request, token: str) -> JSONResponse | None:
        """The answer for a link route before any lookup: rate limited, or not a token shape."""
        limited = await self._limited(request, "g")
        if limited is not None:
            return limited
        if not 16 <= len(token) <= 64 or not set(token) <= TOKEN:
            return _unknown_link()
        return None

    async def job(self, request: Request) -> Response:
        token = request.path_params["token"]
        refused = await self._gate(request, token)
        if refused is not None:
            return refused
        claimed = await self.side.book.claim(token)
        if isinstance(claimed, Problem):
            return _problem(claimed)
        link, upload = claimed
        return JSONResponse({
            "job": link.job.to_dict(), "expires_at": iso(link.expires_at),
            "upload": f"{self.base(request)}/v1/probe-links/{token}/evidence",
            "upload_token": upload,
        }, headers={"Cache-Control": "no-store"})

    async def evidence(self, request: Request) -> Response:
        token = request.path_params["token"]
        refused = await self._gate(request, token)
        if refused is not None:
            return refused
        body = await read_json(request, self.evidence_limits)
        if isinstance(body, Problem):
            return _problem(body)
        book = self.side.book
        # one upload at a time per link: a second one finds it used
        async with book.store.lock(link_key(token)):
            link = await book.load(token)
            if isinstance(link, Problem):
                return _problem(link)
            # the upload token first: a caller without it learns nothing about the job (the
            # probe asked for, the address) from the report's validation errors
            claimed = body.get("upload_token") if isinstance(body, dict) else None
            if not isinstance(claimed, str) or not book.upload_allowed(link, claimed):
                return _problem(Problem(403, "this upload token does not belong to this probe "
                                             "link; fetch the link's job first"))
            parsed = parse_evidence(body, link.job)
            if isinstance(parsed, Problem):
                return _problem(parsed)
            _, report = parsed
            turn = await self.side.take(link, report, client=client_address(request))
            if isinstance(turn, Problem):
                return _problem(turn)
            await book.close(link)
        if (turn.body.get("outcome") or {}).get("status") == "handoff":
            self.side.notify(turn.session_id, turn.body)
        return JSONResponse({"accepted": True, "messages": turn.body["messages"],
                             "outcome": turn.body["outcome"]})

    async def release(self, request: Request) -> Response:
        """The customer declined after reading the job: the link is theirs to use again."""
        token = request.path_params["token"]
        refused = await self._gate(request, token)
        if refused is not None:
            return refused
        body = await read_json(request, self.release_limits)
        if isinstance(body, Problem):
            return _problem(body)
        upload_token = body.get("upload_token") if isinstance(body, dict) else None
        if not isinstance(upload_token, str) or set(body) != {"upload_token"}:
            return _problem(Problem(422, 'the body must be {"upload_token": "..."}'))
        released = await self.side.book.release(token, upload_token)
        if isinstance(released, Problem):
            return _problem(released)
        return JSONResponse({"released": True, "expires_at": iso(released.expires_at)})

    async def kit(self, request: Request) -> Response:
        data = await asyncio.to_thread(kit_bytes)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{KIT_NAME}"',
            "X-Content-Type-Options": "nosniff"})

    async def events(self, request: Request) -> Response:
        session_id = request.path_params["id"]
        if not SESSION_ID.fullmatch(session_id) or not await self.side.service.exists(session_id):
            return _problem(Problem(404, f"unknown session {session_id[:64]!r}"))
        unknown = _unknown_query(request, {"after"})
        if unknown is not None:
            return unknown
        after_text = request.query_params.get("after", "0")
        if not after_text.isdigit() or len(after_text) > 9:
            return _problem(Problem(422, "after must be a whole number"))
        return StreamingResponse(self._event_lines(session_id, int(after_text)),
                                 media_type="application/x-ndjson")

    async def _event_lines(self, session_id: str, after: int) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EVENTS_WAIT
        while not (found := await self.side.deliveries(session_id, after)):
            if found is None or loop.time() > deadline:
                yield _line({"event": "idle", "after": after})
                return
            await asyncio.sleep(EVENTS_POLL)
        for delivery in found:
            for check in delivery["checks"]:
                yield _line({"event": "check_finished", "check": check, "vantage": "customer"})
            yield _line({"event": "reply", "n": delivery["n"], **delivery["reply"]})

    async def sessions(self, request: Request) -> Response:
        # the API key ([serve] api_key) is checked by the front door (guard.py)
        unknown = _unknown_query(request, {"status", "after", "limit"})
        if unknown is not None:
            return unknown
        query = request.query_params
        status = query.get("status")
        if status is not None and status not in STATUSES:
            return _problem(Problem(422, f"status must be one of {', '.join(STATUSES)}"))
        limit_text = query.get("limit", "50")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 200:
            return _problem(Problem(422, "limit must be a whole number from 1 to 200"))
        after = query.get("after", "")
        if "after" in query and not SESSION_ID.fullmatch(after):
            return _problem(Problem(422, "after must be a session id from a previous page"))
        limit = int(limit_text)
        page = await self.side.service.store.page(status, after, limit)
        items = [_summary(sid, dict(stored.state)) for sid, stored in page]
        following = page[-1][0] if len(page) == limit else None
        return JSONResponse({"sessions": items, "next": following})


def _unknown_query(request: Request, known: set[str]) -> JSONResponse | None:
    extra = sorted(set(request.query_params) - known)
    if not extra:
        return None
    return _problem(Problem(422, f"unknown query parameter(s) {', '.join(extra)[:100]}; "
                                 f"known: {', '.join(sorted(known))}"))


def _summary(session_id: str, state: dict[str, Any]) -> dict[str, Any]:
    outcome = state.get("outcome") or {}
    turns = state.get("turns") or []
    first = next((t.get("text") for t in turns if t.get("role") == "user"), None)
    return {"id": session_id, "status": status_of(state), "symptom": state.get("flow"),
            "diagnosis": outcome.get("diagnosis"), "email": (state.get("slots") or {}).get(
                "email"), "turns": len(turns), "first_line": first}


def _line(item: dict[str, Any]) -> bytes:
    return (json.dumps(item) + "\n").encode()
