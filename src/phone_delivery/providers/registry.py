"""The explicit registry: PingOne's wire name -> how to build that provider for one sender."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from phone_delivery.domain.ports import ProviderFactory, SenderProvider, UrlGuard
from phone_delivery.providers.custom_http import CustomHttpProvider, OAuthTokenCache
from phone_delivery.providers.syniverse import SyniverseChannelsProvider, SyniverseNumbersProvider
from phone_delivery.providers.twilio_accounts import (
    TwilioMessagingServiceProvider,
    TwilioNumbersProvider,
    TwilioVerifyProvider,
)
from phone_delivery.providers.twilio_rest import TwilioBases


@dataclass(frozen=True)
class ProviderContext:
    """What every provider shares: the HTTP clients (``http`` for the operator's provider hosts,
    ``tenant_http`` for tenant-supplied URLs, checked by the address guard at every connection),
    vendors' base URLs, the OAuth2 token cache."""

    http: httpx.AsyncClient
    tenant_http: httpx.AsyncClient
    twilio: TwilioBases
    syniverse_base: str
    oauth_tokens: OAuthTokenCache
    url_guard: UrlGuard


def build_registry(ctx: ProviderContext) -> dict[str, ProviderFactory]:
    def twilio(
        cls: type[TwilioNumbersProvider | TwilioMessagingServiceProvider | TwilioVerifyProvider],
    ) -> ProviderFactory:
        def build(config: Mapping[str, Any], secrets: Mapping[str, str]) -> SenderProvider:
            return cls(ctx.http, ctx.twilio, config, secrets)

        return build

    def syniverse(cls: type[SyniverseNumbersProvider | SyniverseChannelsProvider]) -> ProviderFactory:
        def build(config: Mapping[str, Any], secrets: Mapping[str, str]) -> SenderProvider:
            return cls(ctx.http, ctx.syniverse_base, config, secrets)

        return build

    def custom(config: Mapping[str, Any], secrets: Mapping[str, str]) -> SenderProvider:
        return CustomHttpProvider(ctx.tenant_http, ctx.oauth_tokens, ctx.url_guard, config, secrets)

    return {
        "CUSTOM_TWILIO": twilio(TwilioNumbersProvider),
        "CUSTOM_TWILIO_MESSAGING_SERVICE": twilio(TwilioMessagingServiceProvider),
        "CUSTOM_TWILIO_VERIFY": twilio(TwilioVerifyProvider),
        "CUSTOM_SYNIVERSE": syniverse(SyniverseNumbersProvider),
        "CUSTOM_SYNIVERSE_CHANNELS": syniverse(SyniverseChannelsProvider),
        "CUSTOM_PROVIDER": custom,
    }
