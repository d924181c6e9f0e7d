"""Twilio Verify v2: services, templates, verifications (create, which resends while one is pending;
fetch; cancel or approve) and verification checks. A verification is pending until checked with its
code, and expires ten minutes after it was created; its code goes to the inbox."""

from __future__ import annotations

import functools
import re
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox import twilio_resources as resources
from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.state import Account, SandboxState, Verification, VerifyService, new_sid
from phone_delivery.sandbox.twilio_http import (
    api_base,
    form,
    not_found,
    twilio_error,
    twilio_route,
    v1_page,
)
from phone_delivery.sandbox.twilio_messages import refusal

VERIFICATION_TTL_SECONDS = 600
MAX_CHECK_ATTEMPTS = 5
MAX_SEND_ATTEMPTS = 5
CHANNELS = ("sms", "call", "email", "whatsapp", "sna")
LANDLINE = 21614  # a script's refusal that means "not a mobile number"


def verify_routes(state: SandboxState) -> list[Route]:
    def service_of(request: Request, account: Account) -> VerifyService | None:
        sid = request.path_params["sid"]
        return next((v for v in account.verify_services if v.sid == sid), None)

    def settle(verification: Verification, status: str) -> None:
        """A verification's new status, on it and on each of its sends in the inbox."""
        verification.status, verification.date_updated = status, iso_now()
        for attempt in range(1, len(verification.send_code_attempts) + 1):
            state.inbox.update(f"{verification.sid}-{attempt}", status=status)

    def pending(account: Account, service_sid: str, to: str | None, sid: str | None) -> Verification | None:
        """The live verification of ``to`` (or ``sid``); one past its ten minutes expires here."""
        for verification in reversed(list(account.verifications.values())):
            if verification.service_sid != service_sid or verification.status != "pending":
                continue
            if (sid and verification.sid != sid) or (to and verification.to != to):
                continue
            if time.time() - verification.created > VERIFICATION_TTL_SECONDS:
                settle(verification, "expired")
                continue
            return verification
        return None

    async def fetch_service(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        return JSONResponse(resources.verify_service_resource(api_base(request, "/v2/"), account, service))

    async def list_templates(request: Request, account: Account) -> Response:
        return v1_page(
            request, "templates", [resources.template_resource(account, t) for t in account.verify_templates]
        )

    async def create_verification(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        values = await form(request)
        to, channel = values.get("To", ""), values.get("Channel", "")
        if not to:
            return twilio_error(400, 60200, value="To")
        if channel not in CHANNELS:
            return twilio_error(400, 60200, value="Channel")
        if channel in ("sms", "call", "whatsapp"):
            refused = refusal(state, to)
            if refused is not None:
                landline = channel == "sms" and state.script_for(to).refuse == LANDLINE
                return twilio_error(400, 60205) if landline else twilio_error(400, 60200, value="To")
        custom = values.get("CustomCode")
        if custom is not None and not re.fullmatch(r"[0-9]{4,10}", custom):
            return twilio_error(400, 60200, value="CustomCode")
        verification = pending(account, service.sid, to, None)
        if verification is None:
            code = custom or f"{secrets.randbelow(10**service.code_length):0{service.code_length}d}"
            verification = Verification(new_sid("VE"), service.sid, to, channel, code)
            state.keep_verification(account, verification)
        elif len(verification.send_code_attempts) >= MAX_SEND_ATTEMPTS:
            return twilio_error(429, 60203)
        verification.channel = channel
        verification.date_updated = iso_now()
        verification.send_code_attempts.append(
            {"attempt_sid": new_sid("VL"), "channel": channel, "time": verification.date_updated}
        )
        state.deliver(
            {
                "id": f"{verification.sid}-{len(verification.send_code_attempts)}",
                "kind": "VERIFICATION",
                "accountSid": account.sid,
                "to": to,
                "from": service.friendly_name,
                "verifyServiceSid": service.sid,
                "verificationSid": verification.sid,
                "channel": channel,
                "code": verification.code,
                "body": f"Your {service.friendly_name} verification code is: {verification.code}",
                "status": "pending",
            }
        )
        body = resources.verification_resource(api_base(request, "/v2/"), account, verification)
        return JSONResponse(body, status_code=201)

    def verification_of(request: Request, account: Account) -> Verification | None:
        found = account.verifications.get(request.path_params["ve"])
        if found is None or found.service_sid != request.path_params["sid"]:
            return None
        if found.status == "pending":
            pending(account, found.service_sid, None, found.sid)  # expires it when its time is up
        return found

    async def fetch_verification(request: Request, account: Account) -> Response:
        verification = verification_of(request, account)
        if verification is None or verification.status == "expired":
            return not_found(request.url.path)
        return JSONResponse(resources.verification_resource(api_base(request, "/v2/"), account, verification))

    async def update_verification(request: Request, account: Account) -> Response:
        verification = verification_of(request, account)
        if verification is None or verification.status != "pending":
            return not_found(request.url.path)
        status = (await form(request)).get("Status")
        if status not in ("canceled", "approved"):
            return twilio_error(400, 60200, value="Status")
        settle(verification, status)
        return JSONResponse(resources.verification_resource(api_base(request, "/v2/"), account, verification))

    async def check(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        values = await form(request)
        to, sid, code = values.get("To"), values.get("VerificationSid"), values.get("Code")
        if not code or not (to or sid):
            return twilio_error(400, 60200, value="Code, and To or VerificationSid")
        verification = pending(account, service.sid, to, sid)
        if verification is None:
            return not_found(request.url.path)
        if verification.check_attempts >= MAX_CHECK_ATTEMPTS:
            return twilio_error(429, 60202)
        verification.check_attempts += 1
        verification.date_updated = iso_now()
        if secrets.compare_digest(code.encode(), verification.code.encode()):
            settle(verification, "approved")
        return JSONResponse(resources.verification_check_resource(account, verification))

    route = functools.partial(twilio_route, state)

    return [
        route("/v2/Services/{sid}", GET=fetch_service),
        route("/v2/Templates", GET=list_templates),
        route("/v2/Services/{sid}/Verifications", POST=create_verification),
        route("/v2/Services/{sid}/Verifications/{ve}", GET=fetch_verification, POST=update_verification),
        route("/v2/Services/{sid}/VerificationCheck", POST=check),
    ]
