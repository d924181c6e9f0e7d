"""The one error table: every domain error class -> HTTP status and PingOne ``code``.

Routes never build error JSON; they raise, and the handlers here render PingOne's body
``{id, code, message, details[{code, target, message, innerError}]}``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.errors import (
    Detail,
    DomainError,
    Forbidden,
    InvalidClient,
    InvalidData,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ProviderRejected,
    ProviderUnavailable,
    RequestFailed,
    RequestLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedGrantType,
    UnsupportedMediaType,
)
from phone_delivery.domain.validation import detail_of
from phone_delivery.store.crypto import KeyringError

log = structlog.get_logger(logger_name="phone_delivery.errors")

# Most specific class first.
ERROR_TABLE: list[tuple[type[DomainError], int, str]] = [
    (UnsupportedMediaType, 415, "INVALID_REQUEST"),
    (PayloadTooLarge, 413, "INVALID_REQUEST"),
    (MethodNotAllowed, 405, "INVALID_REQUEST"),
    (InvalidRequest, 400, "INVALID_REQUEST"),
    (InvalidData, 400, "INVALID_DATA"),
    (RequestFailed, 400, "REQUEST_FAILED"),
    (Unauthenticated, 401, "ACCESS_FAILED"),
    (Forbidden, 403, "ACCESS_FAILED"),
    (NotFound, 404, "NOT_FOUND"),
    (RequestLimited, 429, "REQUEST_LIMITED"),
    (ServiceUnavailable, 503, "REQUEST_FAILED"),
]

_DETAIL_FOR = {
    Unauthenticated: "INVALID_TOKEN",
    Forbidden: "INSUFFICIENT_PERMISSIONS",
    ServiceUnavailable: "SERVICE_UNAVAILABLE",
}
RETRY_AFTER_SECONDS = 5


def status_and_code(exc: DomainError) -> tuple[int, str]:
    for cls, status, code in ERROR_TABLE:
        if isinstance(exc, cls):
            return status, code
    return 400, "REQUEST_FAILED"


def error_body(code: str, message: str, details: list[Detail] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "code": code, "message": message}
    if details:
        body["details"] = [_detail_json(d) for d in details]
    return body


def _detail_json(detail: Detail) -> dict[str, Any]:
    out: dict[str, Any] = {"code": detail.code}
    if detail.target is not None:
        out["target"] = detail.target
    out["message"] = detail.message
    if detail.inner_error:
        out["innerError"] = detail.inner_error
    return out


def domain_error_response(exc: DomainError) -> Response:
    status, code = status_and_code(exc)
    details = exc.details
    detail_code = next((v for k, v in _DETAIL_FOR.items() if isinstance(exc, k)), None)
    if not details and detail_code:
        details = [Detail(detail_code, exc.message)]
    body = error_body(code, exc.message, details)
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    elif status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    elif isinstance(exc, RequestLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    log.log(
        logging.WARNING if status == 503 else logging.INFO,
        "request_error",
        error_id=body["id"],
        status=status,
        code=code,
    )
    return JsonResponse(body, status_code=status, headers=headers)


def missing_key_response(exc: KeyringError) -> Response:
    """A stored secret under a key this server does not have: the operator's to fix, not the client's."""
    log.error("secret_key_missing", error=str(exc))
    return domain_error_response(
        ServiceUnavailable(
            "A stored secret cannot be decrypted: the key it was encrypted with is not configured on this "
            "server. The operator must add it to the keys (see docs/security.md)."
        )
    )


def provider_rejected_response(exc: ProviderRejected) -> Response:
    return domain_error_response(
        RequestFailed(f"{exc.provider} refused the request.", [Detail("PROVIDER_ERROR", exc.message)])
    )


def provider_unavailable_response(exc: ProviderUnavailable) -> Response:
    """The provider could not be asked: 504 when it timed out, 502 otherwise, naming the provider."""
    status = 504 if exc.timed_out else 502
    message = (
        f"{exc.provider} did not answer in time; the request was not completed. Try again later."
        if exc.timed_out
        else f"{exc.provider} is unavailable; the request was not completed. Try again later."
    )
    detail = Detail(
        "PROVIDER_UNAVAILABLE",
        exc.message,
        None,
        {"provider": exc.provider, **({"providerCode": exc.provider_code} if exc.provider_code else {})},
    )
    body = error_body("REQUEST_FAILED", message, [detail])
    log.warning(
        "provider_unavailable",
        error_id=body["id"],
        provider=exc.provider,
        status=exc.status,
        provider_code=exc.provider_code,
        timed_out=exc.timed_out,
    )
    return JsonResponse(body, status_code=status)


def oauth_error_response(exc: InvalidClient | UnsupportedGrantType | InvalidRequest) -> Response:
    """The token endpoint speaks OAuth 2 (RFC 6749 section 5.2), as PingOne's does."""
    if isinstance(exc, InvalidClient):
        error, status = "invalid_client", 401
    elif isinstance(exc, UnsupportedGrantType):
        error, status = "unsupported_grant_type", 400
    else:
        error, status = "invalid_request", 400
    body = {"error": error, "error_description": exc.message, "id": str(uuid.uuid4())}
    headers = {"WWW-Authenticate": 'Basic realm="token"'} if status == 401 else None
    return JsonResponse(body, status_code=status, headers=headers)


def unexpected_error_response(exc: Exception) -> Response:
    """A bug: 500 with PingOne's body and an error id; the traceback goes to the log only."""
    body = error_body("UNEXPECTED_ERROR", "An unexpected error occurred. The error id is logged on the server.")
    log.error("unexpected_error", error_id=body["id"], exc_type=type(exc).__name__, exc_info=exc)
    return JsonResponse(body, status_code=500)


_HTTP_STATUS = {
    404: (NotFound, "The requested resource was not found."),
    405: (MethodNotAllowed, None),
    413: (PayloadTooLarge, None),
    415: (UnsupportedMediaType, None),
}


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (Starlette names only the first route's).
    ``app.state.api_routes`` is every API route, listed by ``create_app``."""
    methods: set[str] = set()
    for route in getattr(request.app.state, "api_routes", ()):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return domain_error_response(exc)

    async def on_provider_unavailable(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProviderUnavailable)
        return provider_unavailable_response(exc)

    async def on_provider_rejected(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProviderRejected)
        return provider_rejected_response(exc)

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [detail_of({**e, "loc": tuple(e.get("loc", ()))[1:] or e.get("loc", ())}) for e in exc.errors()]
        return domain_error_response(InvalidData(details=details))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        cls, message = _HTTP_STATUS.get(exc.status_code, (InvalidRequest, None))
        response = domain_error_response(cls(message))
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    async def on_missing_key(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, KeyringError)
        return missing_key_response(exc)

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        return unexpected_error_response(exc)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(ProviderUnavailable, on_provider_unavailable)
    app.add_exception_handler(ProviderRejected, on_provider_rejected)
    app.add_exception_handler(KeyringError, on_missing_key)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
