"""``CUSTOM_PROVIDER``: a tenant's HTTP gateway. Configuring one checks OAuth2 credentials live.

The OAuth2 client-credentials token is cached until shortly before it expires, keyed by token
URL, client id and a hash of the secret, so a changed secret never reuses an old token.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import httpx

from phone_delivery.domain.custom_templates import render
from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable
from phone_delivery.domain.http_headers import name_problem, value_problem
from phone_delivery.domain.ports import AccountInventory, OutboundMessage, SendResult, UrlGuard
from phone_delivery.domain.routing import pick_number_custom
from phone_delivery.expiring_cache import ExpiringCache
from phone_delivery.providers.http_errors import exchange, json_or_raise

DISPLAY_NAME = "The custom provider"
EXPIRY_MARGIN_SECONDS = 30


class OAuthTokenCache:
    """Process-wide cache of client-credentials tokens."""

    def __init__(self) -> None:
        self._tokens: ExpiringCache[tuple[str, str, str], str] = ExpiringCache()

    async def token(
        self,
        http: httpx.AsyncClient,
        guard: UrlGuard,
        auth_url: str,
        client_id: str,
        client_secret: str,
        *,
        fresh: bool = False,
    ) -> str:
        key = (auth_url, client_id, hashlib.sha256(client_secret.encode()).hexdigest())
        cached = None if fresh else self._tokens.get(key)
        if cached is not None:
            return cached
        problem = guard.problem(auth_url)  # also checked at save; the host again at connect
        if problem is not None:
            raise _sender_problem(problem, target="authentication.authUrl")
        try:
            response = await exchange(
                DISPLAY_NAME,
                http.post(
                    auth_url,
                    data={"grant_type": "client_credentials"},
                    auth=httpx.BasicAuth(client_id, client_secret),
                    headers={"Accept": "application/json"},
                ),
            )
        except ProviderRejected as exc:  # the token endpoint's host does not resolve or is refused
            exc.extra["target"] = "authentication.authUrl"
            raise
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
        if value_problem(token) is not None:
            raise ProviderUnavailable(
                DISPLAY_NAME, "The OAuth2 token endpoint returned an access_token that cannot be sent in a header."
            )
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 300.0
        self._tokens.put(key, token, max(seconds - EXPIRY_MARGIN_SECONDS, 1.0))
        return token


def _sender_problem(message: str, target: str | None = None) -> ProviderRejected:
    """This sender's configuration cannot be used (no failover would fix it at this sender)."""
    extra: dict[str, Any] = {"kind": "sender"}
    if target is not None:
        extra["target"] = target
    return ProviderRejected(DISPLAY_NAME, message, extra=extra)


class CustomHttpProvider:
    display_name = DISPLAY_NAME

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: OAuthTokenCache,
        guard: UrlGuard,
        config: Mapping[str, Any],
        secrets: Mapping[str, str],
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._guard = guard
        self._config = config
        self._auth = dict(config["authentication"])
        self._secrets = secrets

    async def send(self, message: OutboundMessage) -> SendResult:
        templates = [
            r for r in self._config.get("requests") or [] if r.get("deliveryMethod") == message.delivery_method
        ]
        if not templates:
            raise _sender_problem(f"No {message.delivery_method} request template.")
        from_number = pick_number_custom(self._config.get("numbers") or [], message.delivery_method, message.country)
        request = render(templates[0], message, from_number)
        problem = self._guard.problem(request.url)  # the rendered URL; its host is checked again at connect
        if problem is not None:
            raise _sender_problem(problem)
        auth = await self._auth_headers()
        written = {name.lower() for name in auth}
        headers = {**{k: v for k, v in request.headers.items() if k.lower() not in written}, **auth}
        for name, value in headers.items():  # a configuration saved by an older version is checked here too
            problem = name_problem(name) or value_problem(value)
            if problem is not None:
                raise _sender_problem(f"The header {name} cannot be sent: {problem} Replace the sender's settings.")
        response = await exchange(
            DISPLAY_NAME,
            self._http.request(
                request.method,
                request.url,
                headers=headers,
                content=request.body.encode() if request.body is not None else None,
            ),
        )
        if 200 <= response.status_code < 300:
            return SendResult(_message_id(response), f"HTTP {response.status_code}: {response.text[:200]}")
        text = f"The custom provider answered HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(
                DISPLAY_NAME,
                text,
                status=response.status_code,
                extra={"retry_after": response.headers.get("Retry-After")},
            )
        raise ProviderRejected(DISPLAY_NAME, text, status=response.status_code, extra={"kind": "sender"})

    async def _auth_headers(self) -> dict[str, str]:
        method = self._auth["method"]
        if method == "BASIC":
            credentials = f"{self._auth['username']}:{self._secrets['password']}".encode()
            return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
        if method == "BEARER":
            return {"Authorization": f"Bearer {self._secrets['authToken']}"}
        if method == "OAUTH2":
            return {"Authorization": f"Bearer {await self._oauth_token()}"}
        return {str(self._auth["headerName"]): self._secrets["headerValue"]}

    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        """Nothing to list; with OAUTH2 the credentials are proven by fetching a token."""
        if self._auth["method"] == "OAUTH2":
            await self._oauth_token(fresh=True)
        return AccountInventory()

    async def _oauth_token(self, *, fresh: bool = False) -> str:
        return await self._tokens.token(
            self._http,
            self._guard,
            str(self._auth["authUrl"]),
            str(self._auth["clientId"]),
            self._secrets["clientSecret"],
            fresh=fresh,
        )


def _message_id(response: httpx.Response) -> str | None:
    """The gateway's id for the message, when its answer is JSON that has one. The gateway has
    accepted the message by now: nothing in its answer may make this fail."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's parser goes
        return None
    if isinstance(body, dict):
        for key in ("id", "messageId", "message_id", "sid"):
            if isinstance(body.get(key), str | int):
                return str(body[key])
    return None
