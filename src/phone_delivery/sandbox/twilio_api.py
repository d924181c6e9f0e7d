"""Twilio's REST endpoints as the sandbox answers them (Basic auth, Twilio error JSON, v1 paging)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox import twilio_resources as resources
from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.state import Account, SandboxState

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
ACCOUNT_PREFIX = "/2010-04-01/Accounts/{account}"
# A Twilio route answers every method: those it has no handler for get Twilio's 405 (20004).
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FINAL_MESSAGE_STATUSES = {"delivered", "undelivered", "failed", "read", "canceled", "received"}


def twilio_endpoint(
    state: SandboxState, handler: Handler | dict[str, Handler]
) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a handler (or one per HTTP method: another method gets Twilio's 405, code 20004) with
    fault switches, Basic auth (error 20003) and request recording."""
    handlers = handler if isinstance(handler, dict) else None

    async def endpoint(request: Request) -> Response:
        if handlers is not None and request.method not in handlers:
            allowed = ", ".join(sorted(handlers))
            return twilio_error(405, 20004, "Method not allowed", {"Allow": allowed})
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
        if creds is None or account is None or not hmac.compare_digest(account.auth_token.encode(), creds[1].encode()):
            return twilio_error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if handlers is not None:
            return await handlers[request.method](request, account)
        assert not isinstance(handler, dict)
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


def not_found(path: str) -> JSONResponse:
    return twilio_error(404, 20404, f"The requested resource {path} was not found")


def _base(request: Request, marker: str) -> str:
    """The absolute base of this API on this host (what precedes ``marker`` in the URL)."""
    return str(request.url).split(marker)[0]


def messaging_routes(state: SandboxState) -> list[Route]:
    def service_of(request: Request, account: Account) -> Any:
        sid = request.path_params["sid"]
        return next((s for s in account.messaging_services if s.sid == sid), None)

    async def list_services(request: Request, account: Account) -> Response:
        base = _base(request, "/v1/")
        return v1_page(request, "services", [resources.service_resource(base, s) for s in account.messaging_services])

    async def fetch_service(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        return JSONResponse(resources.service_resource(_base(request, "/v1/"), service))

    async def list_phone_numbers(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}/PhoneNumbers")
        base = _base(request, "/v1/")
        items = [resources.service_phone_number_resource(base, service, n) for n in service.sender_pool]
        return v1_page(request, "phone_numbers", items)

    async def fetch_phone_number(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        number = next((n for n in service.sender_pool if n.sid == request.path_params["pn"]), None) if service else None
        if service is None or number is None:
            return not_found(f"/Services/{request.path_params['sid']}/PhoneNumbers/{request.path_params['pn']}")
        return JSONResponse(resources.service_phone_number_resource(_base(request, "/v1/"), service, number))

    return [
        Route("/v1/Services", twilio_endpoint(state, {"GET": list_services}), methods=ANY_METHOD),
        Route("/v1/Services/{sid}", twilio_endpoint(state, {"GET": fetch_service}), methods=ANY_METHOD),
        Route(
            "/v1/Services/{sid}/PhoneNumbers", twilio_endpoint(state, {"GET": list_phone_numbers}), methods=ANY_METHOD
        ),
        Route(
            "/v1/Services/{sid}/PhoneNumbers/{pn}",
            twilio_endpoint(state, {"GET": fetch_phone_number}),
            methods=ANY_METHOD,
        ),
    ]


def v2010_page(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    """The 2010 API's list shape: the list at top level and relative ``*_uri`` paging fields."""
    params = _page_params(request)
    if isinstance(params, JSONResponse):
        return params
    size, page = params
    path = request.url.path[request.url.path.index(f"/{resources.API_VERSION}/") :]
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("Page", "PageSize", "PageToken")]
    filters = "".join(f"&{urlencode({k: v})}" for k, v in kept)
    chunk = items[page * size : (page + 1) * size]

    def uri(index: int) -> str:
        return f"{path}?PageSize={size}&Page={index}&PageToken=PA{index * size}{filters}"

    has_next = (page + 1) * size < len(items)
    return JSONResponse(
        {
            key: chunk,
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": f"{path}?PageSize={size}&Page=0{filters}",
            "next_page_uri": uri(page + 1) if has_next else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": page * size,
            "uri": f"{path}?PageSize={size}&Page={page}{filters}",
        }
    )


def _when(value: str) -> datetime | None:
    """A date filter as the SDK writes it: ``YYYY-MM-DD`` or ISO 8601 (``...T12:00:00Z``)."""
    for layout in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _sent_at(message: dict[str, Any]) -> datetime | None:
    value = message.get("date_sent")
    return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S %z") if value else None


def _date_filter(request: Request, name: str) -> Any:
    """``(DateSent, DateSent<, DateSent>)`` as a predicate on messages, or a 400 response."""
    bounds: dict[str, datetime] = {}
    for suffix in ("", "<", ">"):
        raw = request.query_params.get(name + suffix)
        if raw is None:
            continue
        when = _when(raw)
        if when is None:
            return twilio_error(400, 20001, f"Invalid value for {name}{suffix}: {raw[:40]}")
        bounds[suffix] = when

    def keep(message: dict[str, Any]) -> bool:
        if not bounds:
            return True
        sent = _sent_at(message)
        if sent is None:
            return False
        if "" in bounds and sent.date() != bounds[""].date():
            return False
        if "<" in bounds and sent > bounds["<"] and sent.date() != bounds["<"].date():
            return False
        return not (">" in bounds and sent < bounds[">"] and sent.date() != bounds[">"].date())

    return keep


def owned(handler: Handler) -> Handler:
    """A 2010 handler that answers only for the account in its path (another: 20003)."""

    async def checked(request: Request, account: Account) -> Response:
        if request.path_params["account"] != account.sid:
            return twilio_error(401, 20003, "Authenticate")
        return await handler(request, account)

    return checked


def _matching(request: Request, records: dict[str, dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
    """Newest first, as Twilio lists messages and calls, filtered by the query's ``fields``."""
    wanted = {f: request.query_params.get(f) for f in fields if request.query_params.get(f) is not None}
    keys = {"To": "to", "From": "from", "Status": "status"}
    return [dict(r) for r in reversed(list(records.values())) if all(r[keys[f]] == v for f, v in wanted.items())]


async def list_messages(request: Request, account: Account) -> Response:
    keep = _date_filter(request, "DateSent")
    if isinstance(keep, Response):
        return keep
    items = [m for m in _matching(request, account.messages, "To", "From") if keep(m)]
    return v2010_page(request, "messages", items)


async def list_calls(request: Request, account: Account) -> Response:
    return v2010_page(request, "calls", _matching(request, account.calls, "To", "From", "Status"))


def api_routes(state: SandboxState) -> list[Route]:
    """The 2010 API's reads, updates and deletes (the sends and their lists are in ``messaging``)."""

    async def fetch_account(request: Request, account: Account) -> Response:
        return JSONResponse(resources.account_resource(account))

    async def list_numbers(request: Request, account: Account) -> Response:
        wanted = request.query_params.get("PhoneNumber")
        items = [
            resources.incoming_number_resource(account, n)
            for n in account.numbers
            if not wanted or wanted in n.phone_number
        ]
        return v2010_page(request, "incoming_phone_numbers", items)

    async def fetch_number(request: Request, account: Account) -> Response:
        number = next((n for n in account.numbers if n.sid == request.path_params["sid"]), None)
        if number is None:
            return not_found(request.url.path)
        return JSONResponse(resources.incoming_number_resource(account, number))

    async def list_short_codes(request: Request, account: Account) -> Response:
        wanted = request.query_params.get("ShortCode")
        items = [
            resources.short_code_resource(account, c)
            for c in account.short_codes
            if not wanted or wanted in c.short_code
        ]
        return v2010_page(request, "short_codes", items)

    async def fetch_short_code(request: Request, account: Account) -> Response:
        code = next((c for c in account.short_codes if c.sid == request.path_params["sid"]), None)
        if code is None:
            return not_found(request.url.path)
        return JSONResponse(resources.short_code_resource(account, code))

    def message_of(request: Request, account: Account) -> dict[str, Any] | None:
        return account.messages.get(request.path_params["sid"].removesuffix(".json"))

    async def fetch_message(request: Request, account: Account) -> Response:
        message = message_of(request, account)
        return JSONResponse(dict(message)) if message else not_found(request.url.path)

    async def update_message(request: Request, account: Account) -> Response:
        message = message_of(request, account)
        if message is None:
            return not_found(request.url.path)
        form = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        if "Status" in form:
            if form["Status"] != "canceled":
                return twilio_error(400, 20001, "Status can only be canceled")
            if message["status"] != "scheduled":
                return twilio_error(400, 30409, "Message cannot be canceled: it is not scheduled")
            message["status"] = "canceled"
        if "Body" in form:
            if form["Body"] != "":
                return twilio_error(400, 20001, "Body can only be redacted (set to an empty string)")
            if message["status"] not in FINAL_MESSAGE_STATUSES:
                return twilio_error(400, 20009, "Cannot redact the body of a message that is still being sent")
            message["body"] = ""
            state.inbox.update(message["sid"], body="", redacted=True)
        message["date_updated"] = resources.rfc2822(iso_now())
        return JSONResponse(dict(message))

    async def delete_message(request: Request, account: Account) -> Response:
        message = message_of(request, account)
        if message is None:
            return not_found(request.url.path)
        if message["status"] not in FINAL_MESSAGE_STATUSES:
            return twilio_error(409, 20009, "Cannot delete a message that is still being sent")
        account.messages.pop(message["sid"], None)
        return Response(status_code=204)

    async def fetch_call(request: Request, account: Account) -> Response:
        call = account.calls.get(request.path_params["sid"])
        return JSONResponse(dict(call)) if call else not_found(request.url.path)

    def route(path: str, **handlers: Handler) -> Route:
        return Route(
            ACCOUNT_PREFIX + path,
            twilio_endpoint(state, {m: owned(h) for m, h in handlers.items()}),
            methods=ANY_METHOD,
        )

    return [
        route(".json", GET=fetch_account),
        route("/IncomingPhoneNumbers.json", GET=list_numbers),
        route("/IncomingPhoneNumbers/{sid}.json", GET=fetch_number),
        route("/SMS/ShortCodes.json", GET=list_short_codes),
        route("/SMS/ShortCodes/{sid}.json", GET=fetch_short_code),
        route("/Messages/{sid}.json", GET=fetch_message, POST=update_message, DELETE=delete_message),
        route("/Calls/{sid}.json", GET=fetch_call),
    ]


def verify_routes(state: SandboxState) -> list[Route]:
    async def fetch_service(request: Request, account: Account) -> Response:
        sid = request.path_params["sid"]
        service = next((v for v in account.verify_services if v.sid == sid), None)
        if service is None:
            return not_found(f"/Services/{sid}")
        return JSONResponse(resources.verify_service_resource(_base(request, "/v2/"), account, service))

    async def list_templates(request: Request, account: Account) -> Response:
        items = [resources.template_resource(account, t) for t in account.verify_templates]
        return v1_page(request, "templates", items)

    return [
        Route("/v2/Services/{sid}", twilio_endpoint(state, {"GET": fetch_service}), methods=ANY_METHOD),
        Route("/v2/Templates", twilio_endpoint(state, {"GET": list_templates}), methods=ANY_METHOD),
    ]
