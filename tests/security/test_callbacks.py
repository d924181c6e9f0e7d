"""Hole 8: Twilio status callbacks. Only a callback signed with the sending account's token counts;
a final status is final; a callback that changes nothing records nothing; the body limit is the API's.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from phone_delivery.delivery.signatures import twilio_signature
from tests.conftest import Stack
from tests.security.tenants import messaging_service_sender
from tests.support import Api, SandboxAdmin, assert_pingone_error, wait_final


def messaging_sender(api: Api, env: str, sandbox: SandboxAdmin) -> dict[str, Any]:
    """A Messaging Service sender, alone in the environment's chain; its Twilio account."""
    sender_id, account = messaging_service_sender(api, env, sandbox)
    api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender_id]})
    return account


def delivered(api: Api, env: str, to: str = "+14155552671") -> dict[str, Any]:
    response = api.post(
        f"/v1/environments/{env}/notifications", json={"deliveryMethod": "SMS", "to": to, "message": "x"}
    )
    return wait_final(api, env, response.json()["id"], ("DELIVERED", "UNDELIVERED"))


def activities(api: Api, env: str, notification_id: str) -> list[dict[str, Any]]:
    items = api.get(f"/v1/environments/{env}/activities", params={"limit": 1000}).json()["_embedded"]["activities"]
    return [a for a in items if a["resources"][0]["id"] == notification_id]


def post_callback(stack: Stack, env: str, notification_id: str, token: str, params: dict[str, str]) -> httpx.Response:
    url = f"{stack.url}/callbacks/twilio/{env}/{notification_id}"
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": twilio_signature(token, url, params.items())})


@pytest.mark.parametrize(("first", "then"), [("delivered", "undelivered"), ("undelivered", "delivered")])
def test_a_final_status_is_final(
    stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin, first: str, then: str
) -> None:
    account = messaging_sender(admin_api, env, sandbox)
    done = delivered(admin_api, env, "+15005550011" if first == "undelivered" else "+14155552671")
    assert done["status"] == first.upper()
    recorded = activities(admin_api, env, done["id"])
    params = {"MessageSid": done["providerMessageId"], "MessageStatus": then, "ErrorCode": "30005"}
    response = post_callback(stack, env, done["id"], account["authToken"], params)
    assert response.status_code == 204
    after = admin_api.get(f"/v1/environments/{env}/notifications/{done['id']}").json()
    assert after["status"] == done["status"] and after.get("error") == done.get("error")
    assert activities(admin_api, env, done["id"]) == recorded


def test_a_replayed_callback_records_nothing(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = messaging_sender(admin_api, env, sandbox)
    done = delivered(admin_api, env)
    recorded = activities(admin_api, env, done["id"])
    params = {"MessageSid": done["providerMessageId"], "MessageStatus": "delivered"}
    for _ in range(3):
        assert post_callback(stack, env, done["id"], account["authToken"], params).status_code == 204
    assert activities(admin_api, env, done["id"]) == recorded


def test_another_tenants_token_or_path_cannot_move_a_notification(
    stack: Stack, admin_api: Api, sandbox: SandboxAdmin
) -> None:
    mine, theirs = admin_api.new_environment("callback mine"), admin_api.new_environment("callback theirs")
    messaging_sender(admin_api, mine, sandbox)
    their_account = messaging_sender(admin_api, theirs, sandbox)
    # A notification of mine that is still out with Twilio: SENT, waiting for its callback.
    response = admin_api.post(
        f"/v1/environments/{mine}/notifications", json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "x"}
    )
    done = wait_final(admin_api, mine, response.json()["id"], ("DELIVERED",))
    theirs_done = delivered(admin_api, theirs)
    params = {"MessageSid": done["providerMessageId"], "MessageStatus": "undelivered"}
    forged = post_callback(stack, mine, done["id"], their_account["authToken"], params)
    assert_pingone_error(forged, 403, "ACCESS_FAILED")
    crossed = post_callback(stack, theirs, done["id"], their_account["authToken"], params)  # my id, their path
    assert_pingone_error(crossed, 403, "ACCESS_FAILED")
    assert admin_api.get(f"/v1/environments/{mine}/notifications/{done['id']}").json()["status"] == "DELIVERED"
    assert admin_api.get(f"/v1/environments/{theirs}/notifications/{theirs_done['id']}").json()["status"] == "DELIVERED"


def test_the_callback_body_limit_is_the_apis(stack: Stack, env: str) -> None:
    url = f"{stack.url}/callbacks/twilio/{env}/00000000-0000-0000-0000-000000000000"
    big = b"MessageStatus=delivered&x=" + b"a" * (stack.settings.max_body_bytes + 1)
    response = httpx.post(url, content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_pingone_error(response, 413, "INVALID_REQUEST")

    def chunks() -> Any:  # no Content-Length: the limit holds while streaming too
        for _ in range(stack.settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536

    streamed = httpx.post(url, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_pingone_error(streamed, 413, "INVALID_REQUEST")


def test_a_callback_that_overtakes_the_worker_counts(
    stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    """Twilio may call back before the worker has recorded Twilio's answer (the notification is still
    SENDING and names no provider yet). That callback is the sending account's and must count: it
    used to be refused with 403, and Twilio does not retry."""
    account = messaging_sender(admin_api, env, sandbox)
    sandbox.fault(pathContains="/Messages.json", accountSid=account["accountSid"], latencyMs=1500, count=1)
    try:
        body = {"deliveryMethod": "SMS", "to": "+14155552671", "message": "x"}
        notification = admin_api.post(f"/v1/environments/{env}/notifications", json=body).json()["id"]
        wait_final(admin_api, env, notification, ("SENDING",), seconds=5)
        params = {"MessageStatus": "delivered"}  # no MessageSid known to us yet
        assert post_callback(stack, env, notification, account["authToken"], params).status_code == 204
        forged = post_callback(stack, env, notification, "not-the-token", params)
        assert_pingone_error(forged, 403, "ACCESS_FAILED")
        assert admin_api.get(f"/v1/environments/{env}/notifications/{notification}").json()["status"] == "DELIVERED"
        deadline = time.monotonic() + 10
        done: dict[str, Any] = {}
        while time.monotonic() < deadline:
            done = admin_api.get(f"/v1/environments/{env}/notifications/{notification}").json()
            if done["attempts"][0]["outcome"] != "IN_PROGRESS":
                break
            time.sleep(0.05)
        assert [a["outcome"] for a in done["attempts"]] == ["SENT"]
        assert done["status"] == "DELIVERED"  # the worker's answer, recorded later, did not step it back
    finally:
        sandbox.clear_faults()
