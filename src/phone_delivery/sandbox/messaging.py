"""Sending through the sandbox: Twilio Messages, Calls and Verifications, with Twilio's errors for
magic recipients, an inbox of everything delivered, and signed status callbacks.

Magic recipients: +15005550001 (and anything not E.164) -> 21211 invalid number; +15005550009 ->
21614 not a mobile number; +15005550004 -> 21610 unsubscribed; +15005550011 -> accepted, then an
``undelivered`` callback with ErrorCode 30003. Every other valid number is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.delivery.signatures import twilio_signature
from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.state import Account, SandboxState, new_sid
from phone_delivery.sandbox.twilio_api import rfc2822, twilio_endpoint, twilio_error

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
REFUSED = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
}
UNDELIVERED = {"+15005550011": "30003"}
CALLBACK_DELAY_SECONDS = 0.02


class CallbackSender:
    """Posts signed status callbacks from the sandbox (one client per event loop)."""

    def __init__(self) -> None:
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, url: str, params: dict[str, str], auth_token: str) -> None:
        task = asyncio.get_running_loop().create_task(self._post(url, params, auth_token))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, params: dict[str, str], auth_token: str) -> None:
        await asyncio.sleep(CALLBACK_DELAY_SECONDS)
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = httpx.AsyncClient(timeout=10, trust_env=False)
        headers = {"X-Twilio-Signature": twilio_signature(auth_token, url, params.items())}
        with contextlib.suppress(httpx.HTTPError):  # like Twilio, the sandbox does not retry a failed callback
            await client.post(url, data=params, headers=headers)


async def _form(request: Request) -> dict[str, str]:
    """Twilio's form-encoded body (the last value of a repeated key wins)."""
    return dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))


def _form_error(request_form: dict[str, str], *required: str) -> Response | None:
    missing = [name for name in required if not request_form.get(name)]
    if missing:
        return twilio_error(400, 21604 if "To" in missing else 21603, f"A '{missing[0]}' parameter is required.")
    return None


def _refused(to: str) -> Response | None:
    if not E164.fullmatch(to):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if to in REFUSED:
        code, message = REFUSED[to]
        return twilio_error(400, code, message)
    return None


def messaging_send_routes(state: SandboxState, callbacks: CallbackSender) -> list[Route]:
    def owns_number(account: Account, number: str, capability: str) -> bool:
        for n in account.numbers:
            if n.phone_number == number:
                return n.sms if capability == "sms" else n.voice
        return capability == "sms" and any(c.short_code == number for c in account.short_codes)

    async def create_message(request: Request, account: Account) -> Response:
        form = await _form(request)
        problem = _form_error(form, "To") or _form_error(form, "Body")
        if problem:
            return problem
        service_sid, from_number = form.get("MessagingServiceSid"), form.get("From")
        if service_sid:
            if service_sid not in {s.sid for s in account.messaging_services}:
                return twilio_error(400, 21701, f"The Messaging Service Sid {service_sid} is invalid.")
        elif not from_number:
            return twilio_error(400, 21603, "A 'From' phone number or a MessagingServiceSid is required.")
        elif not owns_number(account, from_number, "sms"):
            return twilio_error(
                400,
                21606,
                f"The From phone number {from_number} is not a valid, SMS-capable "
                "inbound phone number or short code for your account.",
            )
        refused = _refused(form["To"])
        if refused:
            return refused
        sid = new_sid("SM")
        entry = state.deliver(
            {
                "id": sid,
                "kind": "SMS",
                "accountSid": account.sid,
                "to": form["To"],
                "from": from_number,
                "messagingServiceSid": service_sid,
                "body": form["Body"],
                "status": "undelivered" if form["To"] in UNDELIVERED else "delivered",
            }
        )
        if form.get("StatusCallback"):
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": account.sid,
                "To": form["To"],
                "From": from_number or "+15005550006",
                "MessageStatus": entry["status"],
                "SmsStatus": entry["status"],
                "ApiVersion": "2010-04-01",
            }
            if service_sid:
                params["MessagingServiceSid"] = service_sid
            if form["To"] in UNDELIVERED:
                params["ErrorCode"] = UNDELIVERED[form["To"]]
            callbacks.schedule(form["StatusCallback"], params, account.auth_token)
        return JSONResponse(_message_json(account, sid, form, service_sid, from_number), status_code=201)

    async def create_call(request: Request, account: Account) -> Response:
        form = await _form(request)
        problem = _form_error(form, "To", "From")
        if problem:
            return problem
        if not form.get("Twiml") and not form.get("Url"):
            return twilio_error(400, 21205, "Either Url, Twiml or ApplicationSid is required.")
        if not owns_number(account, form["From"], "voice"):
            return twilio_error(
                400, 21210, f"The source phone number provided, {form['From']}, is not yet verified for your account."
            )
        if not E164.fullmatch(form["To"]) or form["To"] == "+15005550001":
            return twilio_error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
        sid = new_sid("CA")
        state.deliver(
            {
                "id": sid,
                "kind": "CALL",
                "accountSid": account.sid,
                "to": form["To"],
                "from": form["From"],
                "twiml": form.get("Twiml"),
                "body": form.get("Twiml") or form.get("Url"),
                "status": "completed",
            }
        )
        if form.get("StatusCallback"):
            callbacks.schedule(
                form["StatusCallback"],
                {
                    "CallSid": sid,
                    "AccountSid": account.sid,
                    "To": form["To"],
                    "From": form["From"],
                    "CallStatus": "completed",
                    "Direction": "outbound-api",
                    "ApiVersion": "2010-04-01",
                },
                account.auth_token,
            )
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": account.sid,
                "to": form["To"],
                "from": form["From"],
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account.sid}/Calls/{sid}.json",
            },
            status_code=201,
        )

    prefix = "/2010-04-01/Accounts/{account}"
    return [
        Route(prefix + "/Messages.json", twilio_endpoint(state, create_message), methods=["POST"]),
        Route(prefix + "/Calls.json", twilio_endpoint(state, create_call), methods=["POST"]),
    ]


def _message_json(
    account: Account, sid: str, form: dict[str, str], service_sid: str | None, from_number: str | None
) -> dict[str, Any]:
    now = rfc2822(iso_now())
    return {
        "sid": sid,
        "account_sid": account.sid,
        "messaging_service_sid": service_sid,
        "from": from_number,
        "to": form["To"],
        "body": form["Body"],
        "status": "accepted" if service_sid else "queued",
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "error_code": None,
        "error_message": None,
        "price": None,
        "price_unit": "USD",
        "api_version": "2010-04-01",
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "uri": f"/2010-04-01/Accounts/{account.sid}/Messages/{sid}.json",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account.sid}/Messages/{sid}/Media.json"},
    }


def verification_routes(state: SandboxState) -> list[Route]:
    async def create_verification(request: Request, account: Account) -> Response:
        service_sid = request.path_params["sid"]
        service = next((v for v in account.verify_services if v.sid == service_sid), None)
        if service is None:
            return twilio_error(404, 20404, f"The requested resource /Services/{service_sid} was not found")
        form = await _form(request)
        to, channel = form.get("To", ""), form.get("Channel", "")
        if channel not in ("sms", "call", "email", "whatsapp", "sna", "auto"):
            return twilio_error(400, 60200, "Invalid parameter: Channel")
        refused = _refused(to)
        if refused:
            return twilio_error(400, 60200, "Invalid parameter `To`")
        code = form.get("CustomCode") or f"{secrets.randbelow(10**6):06d}"
        sid = new_sid("VE")
        state.deliver(
            {
                "id": sid,
                "kind": "VERIFICATION",
                "accountSid": account.sid,
                "to": to,
                "from": service.friendly_name,
                "verifyServiceSid": service_sid,
                "channel": channel,
                "body": f"Your {service.friendly_name} verification code is: {code}",
                "status": "pending",
            }
        )
        return JSONResponse(
            {
                "sid": sid,
                "service_sid": service_sid,
                "account_sid": account.sid,
                "to": to,
                "channel": channel,
                "status": "pending",
                "valid": False,
                "lookup": {},
                "send_code_attempts": [{"channel": channel, "attempt_sid": new_sid("VL")}],
            },
            status_code=201,
        )

    return [Route("/v2/Services/{sid}/Verifications", twilio_endpoint(state, create_verification), methods=["POST"])]
