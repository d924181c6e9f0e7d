"""Twilio's REST endpoints as the sandbox answers them (Basic auth, Twilio error JSON, v1 paging)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
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


def basic_credentials(request: Request) -> tuple[str, str] | None:
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
        creds = basic_credentials(request)
        account_sid = creds[0] if creds else None
        response = await _answer(request, creds)
        state.record(request.method, request.url.path, request.url.query, account_sid, response.status_code)
        return response

    async def _answer(request: Request, creds: tuple[str, str] | None) -> Response:
        fault = state.take_fault(request.url.path, creds[0] if creds else None)
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


def rfc2822(iso: str) -> str:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").strftime("%a, %d %b %Y %H:%M:%S +0000")


def v2010_page(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    """The 2010 API's list shape: the list at top level and relative ``*_uri`` paging fields."""
    params = _page_params(request)
    if isinstance(params, JSONResponse):
        return params
    size, page = params
    path = request.url.path[request.url.path.index("/2010-04-01/") :]
    chunk = items[page * size : (page + 1) * size]

    def uri(index: int) -> str:
        return f"{path}?PageSize={size}&Page={index}&PageToken=PA{index * size}"

    has_next = (page + 1) * size < len(items)
    return JSONResponse(
        {
            key: chunk,
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": uri(page + 1) if has_next else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": page * size,
            "uri": f"{path}?PageSize={size}&Page={page}",
        }
    )


def api_routes(state: SandboxState) -> list[Route]:
    def owner(request: Request, account: Account) -> Response | None:
        if request.path_params["account"] != account.sid:
            return twilio_error(401, 20003, "Authenticate")
        return None

    async def incoming_numbers(request: Request, account: Account) -> Response:
        refused = owner(request, account)
        if refused:
            return refused
        items = [
            {
                "sid": n.sid,
                "account_sid": account.sid,
                "phone_number": n.phone_number,
                "friendly_name": n.phone_number,
                "status": "in-use",
                "origin": "twilio",
                "capabilities": {"voice": n.voice, "sms": n.sms, "mms": False, "fax": False},
                "date_created": rfc2822(n.date_created),
                "date_updated": rfc2822(n.date_created),
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers/{n.sid}.json",
            }
            for n in account.numbers
        ]
        return v2010_page(request, "incoming_phone_numbers", items)

    async def short_codes(request: Request, account: Account) -> Response:
        refused = owner(request, account)
        if refused:
            return refused
        items = [
            {
                "sid": c.sid,
                "account_sid": account.sid,
                "short_code": c.short_code,
                "friendly_name": c.short_code,
                "api_version": "2010-04-01",
                "sms_method": "POST",
                "sms_url": None,
                "uri": f"/2010-04-01/Accounts/{account.sid}/SMS/ShortCodes/{c.sid}.json",
            }
            for c in account.short_codes
        ]
        return v2010_page(request, "short_codes", items)

    prefix = "/2010-04-01/Accounts/{account}"
    return [
        Route(prefix + "/IncomingPhoneNumbers.json", twilio_endpoint(state, incoming_numbers), methods=["GET"]),
        Route(prefix + "/SMS/ShortCodes.json", twilio_endpoint(state, short_codes), methods=["GET"]),
    ]


def verify_routes(state: SandboxState) -> list[Route]:
    async def fetch_service(request: Request, account: Account) -> Response:
        sid = request.path_params["sid"]
        for service in account.verify_services:
            if service.sid == sid:
                base = str(request.url)
                return JSONResponse(
                    {
                        "sid": service.sid,
                        "account_sid": account.sid,
                        "friendly_name": service.friendly_name,
                        "code_length": 6,
                        "lookup_enabled": False,
                        "psd2_enabled": False,
                        "skip_sms_to_landlines": False,
                        "dtmf_input_required": True,
                        "do_not_share_warning_enabled": False,
                        "custom_code_enabled": False,
                        "url": base,
                        "links": {"verifications": f"{base}/Verifications"},
                    }
                )
        return twilio_error(404, 20404, f"The requested resource /Services/{sid} was not found")

    async def list_templates(request: Request, account: Account) -> Response:
        items = [
            {
                "sid": t.sid,
                "account_sid": account.sid,
                "friendly_name": t.friendly_name,
                "channels": t.channels,
                "translations": {"en": {"text": "Your {{friendly_name}} verification code is: {{code}}"}},
            }
            for t in account.verify_templates
        ]
        return v1_page(request, "templates", items)

    return [
        Route("/v2/Services/{sid}", twilio_endpoint(state, fetch_service), methods=["GET"]),
        Route("/v2/Templates", twilio_endpoint(state, list_templates), methods=["GET"]),
    ]
