"""Turning an HTTP exchange with a provider into our error tree (one place for every vendor)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx

from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable
from phone_delivery.providers.aiohttp_transport import BlockedDestination


async def exchange(provider: str, request: Awaitable[httpx.Response]) -> httpx.Response:
    """Await the request; timeouts and connection failures become ``ProviderUnavailable``, a host that
    does not exist or may not be called a ``ProviderRejected`` of the sender (trying again will not help)."""
    try:
        return await request
    except BlockedDestination as exc:
        raise ProviderRejected(provider, exc.reason, extra={"kind": "sender"}) from exc
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(provider, f"{provider} did not answer in time.", extra={"timed_out": True}) from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(provider, f"{provider} could not be reached ({type(exc).__name__}).") from exc


def json_or_raise(provider: str, response: httpx.Response, code_key: str, message_key: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; otherwise Rejected (4xx) or Unavailable (429, 5xx, garbage)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's parser goes
        body = None
    if 200 <= response.status_code < 300:
        if not isinstance(body, dict):
            raise ProviderUnavailable(provider, f"{provider} returned a response that is not a JSON object.")
        return body
    code = body.get(code_key) if isinstance(body, dict) else None
    message = body.get(message_key) if isinstance(body, dict) else None
    text = f"{provider} error {code}: {message}" if code else f"{provider} answered HTTP {response.status_code}."
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailable(
            provider,
            text,
            status=response.status_code,
            provider_code=code,
            extra={"retry_after": response.headers.get("Retry-After")},
        )
    raise ProviderRejected(provider, text, status=response.status_code, provider_code=code)
