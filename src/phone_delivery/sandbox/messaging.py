"""Sending through the sandbox: Twilio Messages, Calls and Verify verifications, with Twilio's errors,
scripted numbers (``state.scripts``; Twilio's magic test numbers are scripted from the start), an
inbox of everything delivered, and signed status callbacks in Twilio's order.

A message goes ``queued`` (``accepted`` through a Messaging Service), ``sending``, ``sent``, then
``delivered``, or ``undelivered`` / ``failed`` with the script's error code; a call goes ``queued``,
``ringing``, ``in-progress``, ``completed`` (or ``busy``, ``no-answer``, ``failed``)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
import zlib
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.delivery.signatures import twilio_signature
from phone_delivery.sandbox import twilio_resources as resources
from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.state import Account, IncomingNumber, SandboxState, Verification, new_sid
from phone_delivery.sandbox.twilio_api import (
    ACCOUNT_PREFIX,
    ANY_METHOD,
    list_calls,
    list_messages,
    not_found,
    owned,
    twilio_endpoint,
    twilio_error,
)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
REFUSALS = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21214: "'To' phone number cannot be reached",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number via SMS.",
    21614: "'To' number is not a valid mobile number",
}
STEP_SECONDS = 0.02  # between two status changes (the final one waits a script's delay_ms too)
SHARED_FROM = "+15005550006"  # Twilio's magic "From": what a Messaging Service without numbers sends from
VERIFICATION_TTL_SECONDS = 600
MAX_CHECK_ATTEMPTS = 5
MAX_SEND_ATTEMPTS = 5
CALL_EVENTS = {"queued": "initiated", "ringing": "ringing", "in-progress": "answered"}


class CallbackSender:
    """Posts signed status callbacks from the sandbox (one client per event loop), one at a time
    per message so that they arrive in Twilio's order."""

    def __init__(self) -> None:
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, steps: Any) -> None:
        """Run a coroutine of status steps in the background (kept referenced until it ends)."""
        task = asyncio.get_running_loop().create_task(steps)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post(self, url: str, params: dict[str, str], auth_token: str) -> None:
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


async def _form_values(request: Request, name: str) -> list[str]:
    return [v for k, v in parse_qsl((await request.body()).decode(errors="replace")) if k == name]


def _form_error(request_form: dict[str, str], *required: str) -> Response | None:
    missing = [name for name in required if not request_form.get(name)]
    if missing:
        return twilio_error(400, 21604 if "To" in missing else 21603, f"A '{missing[0]}' parameter is required.")
    return None


def _refused(state: SandboxState, to: str) -> Response | None:
    if not E164.fullmatch(to):
        return twilio_error(400, 21211, REFUSALS[21211].format(to=to[:40]))
    code = state.script_for(to).refuse
    if code is not None:
        message = REFUSALS.get(code, "The message was refused ({code}).").format(to=to, code=code)
        return twilio_error(400, code, message)
    return None


def _pool_choice(pool: list[IncomingNumber], to: str) -> str:
    """Sticky sender: the same recipient gets the same number of the pool."""
    return pool[zlib.crc32(to.encode()) % len(pool)].phone_number


def messaging_send_routes(state: SandboxState, callbacks: CallbackSender) -> list[Route]:
    def sms_sender(account: Account, number: str) -> bool:
        for n in account.numbers:
            if n.phone_number == number:
                return n.sms
        return any(c.short_code == number for c in account.short_codes)

    async def create_message(request: Request, account: Account) -> Response:
        form = await _form(request)
        problem = _form_error(form, "To") or _form_error(form, "Body")
        if problem:
            return problem
        service_sid, from_number = form.get("MessagingServiceSid"), form.get("From")
        service = next((s for s in account.messaging_services if s.sid == service_sid), None)
        if service_sid and service is None:
            return twilio_error(400, 21701, f"The Messaging Service Sid {service_sid} is invalid.")
        if not service_sid and not from_number:
            return twilio_error(400, 21603, "A 'From' phone number or a MessagingServiceSid is required.")
        if not service_sid and from_number and not sms_sender(account, from_number):
            return twilio_error(
                400,
                21606,
                f"The From phone number {from_number} is not a valid, SMS-capable "
                "inbound phone number or short code for your account.",
            )
        refused = _refused(state, form["To"])
        if refused:
            return refused
        sid = new_sid("SM")
        message = resources.new_message(account, sid, form["To"], from_number, form["Body"], service_sid)
        state.keep_message(account, message)
        sender = from_number or (
            _pool_choice(service.sender_pool, form["To"]) if service and service.sender_pool else SHARED_FROM
        )
        state.deliver(
            {
                "id": sid,
                "kind": "SMS",
                "accountSid": account.sid,
                "to": form["To"],
                "from": sender,
                "messagingServiceSid": service_sid,
                "messagingServiceName": service.friendly_name if service else None,
                "body": form["Body"],
                "status": message["status"],
            }
        )
        answer = dict(message)
        callbacks.run(message_steps(account, message, sender, form.get("StatusCallback")))
        return JSONResponse(answer, status_code=201)

    async def message_steps(account: Account, message: dict[str, Any], sender: str, url: str | None) -> None:
        script = state.script_for(message["to"])
        final = script.outcome if script.outcome in ("delivered", "undelivered", "failed") else "delivered"
        steps = ["queued"] if message["status"] == "accepted" else []
        steps += ["sending", "sent", final]
        if url:
            await _post_message_status(account, message, sender, url)  # queued / accepted
        for status in steps:
            await asyncio.sleep(STEP_SECONDS + (script.delay_ms / 1000 if status == final else 0))
            changes: dict[str, Any] = {"status": status, "date_updated": resources.rfc2822(iso_now())}
            if status == "queued":
                changes["from"] = sender
            if status == "sent":
                changes["date_sent"] = changes["date_updated"]
            if status in ("undelivered", "failed"):
                changes["error_code"] = script.error_code or 30003
                changes["error_message"] = None
            message.update(changes)
            state.inbox.update(message["sid"], status=status, errorCode=changes.get("error_code"))
            if url:
                await _post_message_status(account, message, sender, url)

    async def _post_message_status(account: Account, message: dict[str, Any], sender: str, url: str) -> None:
        params = {
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "SmsMessageSid": message["sid"],
            "AccountSid": account.sid,
            "To": message["to"],
            "From": sender,
            "MessageStatus": message["status"],
            "SmsStatus": message["status"],
            "ApiVersion": resources.API_VERSION,
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if message["error_code"] is not None:
            params["ErrorCode"] = str(message["error_code"])
        await callbacks.post(url, params, account.auth_token)

    async def create_call(request: Request, account: Account) -> Response:
        form = await _form(request)
        problem = _form_error(form, "To", "From")
        if problem:
            return problem
        if not form.get("Twiml") and not form.get("Url"):
            return twilio_error(400, 21205, "Either Url, Twiml or ApplicationSid is required.")
        number = next((n for n in account.numbers if n.phone_number == form["From"] and n.voice), None)
        if number is None:
            return twilio_error(
                400, 21210, f"The source phone number provided, {form['From']}, is not yet verified for your account."
            )
        if not E164.fullmatch(form["To"]) or state.script_for(form["To"]).refuse == 21211:
            return twilio_error(400, 21211, REFUSALS[21211].format(to=form["To"][:40]))
        sid = new_sid("CA")
        call = resources.new_call(account, sid, form["To"], number)
        state.keep_message(account, call)
        state.deliver(
            {
                "id": sid,
                "kind": "CALL",
                "accountSid": account.sid,
                "to": form["To"],
                "from": form["From"],
                "twiml": form.get("Twiml"),
                "body": form.get("Twiml") or form.get("Url"),
                "status": "queued",
            }
        )
        events = await _form_values(request, "StatusCallbackEvent")
        answer = dict(call)
        callbacks.run(call_steps(account, call, form.get("StatusCallback"), events or ["completed"]))
        return JSONResponse(answer, status_code=201)

    async def call_steps(account: Account, call: dict[str, Any], url: str | None, events: list[str]) -> None:
        outcome = state.script_for(call["to"]).call_outcome
        final = outcome if outcome in ("completed", "busy", "no-answer", "failed") else "completed"
        steps = ["ringing", "in-progress", final] if final == "completed" else ["ringing", final]
        started = None
        if url and "initiated" in events:
            await _post_call_status(account, call, url)
        for status in steps:
            await asyncio.sleep(STEP_SECONDS)
            now = resources.rfc2822(iso_now())
            call.update(status=status, date_updated=now)
            if status == "in-progress":
                started = time.monotonic()
                call["start_time"] = now
            if status == final:
                call["end_time"] = now
                call["duration"] = str(round(time.monotonic() - started)) if started else "0"
            state.inbox.update(call["sid"], status=status)
            if url and CALL_EVENTS.get(status, "completed") in events:
                await _post_call_status(account, call, url)

    async def _post_call_status(account: Account, call: dict[str, Any], url: str) -> None:
        params = {
            "CallSid": call["sid"],
            "AccountSid": account.sid,
            "To": call["to"],
            "From": call["from"],
            "CallStatus": call["status"],
            "Direction": "outbound-api",
            "ApiVersion": resources.API_VERSION,
        }
        if call["duration"] is not None:
            params["CallDuration"] = call["duration"]
        await callbacks.post(url, params, account.auth_token)

    return [
        Route(
            ACCOUNT_PREFIX + "/Messages.json",
            twilio_endpoint(state, {"GET": owned(list_messages), "POST": owned(create_message)}),
            methods=ANY_METHOD,
        ),
        Route(
            ACCOUNT_PREFIX + "/Calls.json",
            twilio_endpoint(state, {"GET": owned(list_calls), "POST": owned(create_call)}),
            methods=ANY_METHOD,
        ),
    ]


def verification_routes(state: SandboxState) -> list[Route]:
    """Verify: verifications (create, fetch, cancel or approve) and verification checks."""

    def service_of(request: Request, account: Account) -> Any:
        sid = request.path_params["sid"]
        return next((v for v in account.verify_services if v.sid == sid), None)

    def base(request: Request) -> str:
        return str(request.url).split("/v2/")[0]

    def pending(account: Account, service_sid: str, to: str | None, sid: str | None) -> Verification | None:
        """The live verification of ``to`` (or ``sid``); one past its ten minutes expires here."""
        for verification in reversed(list(account.verifications.values())):
            if verification.service_sid != service_sid or verification.status != "pending":
                continue
            if (sid and verification.sid != sid) or (to and verification.to != to):
                continue
            if time.time() - verification.created > VERIFICATION_TTL_SECONDS:
                verification.status = "expired"
                continue
            return verification
        return None

    async def create_verification(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        form = await _form(request)
        to, channel = form.get("To", ""), form.get("Channel", "")
        if not to:
            return twilio_error(400, 60200, "Invalid parameter `To`")
        if channel not in ("sms", "call", "email", "whatsapp", "sna"):
            return twilio_error(400, 60200, "Invalid parameter: Channel")
        if channel in ("sms", "call", "whatsapp") and _refused(state, to):
            return twilio_error(400, 60200, "Invalid parameter `To`")
        custom = form.get("CustomCode")
        if custom is not None and not re.fullmatch(r"[0-9]{4,10}", custom):
            return twilio_error(400, 60200, "Invalid parameter: CustomCode")
        verification = pending(account, service.sid, to, None)
        if verification is None:
            code = custom or f"{secrets.randbelow(10**service.code_length):0{service.code_length}d}"
            verification = Verification(new_sid("VE"), service.sid, to, channel, code)
            account.verifications[verification.sid] = verification
        elif len(verification.send_code_attempts) >= MAX_SEND_ATTEMPTS:
            return twilio_error(429, 60203, "Max send attempts reached")
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
        return JSONResponse(resources.verification_resource(base(request), account, verification), status_code=201)

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
        return JSONResponse(resources.verification_resource(base(request), account, verification))

    async def update_verification(request: Request, account: Account) -> Response:
        verification = verification_of(request, account)
        if verification is None or verification.status != "pending":
            return not_found(request.url.path)
        status = (await _form(request)).get("Status")
        if status not in ("canceled", "approved"):
            return twilio_error(400, 60200, "Invalid parameter: Status")
        verification.status, verification.date_updated = status, iso_now()
        return JSONResponse(resources.verification_resource(base(request), account, verification))

    async def check(request: Request, account: Account) -> Response:
        service = service_of(request, account)
        if service is None:
            return not_found(f"/Services/{request.path_params['sid']}")
        form = await _form(request)
        to, sid, code = form.get("To"), form.get("VerificationSid"), form.get("Code")
        if not code or not (to or sid):
            return twilio_error(400, 60200, "Invalid parameter: Code, and To or VerificationSid, are required")
        verification = pending(account, service.sid, to, sid)
        if verification is None:
            return not_found(request.url.path)
        if verification.check_attempts >= MAX_CHECK_ATTEMPTS:
            return twilio_error(429, 60202, "Max check attempts reached")
        verification.check_attempts += 1
        verification.date_updated = iso_now()
        if secrets.compare_digest(code.encode(), verification.code.encode()):
            verification.status = "approved"
        return JSONResponse(resources.verification_check_resource(account, verification))

    prefix = "/v2/Services/{sid}"
    return [
        Route(prefix + "/Verifications", twilio_endpoint(state, {"POST": create_verification}), methods=ANY_METHOD),
        Route(
            prefix + "/Verifications/{ve}",
            twilio_endpoint(state, {"GET": fetch_verification, "POST": update_verification}),
            methods=ANY_METHOD,
        ),
        Route(prefix + "/VerificationCheck", twilio_endpoint(state, {"POST": check}), methods=ANY_METHOD),
    ]
