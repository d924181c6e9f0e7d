"""Twilio's HTTP conventions as the sandbox answers them: Basic auth (20003), Twilio's error body with
one table of the error codes the sandbox uses, 405 for a method a path does not take, form bodies,
and the two paging styles (v1/v2 ``meta`` with absolute URLs, 2010 with relative URIs)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.state import Account, SandboxState

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
ACCOUNT_PREFIX = "/2010-04-01/Accounts/{account}"
# A Twilio route answers every method: those it has no handler for get Twilio's 405 (20004).
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Every Twilio error code the sandbox answers with, and its message ({to}, {value} filled in).
ERRORS: dict[int, str] = {
    20001: "Invalid parameter: {value}",
    20003: "Authenticate",
    20004: "Method not allowed",
    20009: "Cannot {value} a message that is still being sent",
    20404: "The requested resource {value} was not found",
    20429: "Too Many Requests",
    20500: "Sandbox fault injected",
    21205: "Either Url, Twiml or ApplicationSid is required.",
    21210: "The source phone number provided, {value}, is not yet verified for your account.",
    21211: "The 'To' number {to} is not a valid phone number.",
    21214: "'To' phone number cannot be reached",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}",
    21602: "Message body is required.",
    21603: "A 'From' phone number or a MessagingServiceSid is required.",
    21604: "A 'To' phone number is required.",
    21606: "The From phone number {value} is not a valid, SMS-capable inbound phone number or short code "
    "for your account.",
    21609: "Invalid StatusCallback url: {value}",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21701: "The Messaging Service Sid {value} is invalid.",
    30409: "Message cannot be canceled: it is not scheduled",
    35111: "SendAt must be between 15 minutes and 35 days from now (the sandbox allows any future time).",
    60200: "Invalid parameter: {value}",
    60202: "Max check attempts reached",
    60203: "Max send attempts reached",
    60205: "SMS is not supported by landline phone number",
}


def twilio_error(
    status: int,
    code: int,
    to: str = "",
    value: str = "",
    headers: dict[str, str] | None = None,
    message: str | None = None,
) -> JSONResponse:
    """Twilio's error body for ``code`` (see ``ERRORS``; ``to`` and ``value`` cut to 64 characters),
    or with ``message`` as given (a fault's)."""
    message = message or ERRORS.get(code, "Error {value}").format(to=to[:64], value=value[:64])
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def not_found(path: str) -> JSONResponse:
    return twilio_error(404, 20404, value=path)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, ValueError):  # ValueError: non-ASCII in the header, or not UTF-8
        return None
    return (user, password) if sep else None


Handler = Callable[[Request, Account], Awaitable[Response]]


def twilio_endpoint(state: SandboxState, handlers: dict[str, Handler]) -> Callable[[Request], Awaitable[Response]]:
    """One handler per HTTP method, behind fault switches, Basic auth (20003) and request recording;
    a method without a handler gets Twilio's 405 (20004), after authentication as Twilio does."""

    async def endpoint(request: Request) -> Response:
        creds = basic_credentials(request)
        response = await _answer(request, creds)
        state.record(
            request.method, request.url.path, request.url.query, creds[0] if creds else None, response.status_code
        )
        return response

    async def _answer(request: Request, creds: tuple[str, str] | None) -> Response:
        fault = state.take_fault(request.url.path, creds[0] if creds else None)
        if fault is not None:
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.status is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                code = fault.code or (20429 if fault.status == 429 else 20500)
                return twilio_error(fault.status, code, headers=headers, message=fault.message)
        account = state.accounts.get(creds[0]) if creds else None
        if creds is None or account is None or not hmac.compare_digest(account.auth_token.encode(), creds[1].encode()):
            return twilio_error(401, 20003, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
        handler = handlers.get(request.method)
        if handler is None:
            return twilio_error(405, 20004, headers={"Allow": ", ".join(sorted(handlers))})
        return await handler(request, account)

    return endpoint


def owned(handler: Handler) -> Handler:
    """A 2010 handler that answers only for the account in its path (another: 20003)."""

    async def checked(request: Request, account: Account) -> Response:
        if request.path_params["account"] != account.sid:
            return twilio_error(401, 20003)
        return await handler(request, account)

    return checked


def twilio_route(state: SandboxState, path: str, *, account_path: bool = False, **handlers: Handler) -> Route:
    """A route answering every method (see ``twilio_endpoint``); with ``account_path`` the handlers
    answer only for the account named in the path (``ACCOUNT_PREFIX``)."""
    if account_path:
        handlers = {method: owned(handler) for method, handler in handlers.items()}
        path = ACCOUNT_PREFIX + path
    return Route(path, twilio_endpoint(state, handlers), methods=ANY_METHOD)


async def form(request: Request) -> dict[str, str]:
    """Twilio's form-encoded body (the last value of a repeated key wins)."""
    return dict(await form_pairs(request))


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    return parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True)


def api_base(request: Request, marker: str) -> str:
    """The absolute base of this API on this host (what precedes ``marker`` in the URL)."""
    return str(request.url).split(marker)[0]


def _page_params(request: Request) -> tuple[int, int] | JSONResponse:
    try:
        size = int(request.query_params.get("PageSize", DEFAULT_PAGE_SIZE))
        page = int(request.query_params.get("Page", 0))
    except ValueError:
        return twilio_error(400, 20001, value="PageSize, Page")
    if size < 1 or page < 0:
        return twilio_error(400, 20001, value="PageSize, Page")
    return min(size, MAX_PAGE_SIZE), page


def v1_page(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    """Twilio's v1/v2 list shape: ``{key: [...], meta: {..., next_page_url (absolute)}}``."""
    params = _page_params(request)
    if isinstance(params, JSONResponse):
        return params
    size, page = params
    chunk = items[page * size : (page + 1) * size]

    def page_url(index: int) -> str:
        return str(request.url.replace_query_params(PageSize=size, Page=index, PageToken=f"PT{index * size}"))

    first = str(request.url.replace_query_params(PageSize=size, Page=0))
    has_next = (page + 1) * size < len(items)
    meta = {
        "page": page,
        "page_size": size,
        "first_page_url": first,
        "previous_page_url": page_url(page - 1) if page > 0 else None,
        "next_page_url": page_url(page + 1) if has_next else None,
        "key": key,
        "url": str(request.url),
    }
    return JSONResponse({key: chunk, "meta": meta})


def v2010_page(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    """The 2010 API's list shape: the list at top level and relative ``*_uri`` paging fields.

    ``PageToken`` is ``PA`` + the sid of the previous page's last item, so a page follows on from
    where the last one ended even when newer items arrived in between (Twilio's tokens do the same)."""
    params = _page_params(request)
    if isinstance(params, JSONResponse):
        return params
    size, page = params
    path = request.url.path[request.url.path.index("/2010-04-01/") :]
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("Page", "PageSize", "PageToken")]
    filters = "".join(f"&{urlencode({k: v})}" for k, v in kept)
    start = page * size
    after = request.query_params.get("PageToken", "").removeprefix("PA")
    if after:
        start = next((i + 1 for i, item in enumerate(items) if item.get("sid") == after), start)
    chunk = items[start : start + size]

    def uri(index: int, token: str) -> str:
        return f"{path}?PageSize={size}&Page={index}&PageToken=PA{token}{filters}"

    has_next = start + size < len(items)
    return JSONResponse(
        {
            key: chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": f"{path}?PageSize={size}&Page=0{filters}",
            "next_page_uri": uri(page + 1, chunk[-1].get("sid", "")) if has_next and chunk else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": f"{path}?PageSize={size}&Page={page - 1}{filters}" if page > 0 else None,
            "start": start,
            "uri": f"{path}?PageSize={size}&Page={page}{filters}",
        }
    )
