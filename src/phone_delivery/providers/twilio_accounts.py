"""The three Twilio providers: numbers (``CUSTOM_TWILIO``), Messaging Service, Verify."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import phonenumbers

from phone_delivery.domain.errors import ProviderRejected
from phone_delivery.domain.ports import (
    EXPAND_VERIFY_TEMPLATES,
    AccountInventory,
    MessagingServiceInfo,
    NumberInfo,
    VerifyTemplateInfo,
)
from phone_delivery.providers.twilio_rest import DISPLAY_NAME, TwilioBases, TwilioRestClient


def number_type(e164: str) -> str:
    """TOLL_FREE when the numbering plan says so, else PHONE_NUMBER."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "PHONE_NUMBER"
    kind = phonenumbers.number_type(parsed)
    return "TOLL_FREE" if kind == phonenumbers.PhoneNumberType.TOLL_FREE else "PHONE_NUMBER"


def capabilities(flags: Any) -> tuple[str, ...]:
    flags = flags if isinstance(flags, dict) else {}
    return tuple(name for name, key in (("SMS", "sms"), ("VOICE", "voice")) if flags.get(key) is True)


class _TwilioProvider:
    display_name = DISPLAY_NAME

    def __init__(
        self, http: httpx.AsyncClient, bases: TwilioBases, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> None:
        self._client = TwilioRestClient(http, bases, account_sid=str(config["sid"]), auth_token=secrets["authToken"])
        self._config = config


class TwilioNumbersProvider(_TwilioProvider):
    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        numbers = [
            NumberInfo(str(n["phone_number"]), number_type(str(n["phone_number"])), capabilities(n.get("capabilities")))
            for n in await self._client.list_incoming_numbers()
            if isinstance(n.get("phone_number"), str)
        ]
        numbers += [
            NumberInfo(str(c["short_code"]), "SHORT_CODE", ("SMS",))
            for c in await self._client.list_short_codes()
            if isinstance(c.get("short_code"), str)
        ]
        return AccountInventory(numbers=numbers)


class TwilioMessagingServiceProvider(_TwilioProvider):
    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        services = await self._client.list_messaging_services()
        return AccountInventory(
            messaging_services=[
                MessagingServiceInfo(sid=str(s["sid"]), name=str(s.get("friendly_name") or ""))
                for s in services
                if isinstance(s.get("sid"), str)
            ]
        )


class TwilioVerifyProvider(_TwilioProvider):
    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        service_sid = str(self._config["verifyServiceId"])
        try:
            service = await self._client.fetch_verify_service(service_sid)
        except ProviderRejected as exc:
            if exc.is_not_found:
                exc.extra["target"] = "verifyServiceId"
                exc.message = "The Verify Service does not exist in the Twilio account (Twilio error 20404)."
            raise
        templates = None
        if EXPAND_VERIFY_TEMPLATES in expand:
            templates = [
                VerifyTemplateInfo(
                    sid=str(t["sid"]),
                    name=str(t.get("friendly_name") or ""),
                    channels=tuple(str(c).upper() for c in t.get("channels") or []),
                )
                for t in await self._client.list_verify_templates()
                if isinstance(t.get("sid"), str)
            ]
        return AccountInventory(verify_service_name=str(service.get("friendly_name") or ""), verify_templates=templates)
