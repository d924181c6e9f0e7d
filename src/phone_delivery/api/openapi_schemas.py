"""Request and response schemas for /docs. Bodies are parsed by the domain, so they are declared here."""

from __future__ import annotations

from typing import Any

from phone_delivery.domain.sender_kinds import ALL_PROVIDERS

_ERROR = {
    "type": "object",
    "required": ["id", "code", "message"],
    "properties": {
        "id": {"type": "string"},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "target": {"type": "string"},
                    "message": {"type": "string"},
                    "innerError": {"type": "object"},
                },
            },
        },
    },
}

_MESSAGING_SERVICE = {
    "type": "object",
    "required": ["messagingServiceId"],
    "properties": {
        "messagingServiceId": {"type": "string", "pattern": "^MG[0-9a-fA-F]{32}$"},
        "name": {"type": "string"},
        "selected": {"type": "boolean"},
    },
}

_CREATE = {
    "type": "object",
    "required": ["provider"],
    "properties": {
        "provider": {"type": "string", "enum": list(ALL_PROVIDERS)},
        "name": {"type": "string", "minLength": 1, "maxLength": 256},
        "sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$", "description": "Twilio Account SID"},
        "authToken": {"type": "string", "writeOnly": True, "format": "password"},
    },
    "example": {
        "name": "Twilio Messaging Services sender",
        "sid": "AC00000000000000000000000000000000",
        "authToken": "your-twilio-auth-token",
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    },
}

_REPLACE = {
    **_CREATE,
    "properties": {
        **_CREATE["properties"],  # type: ignore[dict-item]
        "id": {"type": "string", "format": "uuid"},
        "messagingServices": {"type": "array", "items": _MESSAGING_SERVICE},
    },
}

_SENDER = {
    "type": "object",
    "properties": {
        "_links": {"type": "object"},
        "id": {"type": "string", "format": "uuid"},
        "environment": {"type": "object", "properties": {"id": {"type": "string"}}},
        "name": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
        "provider": {"type": "string", "enum": list(ALL_PROVIDERS)},
        "sid": {"type": "string"},
        "messagingServices": {"type": "array", "items": _MESSAGING_SERVICE},
    },
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


CREATE_BODY = _body(_CREATE)
REPLACE_BODY = _body(_REPLACE)
SENDER_RESPONSE: dict[str, Any] = {"content": {"application/json": {"schema": _SENDER}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    codes = statuses or (400, 401, 403, 404, 415, 502, 504)
    return {
        code: {"description": "PingOne error body", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }
