"""PingOne-style authorization server: ``/{envID}/as/token``, JWKS and OpenID discovery."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone_delivery.api.deps import is_uuid, require_environment, services
from phone_delivery.api.errors import oauth_error_response
from phone_delivery.api.links import issuer
from phone_delivery.api.openapi_schemas import DISCOVERY, JWKS, OAUTH_ERROR, TOKEN, TOKEN_FORM, error_responses, ok
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.errors import InvalidClient, InvalidRequest, NotFound, UnsupportedGrantType
from phone_delivery.security.client_secrets import client_secret_matches
from phone_delivery.store.environments_repo import read_credentials

router = APIRouter(tags=["Authorization"])
_MAX_FORM = 8192


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("The Basic authorization header is malformed.") from None
    if not sep:
        raise InvalidClient("The Basic authorization header is malformed.")
    return user, password


async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise InvalidRequest("The token request must be application/x-www-form-urlencoded.")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_FORM:
            raise InvalidRequest("The token request is too large.")
    try:
        parsed = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("The token request body is not a valid form.") from None
    return {k: v[0] for k, v in parsed.items()}


@router.post(
    "/{envID}/as/token",
    summary="OAuth 2 token (client_credentials)",
    openapi_extra=TOKEN_FORM,
    responses={
        200: ok(TOKEN),
        400: ok(OAUTH_ERROR, "OAuth 2 error: invalid_request, unsupported_grant_type"),
        401: ok(OAUTH_ERROR, "OAuth 2 error: invalid_client"),
    },
)
async def token(request: Request, envID: str) -> Response:
    """Served by ``token_response`` in front of FastAPI; this declaration documents it in /docs."""
    return await token_response(request)


async def token_response(request: Request) -> Response:
    """The token endpoint, a hot route (``api/fast_path.py``): no dependency injection, one read."""
    env_id = request.path_params["envID"]
    try:
        form = await _form(request)
        grant = form.get("grant_type")
        if not grant:
            raise InvalidRequest("grant_type is required.")
        if grant != "client_credentials":
            raise UnsupportedGrantType()
        basic = _basic_credentials(request.headers.get("authorization"))
        client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        if not client_id or not secret:
            raise InvalidClient("Client credentials are required (HTTP Basic or client_id/client_secret).")
        svc = services(request)
        found = None
        if is_uuid(env_id) and is_uuid(client_id):
            found = await read_credentials(svc.database, env_id, client_id)
        if found is None or not client_secret_matches(secret, found[1]) or not found[0].enabled:
            raise InvalidClient("Client authentication failed: unknown client, wrong secret or disabled application.")
    except (InvalidClient, UnsupportedGrantType, InvalidRequest) as exc:
        return oauth_error_response(exc)
    access_token = svc.tokens.issue(client_id, env_id, issuer(request, env_id))
    return JsonResponse(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": svc.tokens.lifetime},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def hot_routes() -> list[Route]:
    return [Route("/{envID}/as/token", token_response, methods=["POST"])]


async def _require_environment(request: Request, env_id: str) -> None:
    if not is_uuid(env_id):
        raise NotFound("The environment was not found.")
    async with services(request).database.read() as conn:
        await require_environment(conn, env_id)


@router.get("/{envID}/as/jwks", summary="Token signing keys (JWKS)", responses={200: ok(JWKS), **error_responses(404)})
async def jwks(request: Request, envID: str) -> Response:
    await _require_environment(request, envID)
    return JsonResponse(services(request).tokens.jwks)


@router.get(
    "/{envID}/as/.well-known/openid-configuration",
    summary="OpenID Provider metadata",
    responses={200: ok(DISCOVERY), **error_responses(404)},
)
async def discovery(request: Request, envID: str) -> Response:
    await _require_environment(request, envID)
    iss = issuer(request, envID)
    return JsonResponse(
        {
            "issuer": iss,
            "token_endpoint": f"{iss}/token",
            "jwks_uri": f"{iss}/jwks",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
        }
    )
