"""Twilio's REST endpoints as the sandbox answers them (Basic auth, Twilio error JSON, v1 paging)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.state import Account, MessagingService, SandboxState

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


def twilio_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


Handler = Callable[[Request, Account], Awaitable[Response]]


def twilio_endpoint(state: SandboxState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a handler with fault switches, Basic auth (error 20003) and request recording."""

    async def endpoint(request: Request) -> Response:
        creds = _credentials(request)
        account_sid = creds[0] if creds else None
        response = await _answer(request, creds)
        state.record(request.method, request.url.path, request.url.query, account_sid, response.status_code)
        return response

    async def _answer(request: Request, creds: tuple[str, str] | None) -> Response:
        fault = state.take_fault(request.url.path)
        if fault is not None:
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.status is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                return twilio_error(
                    fault.status,
                    fault.code or (20429 if fault.status == 429 else 20500),
                    fault.message or "Sandbox fault injected",
                    headers,
                )
        account = state.accounts.get(creds[0]) if creds else None
        if creds is None or account is None or not hmac.compare_digest(account.auth_token, creds[1]):
            return twilio_error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        return await handler(request, account)

    return endpoint


def _page_params(request: Request) -> tuple[int, int] | JSONResponse:
    try:
        size = int(request.query_params.get("PageSize", DEFAULT_PAGE_SIZE))
        page = int(request.query_params.get("Page", 0))
    except ValueError:
        return twilio_error(400, 20001, "Invalid paging parameter")
    if size < 1 or page < 0:
        return twilio_error(400, 20001, "Invalid paging parameter")
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


def service_json(request: Request, service: MessagingService) -> dict[str, Any]:
    base = str(request.url).split("/v1/")[0]
    url = f"{base}/v1/Services/{service.sid}"
    return {
        "account_sid": service.account_sid,
        "sid": service.sid,
        "friendly_name": service.friendly_name,
        "date_created": service.date_created,
        "date_updated": service.date_created,
        "inbound_request_url": None,
        "inbound_method": "POST",
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": None,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": True,
        "area_code_geomatch": True,
        "synchronous_validation": True,
        "validity_period": 14400,
        "url": url,
        "links": {
            name: f"{url}/{path}"
            for name, path in (
                ("phone_numbers", "PhoneNumbers"),
                ("short_codes", "ShortCodes"),
                ("alpha_senders", "AlphaSenders"),
                ("messages", "Messages"),
                ("us_app_to_person", "Compliance/Usa2p"),
                ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"),
                ("channel_senders", "ChannelSenders"),
            )
        },
        "usecase": "undeclared",
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": False,
    }


def messaging_routes(state: SandboxState) -> list[Route]:
    async def list_services(request: Request, account: Account) -> Response:
        items = [service_json(request, s) for s in account.messaging_services]
        return v1_page(request, "services", items)

    async def fetch_service(request: Request, account: Account) -> Response:
        sid = request.path_params["sid"]
        for service in account.messaging_services:
            if service.sid == sid:
                return JSONResponse(service_json(request, service))
        return twilio_error(404, 20404, f"The requested resource /Services/{sid} was not found")

    return [
        Route("/v1/Services", twilio_endpoint(state, list_services), methods=["GET"]),
        Route("/v1/Services/{sid}", twilio_endpoint(state, fetch_service), methods=["GET"]),
    ]
