"""The OpenAPI description at /openapi.json (and /docs): FastAPI's, completed with what every
operation shares, so that generated clients and schemathesis see what the API really does.

- ``securitySchemes``: a bearer JWT (what every management call takes) and OAuth 2 client
  credentials (how to get one); public operations say ``security: []``.
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

from phone_delivery.api.openapi_schemas import error_response

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
