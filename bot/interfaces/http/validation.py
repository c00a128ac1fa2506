"""Request bodies: size limit (413) and shape (422 with a message), as values not exceptions."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request

from bot.errors import AnswersError
from bot.slots import normalize_slots

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Problem:
    """Why a request is refused: the HTTP status and a message for the integrator."""

    status: int
    message: str

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


@dataclass(frozen=True)
class Limits:
    """Request limits from `[serve]`."""

    max_body_bytes: int = 32 * 1024  # room for 4000 characters JSON-escaped
    max_text_chars: int = 4000
    body_seconds: float = 10.0  # the whole body must arrive within this


async def read_json(request: Request, limits: Limits) -> Any | Problem:
    """The parsed body, 413 when larger than the limit (checked before and while reading)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        return _too_large(limits)
    try:
        # a body that never finishes must not hold the connection (and a worker slot) forever
        async with asyncio.timeout(limits.body_seconds):
            raw = await _body(request, limits)
    except TimeoutError:
        return Problem(408, f"the request body did not arrive within {limits.body_seconds:g} s")
    except ClientDisconnect:  # the client went away mid-body: nobody to answer, no traceback
        return Problem(400, "the client closed the connection before the body was complete")
    if raw is None:
        return _too_large(limits)
    if not raw.strip():
        return {}  # no body at all: the same as an empty object
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Problem(422, f"body is not valid JSON: {exc}")
    except RecursionError:
        return Problem(422, "body is not valid JSON: nested too deeply")
    except ValueError:  # an integer of more than 4300 digits (int() refuses to convert it)
        return Problem(422, "body holds a number too large to be a value")


async def _body(request: Request, limits: Limits) -> bytes | None:
    """The body, or None as soon as it is larger than the limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def client_address(request: Request) -> str:
    """The customer's connection address ("-" when unknown): the TCP peer's, which uvicorn
    rewrites from X-Forwarded-For only for the proxies in `forwarded_allow_ips`."""
    return request.client.host if request.client else "-"


def _too_large(limits: Limits) -> Problem:
    return Problem(413, f"body larger than {limits.max_body_bytes} bytes")


def session_context(body: Any) -> dict[str, str] | Problem:
    """`{"context": {slot: value}}` (or no body) → normalised slots."""
    if not isinstance(body, Mapping):
        return Problem(422, "body must be a JSON object like {\"context\": {\"email\": ...}}")
    extra = sorted(set(body) - {"context"})
    if extra:
        return Problem(422, f"unknown field(s) {', '.join(extra)}; expected only \"context\"")
    context = body.get("context")
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        return Problem(422, "context must be an object of slot name to value")
    try:
        return normalize_slots(context, source="context")
    except AnswersError as exc:
        return Problem(422, str(exc))


MESSAGE_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass(frozen=True)
class UserMessage:
    """One posted message: its text and the client's optional id for safe retries."""

    text: str
    message_id: str | None = None


def message_text(body: Any, limits: Limits) -> str | Problem:
    """`{"text": "..."}` → the text, within the length limit."""
    message = user_message(body, limits)
    return message if isinstance(message, Problem) else message.text


def user_message(body: Any, limits: Limits) -> UserMessage | Problem:
    """`{"text": "...", "message_id": "..."}` (the id optional, 1-128 visible ASCII
    characters): a retry with the id of the last message handled gets that reply again."""
    if not isinstance(body, Mapping):
        return Problem(422, "body must be a JSON object like {\"text\": \"...\"}")
    extra = sorted(set(body) - {"text", "message_id"})
    if extra:
        return Problem(422, f"unknown field(s) {', '.join(extra)}; expected only \"text\" "
                       "and \"message_id\"")
    text = body.get("text")
    if not isinstance(text, str):
        return Problem(422, "text is required and must be a string")
    if len(text) > limits.max_text_chars:
        return Problem(422, f"text longer than {limits.max_text_chars} characters")
    message_id = body.get("message_id")
    if "message_id" in body and not (isinstance(message_id, str)
                                     and MESSAGE_ID.match(message_id)):
        return Problem(422, "message_id must be 1-128 visible ASCII characters")
    return UserMessage(text, message_id)
