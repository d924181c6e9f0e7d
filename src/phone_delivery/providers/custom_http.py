"""``CUSTOM_PROVIDER``: a tenant's HTTP gateway. Configuring one checks OAuth2 credentials live.

The OAuth2 client-credentials token is cached until shortly before it expires, keyed by token
URL, client id and a hash of the secret, so a changed secret never reuses an old token.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.providers.http_errors import exchange, json_or_raise

DISPLAY_NAME = "The custom provider"
EXPIRY_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class CachedToken:
    value: str
    expires_at: float


class OAuthTokenCache:
    """Process-wide cache of client-credentials tokens."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], CachedToken] = {}

    async def token(
        self, http: httpx.AsyncClient, auth_url: str, client_id: str, client_secret: str, *, fresh: bool = False
    ) -> str:
        key = (auth_url, client_id, hashlib.sha256(client_secret.encode()).hexdigest())
        cached = self._tokens.get(key)
        if cached is not None and not fresh and cached.expires_at > time.monotonic():
            return cached.value
        response = await exchange(
            DISPLAY_NAME,
            http.post(
                auth_url,
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(client_id, client_secret),
                headers={"Accept": "application/json"},
            ),
        )
        try:
            body = json_or_raise(DISPLAY_NAME, response, "error", "error_description")
        except ProviderRejected as exc:
            exc.message = f"The OAuth2 token request was refused (HTTP {exc.status})."
            exc.status = 401
            exc.extra["target"] = "authentication.clientSecret"
            raise
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderUnavailable(DISPLAY_NAME, "The OAuth2 token endpoint returned no access_token.")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 300.0
        self._tokens[key] = CachedToken(token, time.monotonic() + max(seconds - EXPIRY_MARGIN_SECONDS, 1.0))
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        return token


class CustomHttpProvider:
    display_name = DISPLAY_NAME

    def __init__(
        self, http: httpx.AsyncClient, tokens: OAuthTokenCache, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._auth = dict(config["authentication"])
        self._secrets = secrets

    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        """Nothing to list; with OAUTH2 the credentials are proven by fetching a token."""
        if self._auth["method"] == "OAUTH2":
            await self._tokens.token(
                self._http,
                str(self._auth["authUrl"]),
                str(self._auth["clientId"]),
                self._secrets["clientSecret"],
                fresh=True,
            )
        return AccountInventory()
