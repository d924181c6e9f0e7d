"""The HTTP client of our public API: a client_credentials token, then bearer requests.

Every failure becomes a ``ClientError``: the server's PingOne error body as ``ApiError``, no
connection or refused credentials as ``Unreachable``. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from phone_delivery import __version__
from phone_delivery.client.errors import ApiError, ClientError, Unreachable
from phone_delivery.client.profiles import Credentials

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
SENDERS = "/v1/environments/{env}/notificationsSettings/phoneDeliverySettings"
POLICIES = "/v1/environments/{env}/notificationsPolicies"


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ApiClient:
    """One command's connection to the server (one token, fetched on first use)."""

    def __init__(self, credentials: Credentials, transport: httpx.BaseTransport | None = None) -> None:
        self.credentials = credentials
        self._http = httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": f"phone-delivery-cli/{__version__}", "Accept": "application/json"},
            transport=transport,
        )
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def token(self) -> str:
        if self._token is None:
            creds = self.credentials
            try:
                response = self._http.post(
                    creds.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(creds.client_id, creds.client_secret),
                )
            except httpx.HTTPError as exc:
                raise Unreachable(
                    "CONNECTION_FAILED", f"cannot reach the token endpoint {creds.token_url} ({_reason(exc)})"
                ) from None
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
                error = body.get("error") if isinstance(body, dict) else None
                description = body.get("error_description") if isinstance(body, dict) else None
                raise Unreachable(
                    str(error or "TOKEN_REFUSED"),
                    f"the token endpoint {creds.token_url} refused the client credentials of {creds.source}"
                    + (f": {description}" if description else ""),
                    status=response.status_code,
                )
            self._token = str(body["access_token"])
        return self._token

    def request(self, method: str, path: str, *, json: Any = None, params: Any = None, headers: Any = None) -> Any:
        """The decoded JSON answer (None for 204); raises ``ApiError`` for an error status."""
        url = f"{self.credentials.server}{path}"
        try:
            response = self._http.request(
                method,
                url,
                json=json,
                params=params,
                headers={**(headers or {}), "Authorization": f"Bearer {self.token()}"},
            )
        except httpx.HTTPError as exc:
            raise Unreachable("CONNECTION_FAILED", f"cannot reach {self.credentials.server} ({_reason(exc)})") from None
        if response.status_code == 204:
            return None
        body = _json(response)
        if response.status_code == 401:
            error = ApiError.from_body(401, body)
            raise Unreachable(error.code, f"the server refused the token: {error.message}", error.details, status=401)
        if response.status_code >= 400:
            raise ApiError.from_body(response.status_code, body)
        if body is None:
            raise ClientError(
                "BAD_RESPONSE", f"{method} {path}: the server answered {response.status_code} without JSON"
            )
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post(self, path: str, body: Any = None, headers: Any = None) -> Any:
        return self.request("POST", path, json=body, headers=headers)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def items(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """A collection's ``_embedded[key]``, every page (following ``_links.next``)."""
        return list(self.iter_items(path, key, **params))

    def iter_items(self, path: str, key: str, *, pages: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        body = self.get(path, **params)
        seen = 1
        while True:
            yield from (body.get("_embedded") or {}).get(key) or []
            following = ((body.get("_links") or {}).get("next") or {}).get("href")
            if not following or (pages is not None and seen >= pages):
                return
            # Only the link's path and query: the token goes to the configured server, never elsewhere.
            parts = urlsplit(str(following))
            body = self.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            seen += 1

    def senders_path(self, env: str, sender_id: str | None = None) -> str:
        path = SENDERS.format(env=env)
        return f"{path}/{sender_id}" if sender_id else path

    def policies_path(self, env: str, policy_id: str | None = None) -> str:
        path = POLICIES.format(env=env)
        return f"{path}/{policy_id}" if policy_id else path


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
