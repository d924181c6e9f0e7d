"""A thin async client for the few Twilio REST endpoints we use (wire format in docs/twilio.md).

Twilio's SDK is synchronous by default, 50 MB of generated code, and its async client needs
aiohttp; these endpoints are a handful of Basic-auth GETs and form POSTs, so httpx does it directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable
from phone_delivery.providers.http_errors import exchange, json_or_raise

DISPLAY_NAME = "Twilio"
# Twilio errors that mean this recipient cannot be reached at all: no retry, no failover.
RECIPIENT_ERRORS = frozenset({21211, 21214, 21217, 21401, 21421, 21610, 21614, 60205})
PAGE_SIZE = 100
MAX_PAGES = 1000


@dataclass(frozen=True)
class TwilioBases:
    """Base URLs of Twilio's three API hosts (real hosts in production, the sandbox in tests)."""

    api: str
    messaging: str
    verify: str


class TwilioRestClient:
    """Calls Twilio as one account. Never puts the auth token in an error or log."""

    def __init__(self, http: httpx.AsyncClient, bases: TwilioBases, *, account_sid: str, auth_token: str) -> None:
        self._http = http
        self._bases = bases
        self._account_sid = account_sid
        self._auth = httpx.BasicAuth(account_sid, auth_token)

    async def list_messaging_services(self) -> list[dict[str, Any]]:
        return [item async for item in self._walk_v1(self._bases.messaging, "/v1/Services", "services")]

    async def list_incoming_numbers(self) -> list[dict[str, Any]]:
        path = f"/2010-04-01/Accounts/{self._account_sid}/IncomingPhoneNumbers.json"
        return [item async for item in self._walk_2010(path, "incoming_phone_numbers")]

    async def list_short_codes(self) -> list[dict[str, Any]]:
        path = f"/2010-04-01/Accounts/{self._account_sid}/SMS/ShortCodes.json"
        return [item async for item in self._walk_2010(path, "short_codes")]

    async def fetch_verify_service(self, service_sid: str) -> dict[str, Any]:
        return await self._get(f"{self._bases.verify}/v2/Services/{service_sid}")

    async def list_verify_templates(self) -> list[dict[str, Any]]:
        return [item async for item in self._walk_v1(self._bases.verify, "/v2/Templates", "templates")]

    async def create_message(self, form: dict[str, str]) -> dict[str, Any]:
        return await self._post(f"{self._bases.api}/2010-04-01/Accounts/{self._account_sid}/Messages.json", form)

    async def create_call(self, form: dict[str, str]) -> dict[str, Any]:
        return await self._post(f"{self._bases.api}/2010-04-01/Accounts/{self._account_sid}/Calls.json", form)

    async def create_verification(self, service_sid: str, form: dict[str, str]) -> dict[str, Any]:
        return await self._post(f"{self._bases.verify}/v2/Services/{service_sid}/Verifications", form)

    async def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        response = await exchange(
            DISPLAY_NAME, self._http.post(url, data=form, auth=self._auth, headers={"Accept": "application/json"})
        )
        try:
            return json_or_raise(DISPLAY_NAME, response, "code", "message")
        except ProviderRejected as exc:
            if exc.provider_code in RECIPIENT_ERRORS:
                exc.extra["kind"] = "recipient"
            raise

    async def _walk_2010(self, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
        """The 2010 API's paging: the list at top level, ``next_page_uri`` relative to the API host."""
        url: str | None = f"{self._bases.api}{path}?PageSize={PAGE_SIZE}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            payload = await self._get(url)
            items = payload.get(key)
            if not isinstance(items, list):
                raise ProviderUnavailable(DISPLAY_NAME, "Twilio returned an unexpected list response.")
            for item in items:
                if isinstance(item, dict):
                    yield item
            next_uri = payload.get("next_page_uri")
            url = f"{self._bases.api}{next_uri}" if isinstance(next_uri, str) and next_uri.startswith("/") else None
        raise ProviderUnavailable(DISPLAY_NAME, f"Twilio listed more than {MAX_PAGES} pages; giving up.")

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
        response = await exchange(
            DISPLAY_NAME, self._http.get(url, auth=self._auth, headers={"Accept": "application/json"})
        )
        return json_or_raise(DISPLAY_NAME, response, "code", "message")


def _rebase(base: str, url: str) -> str:
    parts = urlsplit(url)
    base_path = urlsplit(base).path.rstrip("/")
    path = parts.path
    # A stand-in mounted under a prefix returns next URLs that already include it.
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path) :]
    return f"{base}{path}" + (f"?{parts.query}" if parts.query else "")
