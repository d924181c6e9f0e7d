"""What an account holds, as Twilio's API shows it: the account itself, its incoming phone numbers
and short codes (the 2010 API), its Messaging Services and their sender pools (Messaging v1)."""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox import twilio_resources as resources
from phone_delivery.sandbox.state import Account, MessagingService, SandboxState
from phone_delivery.sandbox.twilio_http import (
    api_base,
    not_found,
    twilio_route,
    v1_page,
    v2010_page,
)


def account_routes(state: SandboxState) -> list[Route]:
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

    route = functools.partial(twilio_route, state, account_path=True)

    return [
        route(".json", GET=fetch_account),
        route("/IncomingPhoneNumbers.json", GET=list_numbers),
        route("/IncomingPhoneNumbers/{sid}.json", GET=fetch_number),
        route("/SMS/ShortCodes.json", GET=list_short_codes),
        route("/SMS/ShortCodes/{sid}.json", GET=fetch_short_code),
    ]


def messaging_service_of(request: Request, account: Account) -> MessagingService | None:
    sid = request.path_params["sid"]
    return next((s for s in account.messaging_services if s.sid == sid), None)


def messaging_service_routes(state: SandboxState) -> list[Route]:
    async def list_services(request: Request, account: Account) -> Response:
        base = api_base(request, "/v1/")
        return v1_page(request, "services", [resources.service_resource(base, s) for s in account.messaging_services])

    async def fetch_service(request: Request, account: Account) -> Response:
        service = messaging_service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        return JSONResponse(resources.service_resource(api_base(request, "/v1/"), service))

    async def list_phone_numbers(request: Request, account: Account) -> Response:
        service = messaging_service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}/PhoneNumbers")
        base = api_base(request, "/v1/")
        items = [resources.service_phone_number_resource(base, service, n) for n in service.sender_pool]
        return v1_page(request, "phone_numbers", items)

    async def fetch_phone_number(request: Request, account: Account) -> Response:
        service = messaging_service_of(request, account)
        number = next((n for n in service.sender_pool if n.sid == request.path_params["pn"]), None) if service else None
        if service is None or number is None:
            return not_found(f"/Services/{request.path_params['sid']}/PhoneNumbers/{request.path_params['pn']}")
        return JSONResponse(resources.service_phone_number_resource(api_base(request, "/v1/"), service, number))

    route = functools.partial(twilio_route, state)

    return [
        route("/v1/Services", GET=list_services),
        route("/v1/Services/{sid}", GET=fetch_service),
        route("/v1/Services/{sid}/PhoneNumbers", GET=list_phone_numbers),
        route("/v1/Services/{sid}/PhoneNumbers/{pn}", GET=fetch_phone_number),
    ]
