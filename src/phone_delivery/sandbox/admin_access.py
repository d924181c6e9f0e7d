"""Who may use the sandbox's admin API (``/_admin/*``) and its inbox page (``/inbox*``).

Loopback clients may, when they address the sandbox by an IP address or ``localhost`` (a page of
another site that rebinds its own name to 127.0.0.1 may not). Any other client must show the
sandbox's admin credentials by HTTP Basic: dev mode's are the sandbox Twilio account's SID and
auth token from dev-credentials.json. A sandbox without admin credentials answers only loopback
clients (403). Requests that change something are refused when a browser says another site sent
them (``Origin``, ``Sec-Fetch-Site``), whoever the client is: no page elsewhere may clear the inbox.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from phone_delivery.sandbox.twilio_http import basic_credentials

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
REALM = 'Basic realm="phone-delivery sandbox admin", charset="UTF-8"'


@dataclass(frozen=True)
class AdminAccess:
    """``credentials`` (user, password) let clients other than loopback in; None: loopback only."""

    credentials: tuple[str, str] | None = field(default=None, repr=False)

    def refusal(self, request: Request) -> Response | None:
        """Why this request may not go on (a 401 or 403 JSON answer), or None when it may."""
        if request.method not in SAFE_METHODS and _sent_by_another_site(request):
            return _error(403, "the sandbox admin API does not take changes sent by pages of another site")
        if _is_loopback(request) and _local_name(request):
            return None
        if self.credentials is None:
            return _error(
                403,
                "the sandbox admin API answers only loopback clients that address it as 127.0.0.1, [::1] or localhost",
            )
        given = basic_credentials(request)
        if given is not None and _same(given, self.credentials):
            return None
        return _error(
            401,
            "the sandbox admin API needs the dev credentials from clients other than loopback: HTTP Basic "
            "with the sandbox Twilio account's SID and auth token (dev-credentials.json, twilio)",
            {"WWW-Authenticate": REALM},
        )


class AdminGuard:
    """ASGI middleware that lets a request through only when ``AdminAccess`` allows it."""

    def __init__(self, app: ASGIApp, access: AdminAccess) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.access.refusal(Request(scope, receive))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _same(given: tuple[str, str], wanted: tuple[str, str]) -> bool:
    user = hmac.compare_digest(given[0].encode(), wanted[0].encode())
    password = hmac.compare_digest(given[1].encode(), wanted[1].encode())
    return user and password


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _local_name(request: Request) -> bool:
    """The Host header names this machine by address or as localhost, not by a name anyone may point here."""
    host = _hostname(request.headers.get("host", ""))
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _sent_by_another_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True  # a sandboxed frame, a data: URL: never the inbox page itself
    parts = urlsplit(origin)
    return parts.netloc.lower() != request.headers.get("host", "").lower()


def _hostname(host: str) -> str | None:
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return None
    return name.rstrip(".").lower() if name else None
