"""A thin async client for the few Twilio REST endpoints we use (wire format in docs/twilio.md).

Twilio's SDK is synchronous by default, 50 MB of generated code, and its async client needs
aiohttp; these endpoints are a handful of Basic-auth GETs and form POSTs, so httpx does it directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable

DISPLAY_NAME = "Twilio"
PAGE_SIZE = 100
MAX_PAGES = 1000


class TwilioRestClient:
    """Calls Twilio as one account. Never puts the auth token in an error or log."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_base: str, messaging_base: str, account_sid: str, auth_token: str
    ) -> None:
        self._http = http
        self._api_base = api_base
        self._messaging_base = messaging_base
        self._account_sid = account_sid
        self._auth = httpx.BasicAuth(account_sid, auth_token)

    async def list_messaging_services(self) -> list[dict[str, Any]]:
        return [item async for item in self._walk_v1(self._messaging_base, "/v1/Services", "services")]

    async def _walk_v1(self, base: str, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
        """Follow ``meta.next_page_url`` over every page, always against our configured base."""
        url: str | None = f"{base}{path}?PageSize={PAGE_SIZE}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            payload = await self._get(url)
            items = payload.get(key)
            meta = payload.get("meta")
            if not isinstance(items, list) or not isinstance(meta, dict):
                raise ProviderUnavailable(DISPLAY_NAME, "Twilio returned an unexpected list response.")
            for item in items:
                if isinstance(item, dict):
                    yield item
            next_url = meta.get("next_page_url")
            url = _rebase(base, next_url) if isinstance(next_url, str) and next_url else None
        raise ProviderUnavailable(DISPLAY_NAME, f"Twilio listed more than {MAX_PAGES} pages; giving up.")

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, auth=self._auth, headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(
                DISPLAY_NAME, "Twilio did not answer in time.", extra={"timed_out": True}
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(DISPLAY_NAME, f"Twilio could not be reached ({type(exc).__name__}).") from exc
        return _decode(response)


def _rebase(base: str, url: str) -> str:
    parts = urlsplit(url)
    base_path = urlsplit(base).path.rstrip("/")
    path = parts.path
    # A stand-in mounted under a prefix returns next URLs that already include it.
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path) :]
    return f"{base}{path}" + (f"?{parts.query}" if parts.query else "")


def _decode(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= response.status_code < 300:
        if not isinstance(body, dict):
            raise ProviderUnavailable(DISPLAY_NAME, "Twilio returned a response that is not JSON.")
        return body
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    text = f"Twilio error {code}: {message}" if code else f"Twilio answered HTTP {response.status_code}."
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailable(
            DISPLAY_NAME,
            text,
            status=response.status_code,
            provider_code=code,
            extra={"retry_after": response.headers.get("Retry-After")},
        )
    raise ProviderRejected(DISPLAY_NAME, text, status=response.status_code, provider_code=code)
