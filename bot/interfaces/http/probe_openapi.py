"""The OpenAPI entries of the probe-link, probe-kit, events and session-list routes."""

from __future__ import annotations

from typing import Any

_TOKEN = {"name": "token", "in": "path", "required": True,
          "schema": {"type": "string", "maxLength": 64}}
_SESSION_ID = {"name": "id", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


_LINK = {"type": "object", "required": ["url", "expires_at"], "properties": {
    "url": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
    "command": {"type": "string"}, "kit_url": {"type": "string"},
    "kit_command": {"type": "string"}}}
_EVIDENCE = {"type": "object", "additionalProperties": False,
             "required": ["upload_token", "report"], "properties": {
                 "upload_token": {"type": "string"}, "report": {"type": "object"}}}
_PAGE = {"type": "object", "required": ["sessions", "next"], "properties": {
    "sessions": {"type": "array", "items": {"type": "object"}},
    "next": {"type": ["string", "null"]}}}


def probe_paths() -> dict[str, Any]:
    """Paths to merge into the service's OpenAPI document (docs/http.md explains them)."""
    many = _error("too many requests from this address or for this conversation")
    return {
        "/v1/sessions/{id}/probe-link": {"post": {
            "summary": "a single-use link for `deskbot probe --join URL`, bound to this session",
            "operationId": "createProbeLink", "parameters": [_SESSION_ID],
            "responses": {"201": _json("the link", _LINK), "404": _error("unknown session"),
                          "409": _error("nothing to check from the customer's side"),
                          "429": many}}},
        "/v1/probe-links/{token}": {"get": {
            "summary": "the job of a probe link (claims it): what the customer's computer "
                       "checks, and where to send the evidence",
            "operationId": "claimProbeLink", "parameters": [_TOKEN],
            "responses": {"200": _json("the job"), "404": _error("unknown link"),
                          "410": _error("used or expired link"), "429": many}}},
        "/v1/probe-links/{token}/evidence": {"post": {
            "summary": "the customer-side report; the conversation goes on with it",
            "operationId": "sendEvidence", "parameters": [_TOKEN],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _EVIDENCE}}},
            "responses": {"200": _json("accepted: the bot's turn"),
                          "403": _error("upload token of another link"),
                          "404": _error("unknown link"), "409": _error("conversation moved on"),
                          "410": _error("used or expired link"), "413": _error("too large"),
                          "422": _error("evidence refused"), "429": many}}},
        "/v1/probe-links/{token}/release": {"post": {
            "summary": "give a claimed link back (the customer declined before anything ran); "
                       "it can be used again until it expires",
            "operationId": "releaseProbeLink", "parameters": [_TOKEN],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["upload_token"], "additionalProperties": False,
                "properties": {"upload_token": {"type": "string"}}}}}},
            "responses": {"200": _json("released"), "403": _error("upload token of another link"),
                          "404": _error("unknown link"), "410": _error("used or expired link"),
                          "422": _error("bad body"), "429": many}}},
        "/v1/probe-kit": {"get": {
            "summary": "the probe as one Python zipapp: python3 FILE --join URL",
            "operationId": "getProbeKit",
            "responses": {"200": {"description": "deskbot-probe.pyz",
                                  "content": {"application/zip": {"schema": {}}}}}}},
        "/v1/sessions/{id}/events": {"get": {
            "summary": "NDJSON: customer-side checks (check_finished) then the reply, as "
                       "evidence arrives; idle when none came in time",
            "operationId": "sessionEvents", "parameters": [_SESSION_ID, {
                "name": "after", "in": "query", "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"}}],
            "responses": {"200": {"description": "events",
                                  "content": {"application/x-ndjson": {"schema": {}}}},
                          "404": _error("unknown session"), "422": _error("bad after")}}},
    }


def session_list_operation() -> dict[str, Any]:
    """GET /v1/sessions (the agents' list), merged beside POST /v1/sessions."""
    return {
        "summary": "a page of conversations for the help desk's agents (Bearer API key when "
                   "[serve] api_key is set)",
        "operationId": "listSessions",
        "parameters": [
            {"name": "status", "in": "query", "required": False, "schema": {
                "type": "string",
                "enum": ["open", "handoff", "resolved", "abandoned", "incomplete"]}},
            {"name": "after", "in": "query", "required": False, "schema": {
                "type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}},
            {"name": "limit", "in": "query", "required": False, "schema": {
                "type": "integer", "minimum": 1, "maximum": 200}},
        ],
        "responses": {"200": _json("a page; `next` is the `after` of the next one", _PAGE),
                      "401": _error("API key missing or wrong"), "422": _error("bad query")},
    }
