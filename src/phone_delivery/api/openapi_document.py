"""The OpenAPI description at /openapi.json (and /docs): FastAPI's, completed with what every
operation shares, so that generated clients and schemathesis see what the API really does.

- ``securitySchemes``: a bearer JWT (what every management call takes) and OAuth 2 client
  credentials (how to get one); public operations say ``security: []``.
- Every operation has a PingOne-style ``operationId`` (PingOne's own where it has the operation),
  every request body a named schema (``EnvironmentCreate``) and the resources a named response
  schema (``Environment``, ``Error``), so that a generated client has readable names.
- The errors every operation can answer, with PingOne's error body: 400 where there are query or
  header parameters or a body (never FastAPI's 422: every validation error is a PingOne 400), 401
  and 403 where a token is needed, 413 and 415 where there is a JSON body, 503 where the database
  is used. Codes only some operations answer (404, 502, 504, a 400 of a refused delete) are
  declared by the operation itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from phone_delivery.api.openapi_schemas import NAMED_RESPONSES, error_response

PUBLIC = frozenset(
    {
        ("/{envID}/as/token", "post"),
        ("/{envID}/as/jwks", "get"),
        ("/{envID}/as/.well-known/openid-configuration", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
        ("/v1/roles", "get"),
    }
)
NO_DATABASE = frozenset({"/health/live", "/health/ready", "/metrics", "/v1/roles"})
_DESCRIPTIONS = {
    "400": "Invalid request or data (PingOne error body)",
    "401": "Missing, invalid or expired access token",
    "403": "The token's roles do not allow this",
    "404": "Not found",
    "413": "The body is larger than PHONE_DELIVERY_MAX_BODY_BYTES",
    "415": "The body is not JSON",
    "503": "The database cannot serve right now, or a key is missing (Retry-After)",
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /{envID}/as/token (ES256 JWT, 1 hour).",
    },
    "clientCredentials": {
        "type": "oauth2",
        "description": "A worker application's client id and secret; the token endpoint is "
        "/{envID}/as/token of the environment that holds the application.",
        "flows": {"clientCredentials": {"tokenUrl": "/{envID}/as/token", "scopes": {}}},
    },
}


# (path, method) -> operationId, and the name of its request body's schema.
OPERATIONS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("/{envID}/as/token", "post"): ("createToken", "TokenRequest"),
    ("/{envID}/as/jwks", "get"): ("readJwks", None),
    ("/{envID}/as/.well-known/openid-configuration", "get"): ("readOpenIdConfiguration", None),
    ("/v1/environments", "get"): ("readAllEnvironments", None),
    ("/v1/environments", "post"): ("createEnvironment", "EnvironmentCreate"),
    ("/v1/environments/{envID}", "get"): ("readOneEnvironment", None),
    ("/v1/environments/{envID}", "put"): ("updateEnvironment", "EnvironmentUpdate"),
    ("/v1/environments/{envID}", "delete"): ("deleteEnvironment", None),
    ("/v1/environments/{envID}/applications", "get"): ("readAllApplications", None),
    ("/v1/environments/{envID}/applications", "post"): ("createApplication", "ApplicationCreate"),
    ("/v1/environments/{envID}/applications/{appID}", "get"): ("readOneApplication", None),
    ("/v1/environments/{envID}/applications/{appID}", "put"): ("updateApplication", "ApplicationUpdate"),
    ("/v1/environments/{envID}/applications/{appID}", "delete"): ("deleteApplication", None),
    ("/v1/environments/{envID}/applications/{appID}/secret", "post"): ("updateApplicationSecret", None),
    ("/v1/environments/{envID}/applications/{appID}/roleAssignments", "get"): (
        "readApplicationRoleAssignments",
        None,
    ),
    ("/v1/environments/{envID}/applications/{appID}/roleAssignments", "post"): (
        "createApplicationRoleAssignment",
        "RoleAssignmentCreate",
    ),
    ("/v1/environments/{envID}/applications/{appID}/roleAssignments/{assignmentID}", "delete"): (
        "deleteApplicationRoleAssignment",
        None,
    ),
    ("/v1/roles", "get"): ("readAllRoles", None),
    ("/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings", "get"): (
        "readAllPhoneDeliverySettings",
        None,
    ),
    ("/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings", "post"): (
        "createPhoneDeliverySettings",
        "PhoneDeliverySettingsCreate",
    ),
    ("/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings/{phoneDeliverySettingsID}", "get"): (
        "readOnePhoneDeliverySettings",
        None,
    ),
    ("/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings/{phoneDeliverySettingsID}", "put"): (
        "updatePhoneDeliverySettings",
        "PhoneDeliverySettingsUpdate",
    ),
    ("/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings/{phoneDeliverySettingsID}", "delete"): (
        "deletePhoneDeliverySettings",
        None,
    ),
    ("/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings/{phoneDeliverySettingsID}/test", "post"): (
        "sendTestMessage",
        "TestMessage",
    ),
    ("/v1/environments/{envID}/notificationsSettings", "get"): ("readNotificationsSettings", None),
    ("/v1/environments/{envID}/notificationsSettings", "put"): (
        "updateNotificationsSettings",
        "NotificationsSettingsUpdate",
    ),
    ("/v1/environments/{envID}/notificationsSettings", "delete"): ("deleteNotificationsSettings", None),
    ("/v1/environments/{envID}/notificationsPolicies", "get"): ("readAllNotificationsPolicies", None),
    ("/v1/environments/{envID}/notificationsPolicies", "post"): (
        "createNotificationsPolicy",
        "NotificationsPolicyCreate",
    ),
    ("/v1/environments/{envID}/notificationsPolicies/{notificationsPolicyID}", "get"): (
        "readOneNotificationsPolicy",
        None,
    ),
    ("/v1/environments/{envID}/notificationsPolicies/{notificationsPolicyID}", "put"): (
        "updateNotificationsPolicy",
        "NotificationsPolicyUpdate",
    ),
    ("/v1/environments/{envID}/notificationsPolicies/{notificationsPolicyID}", "delete"): (
        "deleteNotificationsPolicy",
        None,
    ),
    ("/v1/environments/{envID}/notificationsPolicies/{notificationsPolicyID}/usage", "get"): (
        "readNotificationsPolicyUsage",
        None,
    ),
    ("/v1/environments/{envID}/notifications", "get"): ("readAllNotifications", None),
    ("/v1/environments/{envID}/notifications", "post"): ("createNotification", "NotificationCreate"),
    ("/v1/environments/{envID}/notifications/{notificationID}", "get"): ("readOneNotification", None),
    ("/v1/environments/{envID}/activities", "get"): ("readAllActivities", None),
    ("/health/live", "get"): ("readLiveness", None),
    ("/health/ready", "get"): ("readReadiness", None),
    ("/metrics", "get"): ("readMetrics", None),
}


def _named(node: Any, names: list[tuple[str, dict[str, Any]]]) -> Any:
    """``node`` with every schema equal to a named one replaced by a reference to it."""
    if isinstance(node, dict):
        for name, schema in names:
            if node == schema:
                return {"$ref": f"#/components/schemas/{name}"}
        return {key: _named(value, names) for key, value in node.items()}
    if isinstance(node, list):
        return [_named(item, names) for item in node]
    return node


def _name_schemas(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, which we never answer
        schemas.pop(unused, None)
    names = list(NAMED_RESPONSES.items())
    schemas.update(NAMED_RESPONSES)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            operation_id, body_name = OPERATIONS.get((path, method), (operation.get("operationId"), None))
            operation["operationId"] = operation_id
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                if body_name is not None and "$ref" not in media.get("schema", {}):
                    schemas[body_name] = media["schema"]
                    media["schema"] = {"$ref": f"#/components/schemas/{body_name}"}
            operation["responses"] = _named(operation.get("responses", {}), names)


def complete(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    document["security"] = [{"bearer": []}, {"clientCredentials": []}]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)
            needed: list[str] = []
            # Only query and header parameters and bodies can be invalid: a bad path id is a 404.
            if "requestBody" in operation or any(p.get("in") != "path" for p in operation.get("parameters", [])):
                needed.append("400")
            if "requestBody" in operation and "application/json" in operation["requestBody"].get("content", {}):
                needed += ["413", "415"]
            if (path, method) in PUBLIC:
                operation["security"] = []
            else:
                needed += ["401", "403"]
            if path not in NO_DATABASE:
                needed.append("503")
            for status in needed:
                responses.setdefault(status, error_response(_DESCRIPTIONS[status]))
    _name_schemas(document)
    return document


def install(app: FastAPI) -> None:
    """Serve the completed description (built once, on the first request for it)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_completed", False):
            complete(build())
            app.state.openapi_completed = True
        return build()

    app.openapi = openapi  # type: ignore[method-assign]
