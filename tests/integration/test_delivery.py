"""Delivery over real HTTP through the sandbox: chains, retries, recipient errors, voice, custom
gateways, status callbacks, idempotency."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from phone_delivery.delivery.signatures import twilio_signature
from tests.conftest import Stack
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail, wait_final

NUMBERS = [
    {"phoneNumber": "+15005550006", "sms": True, "voice": True},
    {"phoneNumber": "+18005550100", "sms": True, "voice": True},
]


def messaging_sender(
    api: Api, env: str, sandbox: SandboxAdmin, name: str = "ms"
) -> tuple[dict[str, Any], dict[str, Any]]:
    account = sandbox.account(services=2)
    sender = api.post(
        api.senders_path(env),
        json={
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            "name": name,
            "sid": account["accountSid"],
            "authToken": account["authToken"],
        },
    ).json()
    chosen = sender["messagingServices"][1]["messagingServiceId"]
    services = [{**s, "selected": s["messagingServiceId"] == chosen} for s in sender["messagingServices"]]
    response = api.put(
        api.senders_path(env, sender["id"]),
        json={**sender, "authToken": account["authToken"], "messagingServices": services},
    )
    assert response.status_code == 200, response.text
    return response.json(), account


def numbers_sender(api: Api, env: str, sandbox: SandboxAdmin) -> tuple[dict[str, Any], dict[str, Any]]:
    account = sandbox.http.post("/_admin/accounts", json={"numbers": NUMBERS}).json()
    sender = api.post(
        api.senders_path(env),
        json={"provider": "CUSTOM_TWILIO", "sid": account["accountSid"], "authToken": account["authToken"]},
    ).json()
    numbers = [{**n, "selected": n["type"] == "PHONE_NUMBER"} for n in sender["numbers"]]
    response = api.put(
        api.senders_path(env, sender["id"]), json={**sender, "authToken": account["authToken"], "numbers": numbers}
    )
    assert response.status_code == 200, response.text
    return response.json(), account


def chain(api: Api, env: str, *entries: str) -> None:
    response = api.put(
        f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": list(entries)}
    )
    assert response.status_code == 200, response.text


def send(api: Api, env: str, to: str = "+14155552671", method: str = "SMS", **extra: Any) -> httpx.Response:
    body = {"deliveryMethod": method, "to": to, "message": "Your code is 123456", "otp": "123456", **extra}
    headers = extra.pop("headers", {}) if "headers" in extra else {}
    return api.post(f"/v1/environments/{env}/notifications", json=body, headers=headers)


def inbox(sandbox: SandboxAdmin, to: str) -> list[dict[str, Any]]:
    return list(sandbox.http.get("/_admin/inbox", params={"to": to}).json()["messages"])


# Exchanges of San Francisco's area code that libphonenumber takes as valid numbers, but not those
# of tests that count every message to their own fixed numbers in the shared inbox: 555 (+14155552671,
# +1415555NNNN) and the separate-worker tests' 200, 300 and 400 (test_workers_postgres.accept_many).
_EXCHANGES = [exchange for exchange in range(200, 1000) if exchange not in (200, 300, 400, 555)]


def unique_number() -> str:
    """A number no other test of the session sends to (the sandbox's inbox is shared): one of
    7.9 million, so that two of the session's few hundred draws almost never meet (with 10,000 they
    did, and a test that expected an empty inbox for its number found another test's message)."""
    draw = uuid.uuid4().int
    return f"+1415{_EXCHANGES[draw % len(_EXCHANGES)]}{draw // len(_EXCHANGES) % 10000:04d}"


def test_sms_through_the_selected_messaging_service(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, account = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    to = unique_number()
    accepted = send(admin_api, env, to=to)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "QUEUED"
    done = wait_final(admin_api, env, accepted.json()["id"], ("DELIVERED",))
    assert done["sender"] == {"id": sender["id"], "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE"}
    assert done["providerMessageId"].startswith("SM")
    assert [a["outcome"] for a in done["attempts"]] == ["SENT"]
    [message] = inbox(sandbox, to)
    selected = next(s for s in sender["messagingServices"] if s["selected"])["messagingServiceId"]
    assert message["messagingServiceSid"] == selected
    assert message["body"] == "Your code is 123456"
    assert message["accountSid"] == account["accountSid"]
    assert "123456" not in accepted.text + admin_api.get(f"/v1/environments/{env}/notifications/{done['id']}").text


def test_default_chain_is_pingone_twilio(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    to = unique_number()
    done = wait_final(admin_api, env, send(admin_api, env, to=to).json()["id"], ("DELIVERED",))
    assert done["sender"] == {"id": "PINGONE_TWILIO", "provider": "PINGONE_TWILIO"}
    assert inbox(sandbox, to)[0]["accountSid"] == stack.platform_account


def test_failover_after_retries_run_out(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    first, account1 = messaging_sender(admin_api, env, sandbox, "first")
    second, account2 = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, first["id"], second["id"])
    sandbox.fault(count=3, status=503, code=20503, pathContains="/Messages.json", accountSid=account1["accountSid"])
    to = unique_number()
    done = wait_final(admin_api, env, send(admin_api, env, to=to).json()["id"], ("SENT", "DELIVERED"))
    assert [(a["sender"]["id"], a["outcome"]) for a in done["attempts"]] == [
        (first["id"], "FAILED_TRANSIENT"),
        (first["id"], "FAILED_TRANSIENT"),
        (first["id"], "FAILED_TRANSIENT"),
        (second["id"], "SENT"),
    ]
    assert done["attempts"][0]["errorCode"] == "20503"
    assert done["sender"]["id"] == second["id"]
    [message] = inbox(sandbox, to)
    assert message["from"] == "+15005550006"
    assert message["accountSid"] == account2["accountSid"]


def test_recipient_error_fails_at_once_without_failover(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    first, _ = messaging_sender(admin_api, env, sandbox, "first")
    second, _ = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, first["id"], second["id"])
    done = wait_final(admin_api, env, send(admin_api, env, to="+15005550009").json()["id"])
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == "21614"
    assert [(a["sender"]["id"], a["outcome"]) for a in done["attempts"]] == [(first["id"], "FAILED_RECIPIENT")]


def test_sender_failure_moves_on_at_once(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.account(services=1)
    unselected = admin_api.post(
        admin_api.senders_path(env),
        json={
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            "name": "nothing selected",
            "sid": account["accountSid"],
            "authToken": account["authToken"],
        },
    ).json()
    second, _ = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, unselected["id"], second["id"])
    done = wait_final(admin_api, env, send(admin_api, env).json()["id"], ("SENT", "DELIVERED"))
    assert [a["outcome"] for a in done["attempts"]] == ["FAILED_SENDER", "SENT"]
    assert "No Messaging Service is selected" in done["attempts"][0]["errorMessage"]


def test_retry_after_is_honoured(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, account = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    sandbox.fault(
        count=1, status=429, code=20429, retryAfter=1, pathContains="/Messages.json", accountSid=account["accountSid"]
    )
    done = wait_final(admin_api, env, send(admin_api, env).json()["id"], ("SENT", "DELIVERED"))
    first, second = done["attempts"]
    assert first["outcome"] == "FAILED_TRANSIENT"
    assert first["errorCode"] == "20429"
    waited = datetime.fromisoformat(second["startedAt"]) - datetime.fromisoformat(first["finishedAt"])
    assert waited.total_seconds() >= 0.95  # test retry delays are 20-100 ms; Retry-After says 1 s


def test_every_sender_failing_ends_failed(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, account = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    sandbox.fault(count=3, status=500, code=20500, pathContains="/Messages.json", accountSid=account["accountSid"])
    done = wait_final(admin_api, env, send(admin_api, env).json()["id"])
    assert done["status"] == "FAILED"
    assert len(done["attempts"]) == 3


def test_voice_call_renders_twiml(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, _ = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    to = unique_number()
    done = wait_final(
        admin_api,
        env,
        send(admin_api, env, to=to, method="VOICE", locale="en-GB", message="Your code is 1 2 3 <4>").json()["id"],
        ("DELIVERED",),
    )
    assert done["providerMessageId"].startswith("CA")
    [call] = inbox(sandbox, to)
    assert call["kind"] == "CALL"
    assert call["twiml"] == '<Response><Say language="en-GB">Your code is 1 2 3 &lt;4&gt;</Say></Response>'
    assert call["from"] == "+15005550006"


def test_custom_provider_receives_the_exact_request(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    client = sandbox.http.post("/_admin/oauth/clients", json={}).json()
    gateway = f"{sandbox.base}/gateway/{uuid.uuid4().hex}"
    sender = admin_api.post(
        admin_api.senders_path(env),
        json={
            "provider": "CUSTOM_PROVIDER",
            "name": "gw",
            "authentication": {
                "method": "OAUTH2",
                "authUrl": f"{sandbox.base}/oauth/token",
                "clientId": client["clientId"],
                "clientSecret": client["clientSecret"],
            },
            "requests": [
                {
                    "deliveryMethod": "SMS",
                    "method": "GET",
                    "url": gateway + "/sms?to=${to}&from=${from}&text=${message}",
                },
                {
                    "deliveryMethod": "VOICE",
                    "method": "POST",
                    "url": gateway + "/voice",
                    "headers": {"Content-Type": "application/json", "X-Tenant": "acme"},
                    "body": '{"to": "${to}", "say": "${message}", "code": "${otp}"}',
                    "phoneNumberFormat": "NUMBER_ONLY",
                    "beforeTag": "<d>",
                    "afterTag": "</d>",
                },
            ],
            "numbers": [
                {"number": "+15005550300", "type": "PHONE_NUMBER", "capabilities": ["SMS", "VOICE"], "selected": True}
            ],
        },
    ).json()
    chain(admin_api, env, sender["id"])
    sms = wait_final(admin_api, env, send(admin_api, env, message='Code 42 & "more"').json()["id"], ("SENT",))
    voice = wait_final(
        admin_api, env, send(admin_api, env, method="VOICE", message="Code 42", otp="42").json()["id"], ("SENT",)
    )
    assert sms["status"] == voice["status"] == "SENT"
    received = [
        r
        for r in sandbox.http.get("/_admin/gateway/requests").json()["requests"]
        if r["path"].startswith(urlsplit(gateway).path)
    ]
    get, post = received
    assert get["method"] == "GET"
    assert parse_qs(get["query"]) == {"to": ["+14155552671"], "from": ["+15005550300"], "text": ['Code 42 & "more"']}
    headers = {k.lower(): v for k, v in get["headers"]}
    assert headers["authorization"].startswith("Bearer ")
    assert post["method"] == "POST"
    assert post["body"] == '{"to": "14155552671", "say": "Code <d>4</d><d>2</d>", "code": "<d>4</d><d>2</d>"}'
    post_headers = {k.lower(): v for k, v in post["headers"]}
    assert post_headers["x-tenant"] == "acme"
    assert post_headers["content-type"] == "application/json"


def test_custom_provider_basic_auth_and_form_body(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    gateway = f"{sandbox.base}/gateway/{uuid.uuid4().hex}"
    sender = admin_api.post(
        admin_api.senders_path(env),
        json={
            "provider": "CUSTOM_PROVIDER",
            "name": "form gw",
            "authentication": {"method": "BASIC", "username": "user", "password": "p@ss word"},
            "requests": [
                {
                    "deliveryMethod": "SMS",
                    "method": "POST",
                    "url": gateway,
                    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                    "body": "to=${to}&message=${message}",
                }
            ],
        },
    ).json()
    chain(admin_api, env, sender["id"])
    wait_final(admin_api, env, send(admin_api, env, message="a&b=c d").json()["id"], ("SENT",))
    [request] = [
        r
        for r in sandbox.http.get("/_admin/gateway/requests").json()["requests"]
        if r["path"] == urlsplit(gateway).path
    ]
    assert request["body"] == "to=%2B14155552671&message=a%26b%3Dc+d"
    import base64

    headers = {k.lower(): v for k, v in request["headers"]}
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:p@ss word").decode()


def test_status_callbacks_and_signatures(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, account = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    undelivered = wait_final(admin_api, env, send(admin_api, env, to="+15005550011").json()["id"], ("UNDELIVERED",))
    assert undelivered["error"]["code"] == "30003"

    done = wait_final(admin_api, env, send(admin_api, env).json()["id"], ("DELIVERED",))
    url = f"{stack.url}/callbacks/twilio/{env}/{done['id']}"
    params = {"MessageSid": done["providerMessageId"], "MessageStatus": "undelivered", "ErrorCode": "30005"}
    forged = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": twilio_signature("wrong", url, params.items())}
    )
    assert_pingone_error(forged, 403, "ACCESS_FAILED")
    unsigned = httpx.post(url, data=params)
    assert_pingone_error(unsigned, 403, "ACCESS_FAILED")
    assert admin_api.get(f"/v1/environments/{env}/notifications/{done['id']}").json()["status"] == "DELIVERED"

    signed = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": twilio_signature(account["authToken"], url, params.items())}
    )
    assert signed.status_code == 204  # accepted, but DELIVERED is final (tests/security/test_callbacks.py)
    after = admin_api.get(f"/v1/environments/{env}/notifications/{done['id']}").json()
    assert after["status"] == "DELIVERED"
    assert "error" not in after


def test_idempotency_key(admin_api: Api, env: str) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"deliveryMethod": "SMS", "to": "+14155552671", "message": "hello"}
    first = admin_api.post(f"/v1/environments/{env}/notifications", json=body, headers=key)
    again = admin_api.post(f"/v1/environments/{env}/notifications", json=body, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = admin_api.post(f"/v1/environments/{env}/notifications", json={**body, "message": "other"}, headers=key)
    detail(assert_pingone_error(other, 400, "INVALID_DATA"), "INVALID_VALUE", "Idempotency-Key")
    elsewhere = admin_api.new_environment()
    assert (
        admin_api.post(f"/v1/environments/{elsewhere}/notifications", json=body, headers=key).json()["id"]
        != first.json()["id"]
    )
    listed = admin_api.get(f"/v1/environments/{env}/notifications").json()["_embedded"]["notifications"]
    assert [n["id"] for n in listed].count(first.json()["id"]) == 1


@pytest.mark.parametrize(
    ("to", "code"), [("12345", "INVALID_VALUE"), ("+1 555 0000", "INVALID_VALUE"), ("not a number", "INVALID_VALUE")]
)
def test_invalid_numbers(admin_api: Api, env: str, to: str, code: str) -> None:
    detail(assert_pingone_error(send(admin_api, env, to=to), 400, "INVALID_DATA"), code, "to")


def test_sending_in_an_unknown_environment_is_404(admin_api: Api) -> None:
    result = assert_pingone_error(send(admin_api, str(uuid.uuid4())), 404, "NOT_FOUND")
    assert "environment" in result["message"].lower()


def test_numbers_are_normalised_to_e164(admin_api: Api, env: str) -> None:
    assert send(admin_api, env, to="+1 (415) 555-2671").json()["to"] == "+14155552671"


def test_notification_settings(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    path = f"/v1/environments/{env}/notificationsSettings"
    assert admin_api.get(path).json()["smsProvidersFallbackChain"] == []
    unknown = admin_api.put(path, json={"smsProvidersFallbackChain": [str(uuid.uuid4())]})
    detail(assert_pingone_error(unknown, 400, "INVALID_DATA"), "INVALID_VALUE", "smsProvidersFallbackChain[0]")
    sender, _ = messaging_sender(admin_api, env, sandbox)
    stored = admin_api.put(
        path,
        json={
            "smsProvidersFallbackChain": [sender["id"], "PINGONE_TWILIO"],
            "from": {"name": "Acme", "address": "noreply@acme.example"},
        },
    ).json()
    assert stored["smsProvidersFallbackChain"] == [sender["id"], "PINGONE_TWILIO"]
    assert stored["deliveryMode"] == "ALL"
    assert admin_api.get(path).json() == stored
    refused = admin_api.delete(admin_api.senders_path(env, sender["id"]))
    message = detail(assert_pingone_error(refused, 400, "INVALID_DATA"), "CONSTRAINT_VIOLATION", "id")["message"]
    assert "smsProvidersFallbackChain[0]" in message
    reset = admin_api.delete(path)
    assert reset.status_code == 200
    assert reset.json()["smsProvidersFallbackChain"] == []
    assert admin_api.delete(admin_api.senders_path(env, sender["id"])).status_code == 204
    types = [
        a["action"]["type"]
        for a in admin_api.get(f"/v1/environments/{env}/activities").json()["_embedded"]["activities"]
    ]
    assert types.count("NOTIFICATIONS_SETTINGS.UPDATED") == 2


def test_test_send_through_one_sender(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, _ = messaging_sender(admin_api, env, sandbox)
    ok = admin_api.post(
        admin_api.senders_path(env, sender["id"]) + "/test", json={"to": "+14155552671", "deliveryMethod": "SMS"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "SENT"
    assert ok.json()["providerMessageId"].startswith("SM")
    refused = admin_api.post(
        admin_api.senders_path(env, sender["id"]) + "/test", json={"to": "+15005550009", "deliveryMethod": "SMS"}
    ).json()
    assert refused["status"] == "FAILED"
    assert refused["error"]["code"] == "21614"
    assert "not a valid mobile number" in refused["error"]["message"]


def test_list_notifications_with_cursor_and_status_filter(admin_api: Api, env: str) -> None:
    ids = [send(admin_api, env, message=f"m{i}").json()["id"] for i in range(5)]
    for notification_id in ids:
        wait_final(admin_api, env, notification_id)
    first = admin_api.get(f"/v1/environments/{env}/notifications", params={"limit": 3}).json()
    assert len(first["_embedded"]["notifications"]) == 3
    rest = httpx.get(first["_links"]["next"]["href"], headers={"Authorization": f"Bearer {admin_api.token}"}).json()
    listed = [n["id"] for n in first["_embedded"]["notifications"] + rest["_embedded"]["notifications"]]
    assert sorted(listed) == sorted(ids)
    delivered = admin_api.get(f"/v1/environments/{env}/notifications", params={"status": "DELIVERED"}).json()
    assert {n["status"] for n in delivered["_embedded"]["notifications"]} <= {"DELIVERED"}
    assert_pingone_error(
        admin_api.get(f"/v1/environments/{env}/notifications", params={"status": "LOST"}), 400, "INVALID_DATA"
    )


def test_metrics_and_inbox_page(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    wait_final(admin_api, env, send(admin_api, env).json()["id"])
    metrics = httpx.get(f"{stack.url}/metrics").text
    assert 'phone_delivery_attempts_total{outcome="SENT",provider="PINGONE_TWILIO"}' in metrics
    assert "phone_delivery_provider_latency_seconds_bucket" in metrics
    assert "phone_delivery_queue_depth" in metrics
    page = sandbox.http.get("/inbox")
    assert page.status_code == 200
    assert "Sandbox inbox" in page.text


def test_sends_take_little_time(admin_api: Api, env: str) -> None:
    started = time.monotonic()
    ids = [send(admin_api, env, message=f"batch {i}").json()["id"] for i in range(20)]
    for notification_id in ids:
        assert wait_final(admin_api, env, notification_id)["status"] in ("SENT", "DELIVERED")
    assert time.monotonic() - started < 30


def test_verify_and_syniverse_senders_deliver(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.http.post("/_admin/accounts", json={"verifyServices": ["Login"]}).json()
    verify = admin_api.post(
        admin_api.senders_path(env),
        json={
            "provider": "CUSTOM_TWILIO_VERIFY",
            "sid": account["accountSid"],
            "authToken": account["authToken"],
            "verifyServiceId": account["verifyServices"][0]["sid"],
        },
    ).json()
    chain(admin_api, env, verify["id"])
    to = unique_number()
    done = wait_final(admin_api, env, send(admin_api, env, to=to, otp="987654", locale="fr-FR").json()["id"], ("SENT",))
    assert done["providerMessageId"].startswith("VE")
    [verification] = inbox(sandbox, to)
    assert verification["kind"] == "VERIFICATION"
    assert verification["body"].endswith("987654")
    assert verification["channel"] == "sms"

    syniverse = sandbox.http.post(
        "/_admin/syniverse/accounts",
        json={"senderIds": [{"address": "+15005550200", "type": "LONGCODE", "capabilities": ["SMS"]}]},
    ).json()
    sender = admin_api.post(
        admin_api.senders_path(env),
        json={"provider": "CUSTOM_SYNIVERSE", "name": "syni", "authToken": syniverse["authToken"]},
    ).json()
    numbers = [{**n, "selected": True} for n in sender["numbers"]]
    admin_api.put(
        admin_api.senders_path(env, sender["id"]),
        json={**sender, "authToken": syniverse["authToken"], "numbers": numbers},
    )
    chain(admin_api, env, sender["id"])
    to = unique_number()
    wait_final(admin_api, env, send(admin_api, env, to=to).json()["id"], ("SENT",))
    [message] = inbox(sandbox, to)
    assert (message["kind"], message["from"], message["body"]) == ("SYNIVERSE", "+15005550200", "Your code is 123456")


def test_logs_name_the_notification_but_never_the_otp(admin_api: Api, env: str) -> None:
    from tests.conftest import captured_logs

    otp = f"{uuid.uuid4().int % 10**8:08d}"
    done = wait_final(admin_api, env, send(admin_api, env, message=f"Code {otp}", otp=otp).json()["id"])
    logs = captured_logs()
    assert done["id"] in logs
    assert otp not in logs
