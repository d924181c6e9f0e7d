"""Syniverse Communication Gateway: sender ids (``CUSTOM_SYNIVERSE``) and channels
(``CUSTOM_SYNIVERSE_CHANNELS``). Bearer token auth; offset-paged ``{"list": [...], "total": N}``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable
from phone_delivery.domain.ports import AccountInventory, ChannelInfo, NumberInfo, OutboundMessage, SendResult
from phone_delivery.domain.routing import pick_number
from phone_delivery.providers.http_errors import exchange, json_or_raise

DISPLAY_NAME = "Syniverse"
API_PATH = "/scg-external-api/api/v1"
PAGE_LIMIT = 100
MAX_PAGES = 200
SENDER_TYPES = {
    "LONGCODE": "PHONE_NUMBER",
    "LONG_CODE": "PHONE_NUMBER",
    "TOLLFREE": "TOLL_FREE",
    "TOLL_FREE": "TOLL_FREE",
    "SHORTCODE": "SHORT_CODE",
    "SHORT_CODE": "SHORT_CODE",
}


# Syniverse errors meaning the recipient is unreachable (no retry, no failover).
RECIPIENT_ERRORS = frozenset({"SCG_ERROR_40024", "40024"})


class SyniverseClient:
    def __init__(self, http: httpx.AsyncClient, base: str, token: str) -> None:
        self._http = http
        self._base = base + API_PATH
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def send(self, sender: str, to: str, body: str) -> str:
        response = await exchange(
            DISPLAY_NAME,
            self._http.post(
                f"{self._base}/messaging/message_requests",
                headers=self._headers,
                json={"from": sender, "to": [to], "body": body},
            ),
        )
        try:
            created = json_or_raise(DISPLAY_NAME, response, "error_code", "error_description")
        except ProviderRejected as exc:
            if str(exc.provider_code) in RECIPIENT_ERRORS:
                exc.extra["kind"] = "recipient"
            raise
        return str(created.get("id") or "")

    async def walk(self, path: str, params: dict[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
        offset = 0
        for _ in range(MAX_PAGES):
            query = {**(params or {}), "offset": str(offset), "limit": str(PAGE_LIMIT)}
            response = await exchange(
                DISPLAY_NAME, self._http.get(f"{self._base}{path}", params=query, headers=self._headers)
            )
            body = json_or_raise(DISPLAY_NAME, response, "error_code", "error_description")
            items, total = body.get("list"), body.get("total")
            if not isinstance(items, list):
                raise ProviderUnavailable(DISPLAY_NAME, "Syniverse returned an unexpected list response.")
            for item in items:
                if isinstance(item, dict):
                    yield item
            offset += len(items)
            if not items or not isinstance(total, int) or offset >= total:
                return
        raise ProviderUnavailable(DISPLAY_NAME, f"Syniverse listed more than {MAX_PAGES} pages; giving up.")


def _capabilities(values: Any) -> tuple[str, ...]:
    present = {str(v).upper() for v in values} if isinstance(values, list) else set()
    return tuple(c for c in ("SMS", "VOICE") if c in present)


def _created(value: Any) -> str | None:
    return iso_ms(value) if isinstance(value, int) else None


class _SyniverseProvider:
    display_name = DISPLAY_NAME

    def __init__(self, http: httpx.AsyncClient, base: str, config: Mapping[str, Any], secrets: Mapping[str, str]):
        self._client = SyniverseClient(http, base, secrets["authToken"])
        self._config = config

    @staticmethod
    def _unable(message: str) -> ProviderRejected:
        return ProviderRejected(DISPLAY_NAME, message, extra={"kind": "sender"})


class SyniverseNumbersProvider(_SyniverseProvider):
    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        numbers = []
        async for sender in self._client.walk("/messaging/sender_ids", {"state": "ACTIVE"}):
            kind = SENDER_TYPES.get(str(sender.get("type_id", "")).upper())
            address = sender.get("address")
            if kind and isinstance(address, str) and str(sender.get("state", "ACTIVE")).upper() == "ACTIVE":
                numbers.append(NumberInfo(address, kind, _capabilities(sender.get("capabilities"))))
        return AccountInventory(numbers=numbers)

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.delivery_method != "SMS":
            raise self._unable("The Syniverse sender sends SMS only.")
        sender = pick_number(self._config.get("numbers") or [], "SMS", message.country)
        if sender is None:
            raise self._unable(f"No selected sender id can send SMS to {message.country or 'this'} recipients.")
        return SendResult(await self._client.send(sender, message.to, message.message), "ACCEPTED")


class SyniverseChannelsProvider(_SyniverseProvider):
    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        channels = [
            ChannelInfo(
                id=str(c["id"]),
                name=str(c.get("name") or ""),
                priority=str(c.get("priority") or "NORMAL"),
                capabilities=_capabilities(c.get("capabilities")),
                created_at=_created(c.get("created_date")),
            )
            async for c in self._client.walk("/messaging/channels")
            if c.get("id") is not None
        ]
        return AccountInventory(channels=channels)

    async def send(self, message: OutboundMessage) -> SendResult:
        channels = [
            c
            for c in self._config.get("channels") or []
            if c.get("selected") and message.delivery_method in (c.get("capabilities") or [])
        ]
        if not channels:
            raise self._unable(f"No selected Syniverse channel can send {message.delivery_method}.")
        return SendResult(
            await self._client.send(f"channel:{channels[0]['id']}", message.to, message.message), "ACCEPTED"
        )
