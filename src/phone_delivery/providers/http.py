"""The outbound HTTP clients: explicit timeouts, no redirects, no environment proxies, no cookies
(one client serves every tenant's providers: a cookie one gateway sets must never reach another
tenant's calls), and aiohttp's connection pool underneath (``providers/aiohttp_transport.py`` says
why, and how it frames every request itself).

Two clients, two pools: one for the operator's provider hosts (Twilio, Syniverse: settings), and one
for URLs that tenants supply (custom providers' ``url`` and ``authUrl``), whose connections resolve
through the address guard and go only to the addresses it checked."""

from __future__ import annotations

from typing import Any

import httpx

from phone_delivery import __version__
from phone_delivery.providers.address_guard import AddressGuard
from phone_delivery.providers.aiohttp_transport import AiohttpTransport

USER_AGENT = f"phone-delivery/{__version__}"


class _NoCookies(httpx.Cookies):
    """A jar that keeps and sends nothing. httpx's own would still build two urllib stand-ins for
    every response only to be refused by a policy (a tenth of a provider call's time)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        # One instance serves every client: a cookie set here would go with every tenant's calls.
        raise TypeError("a provider HTTP client keeps no cookies")

    def update(self, cookies: Any = None) -> None:  # type: ignore[override]  # httpx.Cookies' own signature
        raise TypeError("a provider HTTP client keeps no cookies")


class ProviderHttpClient(httpx.AsyncClient):
    """httpx's client, without cookies: neither kept from an answer nor sent."""

    _none = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._none

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("a provider HTTP client keeps no cookies")


def build_http_client(timeout_seconds: float, guard: AddressGuard | None = None) -> httpx.AsyncClient:
    """``guard``: the client for tenant-supplied URLs (every connection checked by it)."""
    return ProviderHttpClient(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
        transport=AiohttpTransport(httpx.Limits(max_connections=200, max_keepalive_connections=50), guard=guard),
    )
