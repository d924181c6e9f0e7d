"""``CUSTOM_TWILIO_MESSAGING_SERVICE``: the tenant's Twilio account, sending through one Messaging Service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from phone_delivery.domain.ports import AccountInventory, MessagingServiceInfo
from phone_delivery.providers.twilio_rest import DISPLAY_NAME, TwilioRestClient


class TwilioMessagingServiceProvider:
    display_name = DISPLAY_NAME

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str,
        messaging_base: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, str],
    ) -> None:
        self._client = TwilioRestClient(
            http,
            api_base=api_base,
            messaging_base=messaging_base,
            account_sid=str(config["sid"]),
            auth_token=secrets["authToken"],
        )

    async def inventory(self) -> AccountInventory:
        services = await self._client.list_messaging_services()
        return AccountInventory(
            messaging_services=[
                MessagingServiceInfo(sid=str(s.get("sid")), name=str(s.get("friendly_name") or ""))
                for s in services
                if isinstance(s.get("sid"), str)
            ]
        )
