"""The explicit registry: PingOne's wire name -> how to build that provider for one sender."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from phone_delivery.domain.ports import ProviderFactory, SenderProvider
from phone_delivery.providers.twilio_messaging_service import TwilioMessagingServiceProvider


@dataclass(frozen=True)
class ProviderContext:
    """What every provider shares: the one HTTP client and the vendors' base URLs."""

    http: httpx.AsyncClient
    twilio_api_base: str
    twilio_messaging_base: str
    twilio_verify_base: str


def build_registry(ctx: ProviderContext) -> dict[str, ProviderFactory]:
    def messaging_service(config: Mapping[str, Any], secrets: Mapping[str, str]) -> SenderProvider:
        return TwilioMessagingServiceProvider(
            ctx.http,
            api_base=ctx.twilio_api_base,
            messaging_base=ctx.twilio_messaging_base,
            config=config,
            secrets=secrets,
        )

    return {"CUSTOM_TWILIO_MESSAGING_SERVICE": messaging_service}
