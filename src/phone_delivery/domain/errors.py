"""The error tree of the domain. ``api/errors.py`` turns each class into a PingOne error body.

Messages here are shown to API clients: they never contain a secret or a submitted value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Detail:
    """One entry of a PingOne error's ``details[]``."""

    code: str
    message: str
    target: str | None = None
    inner_error: dict[str, Any] | None = None


class DomainError(Exception):
    """Base of every error that reaches a client with a stable code."""

    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, details: list[Detail] | None = None) -> None:
        self.message = message or self.default_message
        self.details: list[Detail] = details or []
        super().__init__(self.message)


class InvalidData(DomainError):
    """A field-level validation failure (400 INVALID_DATA)."""

    default_message = "The request could not be completed. One or more validation errors were in the request."

    @classmethod
    def single(
        cls, code: str, target: str | None, message: str, inner_error: dict[str, Any] | None = None
    ) -> InvalidData:
        return cls(details=[Detail(code=code, target=target, message=message, inner_error=inner_error)])


class InvalidRequest(DomainError):
    """The request itself is malformed: not JSON, wrong shape (400 INVALID_REQUEST)."""

    default_message = "The request could not be completed. The request was malformed or invalid."


class UnsupportedMediaType(InvalidRequest):
    """415: the body is not JSON."""

    default_message = "The request could not be completed. The content type is not supported."


class PayloadTooLarge(InvalidRequest):
    """413: the body is over the configured limit."""

    default_message = "The request could not be completed. The request body is too large."


class MethodNotAllowed(InvalidRequest):
    """405 on a known path."""

    default_message = "The request could not be completed. The method is not allowed for this resource."


class RequestFailed(DomainError):
    """Understood but cannot be fulfilled, such as a reached limit (400 REQUEST_FAILED)."""

    default_message = "The request could not be completed."


class RequestLimited(DomainError):
    """A limit of the caller's own configuration is reached, such as a notification policy's quota
    (429 REQUEST_LIMITED); ``retry_after`` seconds until it frees up, sent as ``Retry-After``."""

    default_message = "The request was rate limited."

    def __init__(self, message: str | None = None, details: list[Detail] | None = None, retry_after: int = 1) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class NotFound(DomainError):
    """Unknown resource or environment (404 NOT_FOUND)."""

    default_message = "The requested resource was not found."


class Unauthenticated(DomainError):
    """Missing, expired, forged or wrong-audience token (401 ACCESS_FAILED)."""

    default_message = "Access token is missing, invalid or expired."


class Forbidden(DomainError):
    """Valid token, but no role that allows this (403 ACCESS_FAILED)."""

    default_message = "The access token does not grant a role that allows this request."


class ServiceUnavailable(DomainError):
    """phone-delivery cannot serve this now through no fault of the request: its database refuses
    writes, or a key it needs is not configured (503; the client may retry later)."""

    default_message = "The service cannot complete the request right now. Try again later."


class InvalidClient(DomainError):
    """OAuth token endpoint: client authentication failed (401 invalid_client)."""

    default_message = "Client authentication failed."


class UnsupportedGrantType(DomainError):
    """OAuth token endpoint: grant type other than client_credentials."""

    default_message = "Only the client_credentials grant is supported."


@dataclass
class ProviderFailure(Exception):
    """Base of errors raised by provider clients. ``provider`` is a display name (e.g. 'Twilio')."""

    provider: str
    message: str
    status: int | None = None
    provider_code: int | str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class ProviderRejected(ProviderFailure):
    """Permanent: the provider refused (bad credentials, unknown resource, invalid recipient)."""

    @property
    def is_authentication(self) -> bool:
        return self.status == 401 or self.provider_code in (20003, "20003")

    @property
    def is_not_found(self) -> bool:
        return self.status == 404 or self.provider_code in (20404, "20404")


class ProviderUnavailable(ProviderFailure):
    """Transient: timeout, connection error, 5xx or 429. ``timed_out`` tells a timeout apart."""

    @property
    def timed_out(self) -> bool:
        return bool(self.extra.get("timed_out"))
