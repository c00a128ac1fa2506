"""The OpenAPI 3.1 document served at /openapi.json (hand-written: it is the contract)."""

from __future__ import annotations

from typing import Any

from bot.interfaces.http.probe_openapi import probe_paths, session_list_operation
from bot.slots import SLOT_NAMES

_SCALAR: dict[str, Any] = {"type": ["string", "integer", "number", "boolean", "null"]}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_MESSAGE = {
    "type": "object",
    "description": "A bot message: kind is text, question, result (with settings), handoff "
    "(with the handoff package for the human agent, and settings when the customer's differ "
    "from the provider's) or probe (a finished probe report). "
    "`text` is the plain form (numbered choices, settings table included); `body` is the words "
    "alone, for pages that lay out question.choices, headline, proof and settings themselves.",
    "required": ["kind", "text"],
    "properties": {
        "kind": {"type": "string",
                 "enum": ["text", "question", "result", "handoff", "probe"]},
        "text": {"type": "string"},
        "body": {"type": "string"},
        "question": {"type": ["object", "null"]},
        "settings": {"type": ["array", "null"], "items": {"type": "object"}},
        "headline": {"type": ["string", "null"],
                     "description": "result: the diagnosis table's one-line headline"},
        "headline_label": {"type": ["string", "null"],
                           "description": "\"What's wrong\", or \"Result\" for ok"},
        "proof": {"type": "array", "items": {"type": "object"},
                  "description": "result: the checks that prove the diagnosis"},
        "evidence": {"type": "array", "items": {"type": "object"}},
        "handoff": {"type": ["object", "null"]},
        "outcome": {"$ref": "#/components/schemas/Outcome"},
    },
}
_OUTCOME = {
    "type": ["object", "null"],
    "properties": {
        "status": {"type": "string"},
        "symptom": {"type": ["string", "null"]},
        "diagnosis": {"type": ["string", "null"]},
        "basis": {"type": ["string", "null"], "enum": ["probe", "reply", "catalogue", None],
                  "description": "what established the diagnosis; null without one"},
    },
}
_TURN_PROPS = {
    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
    "outcome": {"$ref": "#/components/schemas/Outcome"},
    "question": {"type": ["object", "null"], "description": "what the bot waits for"},
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_SESSION_ID = {
    "name": "id", "in": "path", "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
}
_COMMON_ERRORS = {"400": _error("client went away mid-body"),
                  "408": _error("body not received in time"), "413": _error("body too large"),
                  "415": _error("body not sent as JSON"),
                  "421": _error("Host not in allowed_hosts"), "422": _error("malformed body")}


def _paths() -> dict[str, Any]:
    turn = {"$ref": "#/components/schemas/Turn"}
    return {
        "/healthz": {"get": {"summary": "liveness", "operationId": "health",
                             "responses": {"200": _json({"type": "object"}, "up")}}},
        "/v1/sessions": {"post": {
            "summary": "start a conversation, optionally with the ticket's context slots",
            "operationId": "createSession",
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/NewSession"}}}},
            "responses": {"201": _json({"$ref": "#/components/schemas/Session"}, "started"),
                          **_COMMON_ERRORS,
                          "429": _error("too many new conversations from this address"),
                          "503": _error("conversation quota reached, or the store is down")},
        }},
        "/v1/sessions/{id}/messages": {"post": {
            "summary": "one user line; handled in order, one at a time per session",
            "operationId": "sendMessage",
            "parameters": [_SESSION_ID],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/UserMessage"}}}},
            "responses": {"200": _json(turn, "the bot's turn"),
                          "404": _error("unknown session"), **_COMMON_ERRORS,
                          "409": _error("message_id already used for a different text "
                                        "(nothing applied: send it with a new message_id)"),
                          "503": _error("session busy too long, or the store refused the turn "
                                        "(nothing applied: retry with the same message_id)")},
        }},
        "/v1/sessions/{id}/messages/stream": {"post": {
            "summary": "as /messages, streamed as NDJSON events: check_started, "
                       "check_finished, then reply",
            "operationId": "sendMessageStream",
            "parameters": [_SESSION_ID],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/UserMessage"}}}},
            "responses": {"200": {"description": "events",
                                  "content": {"application/x-ndjson": {"schema": {}}}},
                          "404": _error("unknown session"), **_COMMON_ERRORS},
        }},
        "/v1/sessions/{id}": {"get": {
            "summary": "where a conversation stands (turns, question, outcome): to resume a page",
            "operationId": "getSession",
            "parameters": [_SESSION_ID],
            "responses": {"200": _json({"type": "object", "required": ["id", "turns"]}, "state"),
                          "404": _error("unknown session")},
        }},
        "/v1/sessions/{id}/transcript": {"get": {
            "summary": "the transcript document (CONTRACT.md), never a password",
            "operationId": "getTranscript",
            "parameters": [_SESSION_ID],
            "responses": {"200": _json({"type": "object"}, "transcript"),
                          "404": _error("unknown session")},
        }},
    }


def _schemas() -> dict[str, Any]:
    slots = {name: _SCALAR for name in sorted(SLOT_NAMES)}
    return {
        "Error": _ERROR,
        "Message": _MESSAGE,
        "Outcome": _OUTCOME,
        "NewSession": {"type": "object", "additionalProperties": False, "properties": {
            "context": {"type": ["object", "null"], "additionalProperties": False,
                        "properties": slots}}},
        "UserMessage": {"type": "object", "additionalProperties": False, "required": ["text"],
                        "properties": {"text": {"type": "string", "maxLength": 4000},
                                       "message_id": {"type": "string", "minLength": 1,
                                                      "maxLength": 128,
                                                      "pattern": "^[!-~]+$"}}},
        "Session": {"type": "object", "required": ["id", "messages", "outcome"],
                    "properties": {"id": {"type": "string"}, **_TURN_PROPS}},
        "Turn": {"type": "object", "required": ["messages", "outcome"], "properties": _TURN_PROPS},
    }


def openapi_document() -> dict[str, Any]:
    """The document: every route, its bodies and every status it answers with."""
    paths = {**_paths(), **probe_paths()}
    paths["/v1/sessions"]["get"] = session_list_operation()
    return {
        "openapi": "3.1.0",
        "info": {"title": "deskbot help-desk API", "version": "1"},
        "paths": paths,
        "components": {"schemas": _schemas()},
    }
