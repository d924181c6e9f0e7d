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

_NUMBER = {
    "type": "object",
    "required": ["number", "type"],
    "properties": {
        "number": {"type": "string"},
        "type": {"type": "string", "enum": ["PHONE_NUMBER", "TOLL_FREE", "SHORT_CODE"]},
        "selected": {"type": "boolean"},
        "available": {"type": "boolean"},
        "capabilities": {"type": "array", "items": {"type": "string", "enum": ["SMS", "VOICE"]}},
        "supportedCountries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
    },
}

_REQUEST = {
    "type": "object",
    "required": ["deliveryMethod", "url", "method"],
    "properties": {
        "deliveryMethod": {"type": "string", "enum": ["SMS", "VOICE"]},
        "url": {"type": "string", "format": "uri"},
        "method": {"type": "string", "enum": ["GET", "POST"]},
        "body": {"type": "string"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "phoneNumberFormat": {"type": "string", "enum": ["FULL", "NUMBER_ONLY"], "default": "FULL"},
        "beforeTag": {"type": "string"},
        "afterTag": {"type": "string"},
    },
}

_AUTHENTICATION = {
    "type": "object",
    "required": ["method"],
    "properties": {
        "method": {"type": "string", "enum": ["BASIC", "BEARER", "OAUTH2", "CUSTOM_HEADER"]},
        "username": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
        "authToken": {"type": "string", "writeOnly": True},
        "authUrl": {"type": "string", "format": "uri"},
        "clientId": {"type": "string"},
        "clientSecret": {"type": "string", "writeOnly": True},
        "headerName": {"type": "string"},
        "headerValue": {"type": "string", "writeOnly": True},
    },
}

_CHANNEL = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "selected": {"type": "boolean"},
        "available": {"type": "boolean"},
        "createdAt": {"type": "string", "format": "date-time"},
        "priority": {"type": "string"},
        "capabilities": {"type": "array", "items": {"type": "string", "enum": ["SMS", "VOICE"]}},
    },
}

# One schema for every provider: which fields apply depends on ``provider`` (see the README).
_FIELDS = {
    "provider": {"type": "string", "enum": list(ALL_PROVIDERS)},
    "name": {"type": "string", "minLength": 1, "maxLength": 256},
    "sid": {"type": "string", "description": "Twilio Account SID (AC + 32 hex)"},
    "authToken": {"type": "string", "writeOnly": True, "format": "password"},
    "verifyServiceId": {"type": "string", "pattern": "^VA[0-9a-fA-F]{32}$"},
    "messagingServices": {"type": "array", "items": _MESSAGING_SERVICE},
    "numbers": {"type": "array", "items": _NUMBER},
    "authentication": _AUTHENTICATION,
    "requests": {"type": "array", "items": _REQUEST},
    "channels": {"type": "array", "items": _CHANNEL},
    "deliveryConfigurationsExist": {"type": "boolean"},
    "smsTopicSubscription": {"type": "object"},
    "voiceTopicSubscription": {"type": "object"},
}

_CREATE = {
    "type": "object",
    "required": ["provider"],
    "properties": _FIELDS,
    "example": {
        "name": "Twilio Messaging Services sender",
        "sid": "AC00000000000000000000000000000000",
        "authToken": "your-twilio-auth-token",
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    },
}

_REPLACE = {
    "type": "object",
    "required": ["provider"],
    "properties": {**_FIELDS, "id": {"type": "string", "format": "uuid"}},
}

_SENDER = {
    "type": "object",
    "properties": {
        "_links": {"type": "object"},
        "id": {"type": "string", "format": "uuid"},
        "environment": {"type": "object", "properties": {"id": {"type": "string"}}},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
        **{k: v for k, v in _FIELDS.items() if k != "authToken"},
        "_embedded": {"type": "object", "description": "twilioVerifyTemplates with ?expand=twilioverifytemplates"},
    },
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_APPLICATION_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 256},
    "description": {"type": "string", "maxLength": 1024},
    "type": {"type": "string", "enum": ["WORKER"], "default": "WORKER"},
    "protocol": {"type": "string", "enum": ["OPENID_CONNECT"], "default": "OPENID_CONNECT"},
    "enabled": {"type": "boolean"},
    "tokenEndpointAuthMethod": {
        "type": "string",
        "enum": ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"],
        "default": "CLIENT_SECRET_BASIC",
    },
}

_ROLE_ASSIGNMENT = {
    "type": "object",
    "required": ["role", "scope"],
    "properties": {
        "role": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string", "enum": ["ORGANIZATION_ADMIN", "ENVIRONMENT_ADMIN"]}},
        },
        "scope": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "enum": ["ORGANIZATION", "ENVIRONMENT"]},
                "id": {"type": "string", "description": "The environment id (scope type ENVIRONMENT)"},
            },
        },
    },
    "example": {"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": "<envID>"}},
}

CREATE_BODY = _body(_CREATE)
REPLACE_BODY = _body(_REPLACE)
APPLICATION_BODY = _body({"type": "object", "required": ["name"], "properties": _APPLICATION_FIELDS})
APPLICATION_REPLACE_BODY = _body({"type": "object", "required": ["name", "enabled"], "properties": _APPLICATION_FIELDS})
ROLE_ASSIGNMENT_BODY = _body(_ROLE_ASSIGNMENT)
SENDER_RESPONSE: dict[str, Any] = {"content": {"application/json": {"schema": _SENDER}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    codes = statuses or (400, 401, 403, 404, 415, 502, 504)
    return {
        code: {"description": "PingOne error body", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }
