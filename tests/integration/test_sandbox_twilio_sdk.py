"""Twilio's official Python SDK against the sandbox over real HTTP: the everyday calls an application
makes, each answer validated against Twilio's own OpenAPI description (tests/twilio_contract.py)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from phone_delivery.sandbox import twilio_messages, twilio_verify
from tests.support import SandboxAdmin
from tests.twilio_contract import check_response

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class RecordingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, keeping every answer so that the test can check it against the spec."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.answers: list[tuple[str, str, int, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        assert urlsplit(url).hostname == "127.0.0.1", url  # never the real Twilio
        response = super().request(method, url, *args, **kwargs)
        self.answers.append((method, url, response.status_code, response.text))
        return response


@dataclass
class Sdk:
    client: Client
    http: RecordingHttpClient
    account: dict[str, Any]

    def checked(self) -> set[str]:
        """Validate every answer so far against Twilio's OpenAPI; the resource names checked."""
        names: set[str] = set()
        for method, url, status, text in self.http.answers:
            body = json.loads(text) if text else None
            names.update(check_response(urlsplit(url).path, method, status, body))
        return names


@pytest.fixture
def sdk(sandbox: SandboxAdmin) -> Iterator[Sdk]:
    account = sandbox.http.post(
        "/_admin/accounts",
        json={
            "friendlyName": "SDK test",
            "numbers": [
                {"phoneNumber": "+15017122661"},
                {"phoneNumber": "+15017122662", "voice": False},
                {"phoneNumber": "+15017122663", "sms": False},
            ],
            "messagingServices": [
                {"friendlyName": "Pool", "phoneNumbers": ["+15017122661", "+15017122662"]},
                "No numbers",
            ],
            "shortCodes": ["12345"],
            "verifyServices": [{"friendlyName": "Acme", "codeLength": 8}],
        },
    ).json()
    http = RecordingHttpClient()
    client = Client(account["accountSid"], account["authToken"], http_client=http, environment={})
    client.api.base_url = f"{sandbox.base}/twilio-api"
    client.messaging.base_url = f"{sandbox.base}/twilio-messaging"
    client.verify.base_url = f"{sandbox.base}/twilio-verify"
    yield Sdk(client, http, account)
    sandbox.http.delete("/_admin/scripts")


@dataclass
class CallbackReceiver:
    """Receives status callbacks on 127.0.0.1 and keeps them (form fields and signature)."""

    received: list[tuple[dict[str, str], str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/status"

    def start(self) -> CallbackReceiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                owner.received.append((dict(parse_qsl(body)), self.headers.get("X-Twilio-Signature", "")))
                self.send_response(204)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def statuses(self, key: str, sid: str, final: set[str], seconds: float = 10) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            seen = [p[key] for p, _ in self.received if sid in (p.get("MessageSid"), p.get("CallSid"))]
            if seen and seen[-1] in final:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"no final status for {sid}: {self.received}")


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver().start()
    yield server
    server.stop()


def wait_status(sdk: Sdk, sid: str, status: str, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = sdk.client.messages(sid).fetch()
        if message.status == status:
            return message
        time.sleep(0.02)
    raise AssertionError(f"{sid} never reached {status}")


def test_account_numbers_short_codes_and_services(sdk: Sdk) -> None:
    account = sdk.client.api.v2010.accounts(sdk.account["accountSid"]).fetch()
    assert (account.sid, account.status, account.friendly_name) == (sdk.account["accountSid"], "active", "SDK test")
    numbers = sdk.client.incoming_phone_numbers.list(page_size=2)  # two pages, followed by the SDK
    assert [n.phone_number for n in numbers] == ["+15017122661", "+15017122662", "+15017122663"]
    assert numbers[1].capabilities == {"voice": False, "sms": True, "mms": False, "fax": False}
    assert sdk.client.incoming_phone_numbers(numbers[2].sid).fetch().phone_number == "+15017122663"
    [code] = sdk.client.short_codes.list()
    assert sdk.client.short_codes(code.sid).fetch().short_code == "12345"
    services = sdk.client.messaging.v1.services.list()
    assert [s.friendly_name for s in services] == ["Pool", "No numbers"]
    pool = sdk.client.messaging.v1.services(services[0].sid).phone_numbers.list()
    assert [(p.phone_number, p.country_code) for p in pool] == [("+15017122661", "US"), ("+15017122662", "US")]
    assert sdk.client.messaging.v1.services(services[0].sid).phone_numbers(pool[0].sid).fetch().sid == pool[0].sid
    assert sdk.client.messaging.v1.services(services[1].sid).phone_numbers.list() == []
    checked = sdk.checked()
    assert {"IncomingPhoneNumbers", "ShortCodes", "PhoneNumbers"} <= {n.split("/")[-1].split(".")[0] for n in checked}


def test_messages_send_fetch_list_redact_delete(sdk: Sdk, receiver: CallbackReceiver) -> None:
    first = sdk.client.messages.create(
        to="+16285550101", from_="+15017122661", body="Code 111111", status_callback=receiver.url
    )
    second = sdk.client.messages.create(to="+16285550102", from_="+15017122661", body="Code 222222")
    third = sdk.client.messages.create(to="+16285550101", from_="12345", body="Code 333333")
    assert first.status == "queued" and first.direction == "outbound-api" and first.date_sent is None
    # No callback for the status a message is created with, as Twilio does; then every change in order.
    assert receiver.statuses("MessageStatus", first.sid, {"delivered"}) == ["sending", "sent", "delivered"]
    for sid in (first.sid, second.sid, third.sid):
        wait_status(sdk, sid, "delivered")
    fetched = sdk.client.messages(first.sid).fetch()
    assert (fetched.body, fetched.to, fetched.from_, fetched.error_code) == (
        "Code 111111",
        "+16285550101",
        "+15017122661",
        None,
    )
    assert fetched.date_sent is not None
    # Twilio lists newest first; filters by To, From and the day it was sent; pages as Twilio pages.
    assert [m.sid for m in sdk.client.messages.list(to="+16285550101")] == [third.sid, first.sid]
    assert [m.sid for m in sdk.client.messages.list(from_="12345")] == [third.sid]
    today = dt.datetime.now(dt.UTC).date()
    assert len(sdk.client.messages.list(date_sent=today)) == 3
    assert sdk.client.messages.list(date_sent_before=today - dt.timedelta(days=1)) == []
    assert len(sdk.client.messages.list(date_sent_after=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))) == 3
    assert [m.sid for m in sdk.client.messages.list(page_size=1)] == [third.sid, second.sid, first.sid]
    assert len(sdk.client.messages.list(limit=2)) == 2
    # Redact, then delete.
    assert sdk.client.messages(first.sid).update(body="").body == ""
    assert sdk.client.messages(first.sid).fetch().body == ""
    with pytest.raises(TwilioRestException) as refused:
        sdk.client.messages(second.sid).update(status="canceled")
    assert refused.value.code == 30409
    assert sdk.client.messages(second.sid).delete() is True
    with pytest.raises(TwilioRestException) as gone:
        sdk.client.messages(second.sid).fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)
    signature_ok = RequestValidator(sdk.account["authToken"])
    assert all(signature_ok.validate(receiver.url, params, sig) for params, sig in receiver.received)
    assert "Messages" in " ".join(sdk.checked())


def test_a_messaging_service_sends_from_its_pool_stickily(
    sdk: Sdk, receiver: CallbackReceiver, sandbox: SandboxAdmin
) -> None:
    pool, empty = sdk.client.messaging.v1.services.list()
    sent = [
        sdk.client.messages.create(to=to, messaging_service_sid=pool.sid, body="hi", status_callback=receiver.url)
        for to in ("+16285550111", "+16285550111", "+16285550112", "+16285550113", "+16285550114")
    ]
    assert sent[0].status == "accepted" and sent[0].from_ is None  # as Twilio: chosen after accepting
    assert receiver.statuses("MessageStatus", sent[0].sid, {"delivered"}) == ["queued", "sending", "sent", "delivered"]
    froms = [wait_status(sdk, m.sid, "delivered").from_ for m in sent]
    assert set(froms) <= {"+15017122661", "+15017122662"} and froms[0] == froms[1]
    callback_from = {p["From"] for p, _ in receiver.received if p["MessageSid"] == sent[0].sid}
    assert callback_from == {froms[0]}
    shared = sdk.client.messages.create(to="+16285550115", messaging_service_sid=empty.sid, body="hi")
    assert wait_status(sdk, shared.sid, "delivered").from_ == twilio_messages.SHARED_FROM
    inbox = sandbox.http.get("/_admin/inbox", params={"to": "+16285550111"}).json()["messages"]
    assert {m["messagingServiceName"] for m in inbox} == {"Pool"}
    sdk.checked()


def test_scripted_numbers(sdk: Sdk, sandbox: SandboxAdmin, receiver: CallbackReceiver) -> None:
    scripts = [
        {"phoneNumber": "+16285550121", "outcome": "undelivered", "errorCode": 30005},
        {"phoneNumber": "+16285550122", "refuse": 21610},
        {"phoneNumber": "+16285550123", "delayMs": 800},
        {"phoneNumber": "+16285550124", "outcome": "failed", "errorCode": 30008, "callOutcome": "busy"},
    ]
    for script in scripts:
        assert sandbox.http.post("/_admin/scripts", json=script).status_code == 201
    gone = sdk.client.messages.create(to="+16285550121", from_="+15017122661", body="x", status_callback=receiver.url)
    assert receiver.statuses("MessageStatus", gone.sid, {"undelivered"})[-2:] == ["sent", "undelivered"]
    final = [p for p, _ in receiver.received if p["MessageSid"] == gone.sid][-1]
    assert final["ErrorCode"] == "30005"
    assert wait_status(sdk, gone.sid, "undelivered").error_code == 30005
    with pytest.raises(TwilioRestException) as refused:
        sdk.client.messages.create(to="+16285550122", from_="+15017122661", body="x")
    assert (refused.value.status, refused.value.code) == (400, 21610)
    slow = sdk.client.messages.create(to="+16285550123", from_="+15017122661", body="x")
    assert wait_status(sdk, slow.sid, "sent").status == "sent"
    time.sleep(0.3)
    assert sdk.client.messages(slow.sid).fetch().status == "sent"  # still on its way
    wait_status(sdk, slow.sid, "delivered")
    call = sdk.client.calls.create(
        to="+16285550124",
        from_="+15017122661",
        twiml="<Response><Say>Hi</Say></Response>",
        status_callback=receiver.url,
    )
    assert receiver.statuses("CallStatus", call.sid, {"busy"}) == ["busy"]  # only "completed" events asked for
    defaulted = sandbox.http.post("/_admin/scripts", json={"phoneNumber": "+16285550126", "outcome": "undelivered"})
    assert defaulted.json()["errorCode"] == 30003  # what the message will carry, shown
    listed = sandbox.http.get("/_admin/scripts").json()["scripts"]
    assert {"phoneNumber": "+15005550004", "refuse": 21610}.items() <= next(
        s for s in listed if s["phoneNumber"] == "+15005550004"
    ).items()
    assert sandbox.http.post("/_admin/scripts", json={"phoneNumber": "nope"}).status_code == 400
    assert (
        sandbox.http.post("/_admin/scripts", json={"phoneNumber": "+16285550125", "outcome": "lost"}).status_code == 400
    )
    sdk.checked()


def test_calls_create_list_fetch_and_events(sdk: Sdk, receiver: CallbackReceiver) -> None:
    call = sdk.client.calls.create(
        to="+16285550131",
        from_="+15017122661",
        twiml="<Response><Say>Your code is 1 2 3</Say></Response>",
        status_callback=receiver.url,
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    assert call.status == "queued" and call.to_formatted == "(628) 555-0131"
    assert receiver.statuses("CallStatus", call.sid, {"completed"}) == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    fetched = sdk.client.calls(call.sid).fetch()
    assert fetched.status == "completed" and fetched.end_time is not None
    assert [c.sid for c in sdk.client.calls.list(to="+16285550131")] == [call.sid]
    assert sdk.client.calls.list(status="busy") == []
    with pytest.raises(TwilioRestException) as no_voice:
        sdk.client.calls.create(to="+16285550131", from_="+15017122662", twiml="<Response/>")
    assert no_voice.value.code == 21210
    assert "Calls" in " ".join(sdk.checked())


def test_verify_verification_and_check(sdk: Sdk, sandbox: SandboxAdmin, monkeypatch: pytest.MonkeyPatch) -> None:
    [service_sid] = [s["sid"] for s in sdk.account["verifyServices"]]
    service = sdk.client.verify.v2.services(service_sid)
    assert service.fetch().code_length == 8
    started = service.verifications.create(to="+16285550141", channel="sms")
    assert (started.status, started.valid, len(started.send_code_attempts)) == ("pending", False, 1)
    [delivered] = sandbox.http.get("/_admin/inbox", params={"to": "+16285550141"}).json()["messages"]
    code = delivered["code"]
    assert len(code) == 8 and code in delivered["body"] and delivered["channel"] == "sms"
    again = service.verifications.create(to="+16285550141", channel="call")  # a resend: the same verification
    assert again.sid == started.sid and len(again.send_code_attempts) == 2
    assert service.verifications(started.sid).fetch().status == "pending"
    wrong = service.verification_checks.create(to="+16285550141", code="00000000")
    assert (wrong.status, wrong.valid) == ("pending", False)
    right = service.verification_checks.create(verification_sid=started.sid, code=code)
    assert (right.status, right.valid) == ("approved", True)
    statuses = [
        m["status"] for m in sandbox.http.get("/_admin/inbox", params={"to": "+16285550141"}).json()["messages"]
    ]
    assert statuses == ["approved", "approved"]  # both sends of the verification, in the inbox too
    with pytest.raises(TwilioRestException) as used:
        service.verification_checks.create(to="+16285550141", code=code)
    assert (used.value.status, used.value.code) == (404, 20404)
    # Five wrong codes, then Twilio's 60202; five sends, then 60203.
    service.verifications.create(to="+16285550142", channel="sms")
    for _ in range(5):
        service.verification_checks.create(to="+16285550142", code="12345678")
    with pytest.raises(TwilioRestException) as checks:
        service.verification_checks.create(to="+16285550142", code="12345678")
    assert (checks.value.status, checks.value.code) == (429, 60202)
    for _ in range(4):
        service.verifications.create(to="+16285550142", channel="sms")
    with pytest.raises(TwilioRestException) as sends:
        service.verifications.create(to="+16285550142", channel="sms")
    assert sends.value.code == 60203
    canceled = service.verifications.create(to="+16285550144", channel="sms")
    assert service.verifications(canceled.sid).update(status="canceled").status == "canceled"
    # Ten minutes later the code no longer works.
    late = service.verifications.create(to="+16285550143", channel="sms")
    late_code = sandbox.http.get("/_admin/inbox", params={"to": "+16285550143"}).json()["messages"][0]["code"]
    monkeypatch.setattr(twilio_verify, "VERIFICATION_TTL_SECONDS", 0)
    time.sleep(0.01)
    with pytest.raises(TwilioRestException) as expired:
        service.verification_checks.create(to="+16285550143", code=late_code)
    assert expired.value.status == 404
    with pytest.raises(TwilioRestException) as gone:
        service.verifications(late.sid).fetch()
    assert (gone.value.status, gone.value.code) == (404, 20404)
    assert "Verifications" in " ".join(sdk.checked()) and "VerificationCheck" in " ".join(sdk.checked())


def test_errors_are_twilios_json(sdk: Sdk, sandbox: SandboxAdmin) -> None:
    auth = (sdk.account["accountSid"], sdk.account["authToken"])
    base = f"{sandbox.base}/twilio-api/2010-04-01/Accounts/{sdk.account['accountSid']}"
    answers = {
        "unknown route": httpx.get(f"{base}/Nothing.json", auth=auth),
        "wrong method": httpx.put(f"{base}/Messages.json", auth=auth),
        "delete a list": httpx.delete(f"{sandbox.base}/twilio-messaging/v1/Services", auth=auth),
        "unknown message": httpx.get(f"{base}/Messages/SM{'0' * 32}.json", auth=auth),
        "no credentials": httpx.get(f"{base}.json"),
        "another account": httpx.get(f"{sandbox.base}/twilio-api/2010-04-01/Accounts/AC{'1' * 32}.json", auth=auth),
        "bad date filter": httpx.get(f"{base}/Messages.json", params={"DateSent": "yesterday"}, auth=auth),
    }
    expected = {
        "unknown route": (404, 20404),
        "wrong method": (405, 20004),
        "delete a list": (405, 20004),
        "unknown message": (404, 20404),
        "no credentials": (401, 20003),
        "another account": (401, 20003),
        "bad date filter": (400, 20001),
    }
    for name, response in answers.items():
        body = response.json()
        assert (response.status_code, body["code"]) == expected[name], (name, body)
        check_response(urlsplit(str(response.url)).path, response.request.method, response.status_code, body)
    wrong = Client(sdk.account["accountSid"], "wrong", http_client=sdk.http, environment={})
    wrong.api.base_url = sdk.client.api.base_url
    with pytest.raises(TwilioRestException) as refused:
        wrong.api.v2010.accounts(sdk.account["accountSid"]).fetch()
    assert (refused.value.status, refused.value.code) == (401, 20003)
    with pytest.raises(TwilioException) as listed:  # lists report errors as a plain TwilioException
        wrong.incoming_phone_numbers.list()
    assert type(listed.value) is TwilioException and listed.value.args[1].status_code == 401
