"""The three Twilio providers: numbers (``CUSTOM_TWILIO``), Messaging Service, Verify."""

from __future__ import annotations

import html
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
    OutboundMessage,
    SendResult,
    VerifyTemplateInfo,
)
from phone_delivery.domain.routing import pick_number
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


def sender_failure(message: str) -> ProviderRejected:
    """This sender cannot send this message (nothing selected, no capability): try the next one."""
    return ProviderRejected(DISPLAY_NAME, message, extra={"kind": "sender"})


def twiml_say(message: str, locale: str | None) -> str:
    language = (locale or "en-US").replace("_", "-")
    text = html.escape(message, quote=True)
    return f'<Response><Say language="{html.escape(language, quote=True)}">{text}</Say></Response>'


class _TwilioProvider:
    display_name = DISPLAY_NAME

    def __init__(
        self, http: httpx.AsyncClient, bases: TwilioBases, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> None:
        self._client = TwilioRestClient(http, bases, account_sid=str(config["sid"]), auth_token=secrets["authToken"])
        self._config = config

    async def _sms(self, message: OutboundMessage, sender: dict[str, str]) -> SendResult:
        form = {"To": message.to, "Body": message.message, **sender}
        if message.status_callback:
            form["StatusCallback"] = message.status_callback
        created = await self._client.create_message(form)
        return SendResult(str(created.get("sid") or ""), str(created.get("status") or ""))

    async def _call(self, message: OutboundMessage, from_number: str) -> SendResult:
        form = {"To": message.to, "From": from_number, "Twiml": twiml_say(message.message, message.locale)}
        if message.status_callback:
            form["StatusCallback"] = message.status_callback
        created = await self._client.create_call(form)
        return SendResult(str(created.get("sid") or ""), str(created.get("status") or ""))


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

    async def send(self, message: OutboundMessage) -> SendResult:
        numbers = self._config.get("numbers") or []
        from_number = pick_number(numbers, message.delivery_method, message.country)
        if from_number is None:
            raise sender_failure(
                f"No selected, available number can send {message.delivery_method} to {message.country or 'this'} "
                "recipients."
            )
        if message.delivery_method == "VOICE":
            return await self._call(message, from_number)
        return await self._sms(message, {"From": from_number})


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

    async def send(self, message: OutboundMessage) -> SendResult:
        selected = [s for s in self._config.get("messagingServices") or [] if s.get("selected")]
        if not selected:
            raise sender_failure("No Messaging Service is selected on this sender.")
        if message.delivery_method != "SMS":
            raise sender_failure("A Messaging Service sender sends SMS only.")
        return await self._sms(message, {"MessagingServiceSid": str(selected[0]["messagingServiceId"])})


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

    async def send(self, message: OutboundMessage) -> SendResult:
        """A Verification: Twilio writes and sends the text; our OTP goes as CustomCode when there is one."""
        form = {"To": message.to, "Channel": "call" if message.delivery_method == "VOICE" else "sms"}
        if message.locale:
            form["Locale"] = message.locale.split("-")[0].split("_")[0]
        if message.otp:
            form["CustomCode"] = message.otp
        created = await self._client.create_verification(str(self._config["verifyServiceId"]), form)
        return SendResult(str(created.get("sid") or ""), str(created.get("status") or ""))


class PlatformTwilioProvider(_TwilioProvider):
    """``PINGONE_TWILIO``: the operator's own Twilio account (a Messaging Service or a from-number)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        bases: TwilioBases,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str | None,
        from_number: str | None,
    ) -> None:
        super().__init__(http, bases, {"sid": account_sid}, {"authToken": auth_token})
        self._service = messaging_service_sid
        self._from = from_number

    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        return AccountInventory()

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.delivery_method == "VOICE":
            if not self._from:
                raise sender_failure("PINGONE_TWILIO has no from-number for voice calls.")
            return await self._call(message, self._from)
        sender = {"MessagingServiceSid": self._service} if self._service else {"From": str(self._from)}
        return await self._sms(message, sender)
