"""Messages and Calls (the 2010 API): send, list, fetch, update, delete, with scripted numbers
(``state.scripts``), status changes on their own schedule, and signed status callbacks in Twilio's
order.

A message goes ``queued`` (``accepted`` then ``queued`` through a Messaging Service; ``scheduled``
first when sent with ``SendAt``), ``sending``, ``sent``, then ``delivered`` or ``undelivered``; one
scripted ``failed`` goes from ``queued`` straight to ``failed`` (it never reached a carrier). A call
goes ``queued``, ``ringing``, ``in-progress``, ``completed`` (or ``busy``, ``no-answer``, ``failed``).
As Twilio does, no callback is posted for the status a resource is created with."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import zlib
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.delivery.signatures import twilio_signature
from phone_delivery.sandbox import twilio_resources as resources
from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.state import DEFAULT_ERROR_CODES, Account, IncomingNumber, SandboxState
from phone_delivery.sandbox.twilio_http import (
    E164,
    form,
    form_pairs,
    not_found,
    twilio_error,
    twilio_route,
    v2010_page,
)

STEP_SECONDS = 0.02  # between two status changes (the final one waits a script's delay_ms too)
SHARED_FROM = "+15005550006"  # what a Messaging Service without numbers sends from
MAX_BODY_CHARACTERS = 1600
MAX_CALLBACK_URL = 4000
CALLBACK_SECONDS = 10  # a callback that takes longer (a receiver that trickles) is given up
MAX_SCHEDULE = timedelta(days=35)
CALL_EVENTS = {"queued": "initiated", "ringing": "ringing", "in-progress": "answered"}
FINAL_MESSAGE_STATUSES = {"delivered", "undelivered", "failed", "read", "canceled", "received"}
Steps = Callable[[], Coroutine[Any, Any, None]]


class CallbackSender:
    """Posts the signed status callbacks of one resource, one at a time and in order, while its
    status moves on regardless of how the receiver behaves. Background work is kept referenced."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def queue(self, url: str | None, auth_token: str) -> asyncio.Queue[dict[str, str] | None] | None:
        """A queue whose parameters are posted to ``url`` in order; put None to end it."""
        if not url:
            return None
        pending: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
        self.run(self._post_all(url, auth_token, pending))
        return pending

    async def _post_all(self, url: str, auth_token: str, pending: asyncio.Queue[dict[str, str] | None]) -> None:
        async with httpx.AsyncClient(timeout=CALLBACK_SECONDS, trust_env=False) as client:
            while (params := await pending.get()) is not None:
                headers = {"X-Twilio-Signature": twilio_signature(auth_token, url, params.items())}
                # Like Twilio, the sandbox does not retry a failed callback.
                with contextlib.suppress(httpx.HTTPError, OSError, ValueError, TimeoutError):
                    async with asyncio.timeout(CALLBACK_SECONDS):
                        await client.post(url, data=params, headers=headers)


def bad_callback_url(url: str | None) -> bool:
    if url is None:
        return False
    if len(url) > MAX_CALLBACK_URL or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return True
    try:
        parts = urlsplit(url)
        return parts.scheme not in ("http", "https") or not parts.hostname or parts.port == 0
    except ValueError:  # a bad port or IPv6 literal
        return True


def _pool_choice(pool: list[IncomingNumber], to: str) -> str:
    """Sticky sender: the same recipient gets the same number of the pool."""
    return pool[zlib.crc32(to.encode()) % len(pool)].phone_number


def refusal(state: SandboxState, to: str) -> Response | None:
    """Twilio's error for a recipient that is not a number, or whose script refuses it."""
    if not E164.fullmatch(to):
        return twilio_error(400, 21211, to=to)
    code = state.script_for(to).refuse
    return twilio_error(400, code, to=to) if code is not None else None


def _when(value: str) -> datetime | None:
    """A date filter as the SDK writes it: ``YYYY-MM-DD`` or ISO 8601 (``...T12:00:00Z``)."""
    for layout in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _date_filter(request: Request, name: str, field: str) -> Callable[[dict[str, Any]], bool] | Response:
    """``name``, ``name<`` and ``name>`` (a day, or a time) on the resource's RFC 2822 ``field``."""
    bounds: dict[str, datetime] = {}
    for suffix in ("", "<", ">"):
        raw = request.query_params.get(name + suffix)
        if raw is not None:
            when = _when(raw)
            if when is None:
                return twilio_error(400, 20001, value=f"{name}{suffix}")
            bounds[suffix] = when

    def keep(resource: dict[str, Any]) -> bool:
        if not bounds:
            return True
        if not resource.get(field):
            return False
        at = datetime.strptime(resource[field], "%a, %d %b %Y %H:%M:%S %z")
        same = {suffix: at.date() == bound.date() for suffix, bound in bounds.items()}
        return (
            same.get("", True)
            and ("<" not in bounds or at <= bounds["<"] or same["<"])
            and (">" not in bounds or at >= bounds[">"] or same[">"])
        )

    return keep


def _newest_first(request: Request, records: dict[str, dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
    """Twilio lists messages and calls newest first; ``fields`` are exact-match query filters."""
    wanted = {f: request.query_params[f] for f in fields if f in request.query_params}
    keys = {"To": "to", "From": "from", "Status": "status"}
    return [dict(r) for r in reversed(list(records.values())) if all(r[keys[f]] == v for f, v in wanted.items())]


def message_routes(state: SandboxState, callbacks: CallbackSender) -> list[Route]:
    def sms_sender(account: Account, number: str) -> bool:
        for n in account.numbers:
            if n.phone_number == number:
                return n.sms
        return any(c.short_code == number for c in account.short_codes)

    async def create_message(request: Request, account: Account) -> Response:
        values = await form(request)
        to, body = values.get("To"), values.get("Body")
        if not to:
            return twilio_error(400, 21604)
        if not body:
            return twilio_error(400, 21602)
        if len(body) > MAX_BODY_CHARACTERS:
            return twilio_error(400, 21617)
        service_sid, from_number = values.get("MessagingServiceSid"), values.get("From")
        service = next((s for s in account.messaging_services if s.sid == service_sid), None)
        if service_sid and service is None:
            return twilio_error(400, 21701, value=service_sid)
        if not service_sid and not from_number:
            return twilio_error(400, 21603)
        if not service_sid and from_number and not sms_sender(account, from_number):
            return twilio_error(400, 21606, value=from_number)
        if bad_callback_url(values.get("StatusCallback")):
            return twilio_error(400, 21609, value=values.get("StatusCallback", ""))
        send_at = None
        if values.get("ScheduleType") == "fixed" or values.get("SendAt"):
            send_at = _when(values.get("SendAt", ""))
            now = datetime.now(tz=UTC)
            if service is None or send_at is None or not now < send_at <= now + MAX_SCHEDULE:
                return twilio_error(400, 35111)
        refused = refusal(state, to)
        if refused:
            return refused
        message = resources.new_message(account, to, from_number, body, service_sid)
        if send_at is not None:
            message["status"] = "scheduled"
        state.keep_resource(account, message)
        sender = from_number or (
            _pool_choice(service.sender_pool, to) if service and service.sender_pool else SHARED_FROM
        )
        state.deliver(
            {
                "id": message["sid"],
                "kind": "SMS",
                "accountSid": account.sid,
                "to": to,
                "from": sender,
                "messagingServiceSid": service_sid,
                "messagingServiceName": service.friendly_name if service else None,
                "body": body,
                "status": message["status"],
            }
        )
        answer = dict(message)
        posts = callbacks.queue(values.get("StatusCallback"), account.auth_token)
        callbacks.run(message_steps(account, message, sender, send_at, posts))
        return JSONResponse(answer, status_code=201)

    async def message_steps(
        account: Account,
        message: dict[str, Any],
        sender: str,
        send_at: datetime | None,
        posts: asyncio.Queue[dict[str, str] | None] | None,
    ) -> None:
        script = state.script_for(message["to"])
        if send_at is not None:
            await asyncio.sleep(max(0.0, (send_at - datetime.now(tz=UTC)).total_seconds()))
        steps = [] if message["status"] == "queued" else ["queued"]
        steps += ["failed"] if script.outcome == "failed" else ["sending", "sent", script.outcome]
        try:
            for status in steps:
                final = status in FINAL_MESSAGE_STATUSES
                await asyncio.sleep(STEP_SECONDS + (script.delay_ms / 1000 if final else 0))
                if message["status"] == "canceled":
                    return
                changes: dict[str, Any] = {"status": status, "date_updated": resources.rfc2822(iso_now())}
                if status == "queued":
                    changes.update({"from": sender, "num_segments": resources.segments(message["body"])})
                if status == "sent":
                    changes["date_sent"] = changes["date_updated"]
                if status in ("undelivered", "failed"):
                    changes["error_code"] = script.error_code or DEFAULT_ERROR_CODES[status]
                message.update(changes)
                state.inbox.update(message["sid"], status=status, errorCode=changes.get("error_code"))
                if posts is not None:
                    posts.put_nowait(_message_status(account, message, sender))
        finally:
            if posts is not None:
                posts.put_nowait(None)

    def _message_status(account: Account, message: dict[str, Any], sender: str) -> dict[str, str]:
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
        return params

    async def list_messages(request: Request, account: Account) -> Response:
        keep = _date_filter(request, "DateSent", "date_sent")
        if isinstance(keep, Response):
            return keep
        items = [m for m in _newest_first(request, account.messages, "To", "From") if keep(m)]
        return v2010_page(request, "messages", items)

    def message_of(request: Request, account: Account) -> dict[str, Any] | None:
        return account.messages.get(request.path_params["sid"])

    async def fetch_message(request: Request, account: Account) -> Response:
        message = message_of(request, account)
        return JSONResponse(dict(message)) if message else not_found(request.url.path)

    async def update_message(request: Request, account: Account) -> Response:
        message = message_of(request, account)
        if message is None:
            return not_found(request.url.path)
        values = await form(request)
        if "Status" in values:
            if values["Status"] != "canceled":
                return twilio_error(400, 20001, value="Status")
            if message["status"] != "scheduled":
                return twilio_error(400, 30409)
            message["status"] = "canceled"
            state.inbox.update(message["sid"], status="canceled")
        if "Body" in values:
            if values["Body"] != "":
                return twilio_error(400, 20001, value="Body (only an empty Body, to redact)")
            if message["status"] not in FINAL_MESSAGE_STATUSES:
                return twilio_error(400, 20009, value="redact")
            message["body"] = ""
            state.inbox.update(message["sid"], body="", redacted=True)
        message["date_updated"] = resources.rfc2822(iso_now())
        return JSONResponse(dict(message))

    async def delete_message(request: Request, account: Account) -> Response:
        message = message_of(request, account)
        if message is None:
            return not_found(request.url.path)
        if message["status"] not in FINAL_MESSAGE_STATUSES:
            return twilio_error(409, 20009, value="delete")
        state.forget_resource(account, message["sid"])
        return Response(status_code=204)

    async def create_call(request: Request, account: Account) -> Response:
        values = await form(request)
        if not values.get("To"):
            return twilio_error(400, 21604)
        if not values.get("From"):
            return twilio_error(400, 21603)
        if not values.get("Twiml") and not values.get("Url"):
            return twilio_error(400, 21205)
        number = next((n for n in account.numbers if n.phone_number == values["From"] and n.voice), None)
        if number is None:
            return twilio_error(400, 21210, value=values["From"])
        if not E164.fullmatch(values["To"]) or state.script_for(values["To"]).refuse == 21211:
            return twilio_error(400, 21211, to=values["To"])
        if bad_callback_url(values.get("StatusCallback")):
            return twilio_error(400, 21609, value=values.get("StatusCallback", ""))
        call = resources.new_call(account, values["To"], number)
        state.keep_resource(account, call)
        state.deliver(
            {
                "id": call["sid"],
                "kind": "CALL",
                "accountSid": account.sid,
                "to": values["To"],
                "from": values["From"],
                "twiml": values.get("Twiml"),
                "body": values.get("Twiml") or values.get("Url"),
                "status": "queued",
            }
        )
        events = [v for k, v in await form_pairs(request) if k == "StatusCallbackEvent"] or ["completed"]
        answer = dict(call)
        posts = callbacks.queue(values.get("StatusCallback"), account.auth_token)
        callbacks.run(call_steps(account, call, events, posts))
        return JSONResponse(answer, status_code=201)

    async def call_steps(
        account: Account, call: dict[str, Any], events: list[str], posts: asyncio.Queue[dict[str, str] | None] | None
    ) -> None:
        outcome = state.script_for(call["to"]).call_outcome
        steps = ["ringing", "in-progress", "completed"] if outcome == "completed" else ["ringing", outcome]
        started = None
        try:
            if posts is not None and "initiated" in events:
                posts.put_nowait({**_call_status(account, call), "CallStatus": "initiated"})
            for status in steps:
                await asyncio.sleep(STEP_SECONDS)
                now = resources.rfc2822(iso_now())
                call.update(status=status, date_updated=now)
                if status == "in-progress":
                    started, call["start_time"] = time.monotonic(), now
                if status == steps[-1]:
                    call["end_time"] = now
                    call["duration"] = str(round(time.monotonic() - started)) if started else "0"
                state.inbox.update(call["sid"], status=status)
                if posts is not None and CALL_EVENTS.get(status, "completed") in events:
                    posts.put_nowait(_call_status(account, call))
        finally:
            if posts is not None:
                posts.put_nowait(None)

    def _call_status(account: Account, call: dict[str, Any]) -> dict[str, str]:
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
        return params

    async def list_calls(request: Request, account: Account) -> Response:
        started = _date_filter(request, "StartTime", "start_time")
        ended = _date_filter(request, "EndTime", "end_time")
        for problem in (started, ended):
            if isinstance(problem, Response):
                return problem
        assert not isinstance(started, Response) and not isinstance(ended, Response)
        calls = _newest_first(request, account.calls, "To", "From", "Status")
        return v2010_page(request, "calls", [c for c in calls if started(c) and ended(c)])

    async def fetch_call(request: Request, account: Account) -> Response:
        call = account.calls.get(request.path_params["sid"])
        return JSONResponse(dict(call)) if call else not_found(request.url.path)

    route = functools.partial(twilio_route, state, account_path=True)

    return [
        route("/Messages.json", GET=list_messages, POST=create_message),
        route("/Messages/{sid}.json", GET=fetch_message, POST=update_message, DELETE=delete_message),
        route("/Calls.json", GET=list_calls, POST=create_call),
        route("/Calls/{sid}.json", GET=fetch_call),
    ]
