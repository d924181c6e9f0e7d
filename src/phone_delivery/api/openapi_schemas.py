"""Request and response schemas for /docs and /openapi.json.

Bodies are parsed by hand (the domain's pydantic models, PingOne's error codes), so FastAPI cannot
see them: a body with a pydantic model is described from that model (``body_of``), the sender body
(one schema for six providers) and every response by hand here. ``api/openapi_document.py`` adds
what every operation shares (security, 400/401/403/413/415/503).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from phone_delivery.domain.notifications import ATTEMPT_OUTCOMES, STATUSES
from phone_delivery.domain.sender_kinds import ALL_PROVIDERS

ERROR_SCHEMA = {
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

SENDER = {
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


def _body(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {k: _inline(v, definitions) for k, v in node.items() if k not in ("$defs", "title")}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def schema_of(model: type[BaseModel], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON schema of a request model, nested definitions inlined; ``optional`` fields are not
    required even if the model requires them (a route fills them in)."""
    raw = model.model_json_schema(by_alias=True)
    schema: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    if optional and "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in optional]
    return schema


def body_of(model: type[BaseModel], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """``openapi_extra`` declaring a JSON request body described by ``model``."""
    return _body(schema_of(model, optional=optional))


def ok(schema: dict[str, Any], description: str = "OK", media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


CREATE_BODY = _body(_CREATE)
REPLACE_BODY = _body(_REPLACE)
SENDER_RESPONSE: dict[str, Any] = ok(SENDER)


def error_response(description: str = "PingOne error body") -> dict[str, Any]:
    return ok(ERROR_SCHEMA, description)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    codes = statuses or (400, 401, 403, 404, 415, 502, 504)
    return {code: error_response() for code in codes}


# ---- Responses -------------------------------------------------------------------------------

_STRING = {"type": "string"}
_ID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_LINKS = {"type": "object", "additionalProperties": {"type": "object", "properties": {"href": _STRING}}}
_ENV_REF = {"type": "object", "required": ["id"], "properties": {"id": _STRING}}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _collection(key: str, item: dict[str, Any]) -> dict[str, Any]:
    embedded = _obj([key], **{key: {"type": "array", "items": item}})
    return _obj(["_embedded"], _links=_LINKS, _embedded=embedded, count={"type": "integer"}, size={"type": "integer"})


ENVIRONMENT = _obj(
    ["id", "name", "type", "region", "createdAt", "updatedAt"],
    _links=_LINKS,
    id=_ID,
    name=_STRING,
    description=_STRING,
    type={"type": "string", "enum": ["SANDBOX", "PRODUCTION"]},
    region=_STRING,
    createdAt=_TIME,
    updatedAt=_TIME,
)
APPLICATION = _obj(
    ["id", "environment", "name", "type", "protocol", "enabled", "tokenEndpointAuthMethod", "createdAt"],
    _links=_LINKS,
    id=_ID,
    environment=_ENV_REF,
    name=_STRING,
    description=_STRING,
    type={"type": "string", "enum": ["WORKER"]},
    protocol={"type": "string", "enum": ["OPENID_CONNECT"]},
    enabled={"type": "boolean"},
    tokenEndpointAuthMethod={"type": "string", "enum": ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"]},
    grantTypes={"type": "array", "items": _STRING},
    clientSecret={"type": "string", "description": "Only in the create response: the secret, shown once."},
    createdAt=_TIME,
    updatedAt=_TIME,
)
ROLE_ASSIGNMENT = _obj(
    ["id", "role", "scope", "createdAt"],
    _links=_LINKS,
    id=_ID,
    role=_obj(["id"], id={"type": "string", "enum": ["ORGANIZATION_ADMIN", "ENVIRONMENT_ADMIN"]}),
    scope=_obj(["type"], type={"type": "string", "enum": ["ORGANIZATION", "ENVIRONMENT"]}, id=_STRING),
    createdAt=_TIME,
)
SECRET = _obj(["secret"], secret=_STRING, previousSecretExpiresAt={"type": ["string", "null"]})
ROLE_NAMES = _obj(["_embedded"], _embedded=_obj(["roles"], roles={"type": "array", "items": _obj(["id"], id=_STRING)}))
NOTIFICATION_SETTINGS = _obj(
    ["environment", "deliveryMode", "smsProvidersFallbackChain", "whitelist"],
    _links=_LINKS,
    id=_ID,
    environment=_ENV_REF,
    deliveryMode={"type": "string", "enum": ["ALL", "WHITELIST"]},
    smsProvidersFallbackChain={"type": "array", "items": _STRING},
    whitelist={"type": "array", "items": {"type": "object"}},
    updatedAt=_TIME,
)
_ATTEMPT = _obj(
    ["id", "sender", "outcome", "startedAt"],
    id=_ID,
    sender=_obj(["id"], id=_STRING, name=_STRING),
    provider=_STRING,
    outcome={"type": "string", "enum": list(ATTEMPT_OUTCOMES)},
    providerMessageId=_STRING,
    errorCode=_STRING,
    errorMessage=_STRING,
    startedAt=_TIME,
    finishedAt=_TIME,
)
NOTIFICATION = _obj(
    ["id", "environment", "deliveryMethod", "to", "status", "createdAt", "updatedAt"],
    _links=_LINKS,
    id=_ID,
    environment=_ENV_REF,
    deliveryMethod={"type": "string", "enum": ["SMS", "VOICE"]},
    to=_STRING,
    status={"type": "string", "enum": list(STATUSES)},
    locale=_STRING,
    user=_obj(["id"], id=_STRING),
    sender=_obj(["id"], id=_STRING, provider=_STRING),
    providerMessageId=_STRING,
    error=_obj([], code={"type": ["string", "null"]}, message={"type": ["string", "null"]}),
    createdAt=_TIME,
    updatedAt=_TIME,
    attempts={"type": "array", "items": _ATTEMPT},
)
ACTIVITY = _obj(
    ["id", "recordedAt", "action", "resources", "result"],
    _links=_LINKS,
    id=_ID,
    recordedAt=_TIME,
    createdAt=_TIME,
    actors={"type": "object"},
    action=_obj(["type"], type=_STRING, description=_STRING),
    resources={"type": "array", "items": _obj(["type", "id"], type=_STRING, id=_STRING)},
    result=_obj(["status"], status=_STRING, description=_STRING),
)
_METHODS = {"type": "array", "items": _STRING}
_COUNTRIES = {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}}
_COOLDOWN = _obj(
    ["enabled"],
    enabled={"type": "boolean"},
    periods={
        "type": "array",
        "items": _obj(["duration", "timeUnit"], duration={"type": "integer"}, timeUnit=_STRING),
    },
    groupBy=_STRING,
    resendLimit={"type": "integer"},
)
NOTIFICATION_POLICY = _obj(
    ["id", "environment", "name", "default", "quotas", "createdAt", "updatedAt"],
    _links=_LINKS,
    id=_ID,
    environment=_ENV_REF,
    name=_STRING,
    default={"type": "boolean"},
    quotas={
        "type": "array",
        "items": _obj(
            ["type", "deliveryMethods"],
            type={"type": "string", "enum": ["USER", "ENVIRONMENT"]},
            deliveryMethods=_METHODS,
            total={"type": "integer"},
            claimed={"type": "integer"},
            unclaimed={"type": "integer"},
        ),
    },
    countryLimit=_obj(
        ["type", "countries"],
        type={"type": "string", "enum": ["NONE", "ALLOWED", "DENIED"]},
        deliveryMethods=_METHODS,
        countries=_COUNTRIES,
    ),
    providerConfiguration=_obj(
        ["conditions"],
        conditions={
            "type": "array",
            "items": _obj(
                ["fallbackChain"],
                deliveryMethods=_METHODS,
                countries=_COUNTRIES,
                fallbackChain={"type": "array", "items": _obj(["id"], id=_STRING)},
            ),
        },
    ),
    cooldownConfiguration=_obj(
        ["sms", "voice", "email", "whatsApp"], sms=_COOLDOWN, voice=_COOLDOWN, email=_COOLDOWN, whatsApp=_COOLDOWN
    ),
    fraudProtection={
        "type": "object",
        "description": "phone-delivery's own SMS-pumping defences (docs/policies.md)",
        "properties": {
            "numberTypes": _obj(["enabled"], enabled={"type": "boolean"}, refused=_METHODS),
            "prefixVelocity": _obj(
                ["enabled"],
                enabled={"type": "boolean"},
                prefixLength={"type": "integer"},
                distinctNumbers={"type": "integer"},
                windowSeconds={"type": "integer"},
                blockSeconds={"type": "integer"},
            ),
            "numberHourlyCap": _obj(["enabled"], enabled={"type": "boolean"}, limit={"type": "integer"}),
        },
    },
    createdAt=_TIME,
    updatedAt=_TIME,
)
_WINDOW = _obj(["start", "end"], start=_TIME, end=_TIME)
_SUBJECT_USE = _obj(
    ["used", "remaining"],
    user=_obj(["id"], id=_STRING),
    to=_STRING,
    used={"type": "integer"},
    remaining={"type": "integer"},
)
NOTIFICATION_POLICY_USAGE = _obj(
    ["notificationsPolicy", "at", "quotas", "blocks", "blockCount"],
    _links=_LINKS,
    notificationsPolicy=_obj(["id", "name"], id=_ID, name=_STRING),
    at=_TIME,
    quotas={
        "type": "array",
        "items": _obj(
            ["index", "type", "deliveryMethods", "limit", "counted", "window"],
            index={"type": "integer"},
            type={"type": "string", "enum": ["USER", "ENVIRONMENT"]},
            deliveryMethods=_METHODS,
            limit={"type": "integer"},
            counted={"type": "boolean", "description": "false for Email quotas: stored, not enforced"},
            window=_WINDOW,
            used={"type": "integer"},
            remaining={"type": "integer"},
            subjects={"type": "integer", "description": "USER: users (or numbers) with use in the window"},
            subjectsAtLimit={"type": "integer"},
            top={"type": "array", "items": _SUBJECT_USE},
            subject=_SUBJECT_USE,
        ),
    },
    numberHourlyCap=_obj(
        ["to", "limit", "used", "remaining", "window"],
        to=_STRING,
        limit={"type": "integer"},
        used={"type": "integer"},
        remaining={"type": "integer"},
        window=_WINDOW,
    ),
    blocks={
        "type": "array",
        "items": _obj(
            ["rule", "until"],
            rule={"type": "string", "enum": ["RESEND_LIMIT", "PREFIX_VELOCITY"]},
            deliveryMethod={"type": "string", "enum": ["SMS", "VOICE"]},
            user=_obj(["id"], id=_STRING),
            to=_STRING,
            prefix=_STRING,
            until=_TIME,
        ),
    },
    blockCount={"type": "integer"},
)
TEST_RESULT = _obj(
    ["status", "provider"],
    status={"type": "string", "enum": ["SENT", "FAILED"]},
    provider=_STRING,
    providerMessageId={"type": ["string", "null"]},
    providerResponse=_STRING,
    error=_obj(["code", "message"], code=_STRING, message=_STRING),
)
TOKEN = _obj(
    ["access_token", "token_type", "expires_in"],
    access_token=_STRING,
    token_type={"type": "string", "enum": ["Bearer"]},
    expires_in={"type": "integer"},
)
OAUTH_ERROR = _obj(["error"], error=_STRING, error_description=_STRING, id=_STRING)
JWKS = _obj(["keys"], keys={"type": "array", "items": _obj(["kty", "kid"], kty=_STRING, kid=_STRING)})
DISCOVERY = _obj(["issuer", "token_endpoint", "jwks_uri"], issuer=_STRING, token_endpoint=_STRING, jwks_uri=_STRING)
HEALTH = _obj(["status"], status={"type": "string", "enum": ["UP", "DOWN"]}, database=_STRING, writes=_STRING)
TOKEN_FORM = _body(
    _obj(
        ["grant_type"],
        grant_type={"type": "string", "enum": ["client_credentials"]},
        client_id={"type": "string", "description": "With client_secret, instead of HTTP Basic"},
        client_secret={"type": "string", "format": "password"},
    ),
    media="application/x-www-form-urlencoded",
)


def collection(key: str, item: dict[str, Any]) -> dict[str, Any]:
    """A HAL collection response: ``_embedded.{key}[]``."""
    return ok(_collection(key, item))


# Response schemas with a name of their own in components/schemas: generated clients get one model
# per resource (``Environment``), not one per operation and status.
NAMED_RESPONSES: dict[str, dict[str, Any]] = {
    "Error": ERROR_SCHEMA,
    "Environment": ENVIRONMENT,
    "Application": APPLICATION,
    "RoleAssignment": ROLE_ASSIGNMENT,
    "ApplicationSecret": SECRET,
    "NotificationsSettings": NOTIFICATION_SETTINGS,
    "NotificationsPolicy": NOTIFICATION_POLICY,
    "NotificationsPolicyUsage": NOTIFICATION_POLICY_USAGE,
    "Notification": NOTIFICATION,
    "Activity": ACTIVITY,
    "TestMessageResult": TEST_RESULT,
    "PhoneDeliverySettings": SENDER,
    "Token": TOKEN,
    "OAuthError": OAUTH_ERROR,
    "Jwks": JWKS,
    "OpenIdConfiguration": DISCOVERY,
    "Health": HEALTH,
}
