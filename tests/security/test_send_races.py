"""Races and faults around a send, found by review: a callback that makes a status final while the
worker's own call fails, a callback that may be an earlier try's, a gateway answer that breaks the
parser after the message was accepted, a bug during the provider call, and a wait that never ends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from phone_delivery.delivery.signatures import twilio_signature
from phone_delivery.providers import custom_http
from tests.conftest import Stack
from tests.security.conftest import own_service
from tests.security.gateway import custom_sender
from tests.security.holding_twilio import HoldingTwilio
from tests.security.raw_gateway import RawGateway
from tests.security.tenants import messaging_service_sender
from tests.security.test_key_rotation import messages_of, platform_settings
from tests.support import Api, SandboxAdmin, wait_final

PROBE = {"deliveryMethod": "SMS", "message": "Your code is 424242"}


def unique_number() -> str:
    return f"+1415555{uuid.uuid4().int % 10000:04d}"


def inbox(sandbox: SandboxAdmin, to: str) -> list[dict[str, Any]]:
    return list(sandbox.http.get("/_admin/inbox", params={"to": to}).json()["messages"])


def callback(stack: Stack, env: str, notification: str, token: str, params: dict[str, str]) -> int:
    return signed_callback(stack.url, env, notification, token, params)


def until(api: Api, env: str, notification: str, test: Any, seconds: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = api.get(f"/v1/environments/{env}/notifications/{notification}").json()
        if test(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"never happened: {body}")


@pytest.fixture
def faults(sandbox: SandboxAdmin) -> Iterator[SandboxAdmin]:
    yield sandbox
    sandbox.clear_faults()


def test_a_callback_that_finalises_during_a_failing_call_is_not_undone(
    stack: Stack, admin_api: Api, env: str, faults: SandboxAdmin
) -> None:
    """Twilio calls back 'delivered' while our own call to it times out (it did take the message).
    The timeout must not send the message again, nor undo DELIVERED."""
    sender_id, account = messaging_service_sender(admin_api, env, faults)
    admin_api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender_id]})
    slower = int(stack.settings.provider_timeout_seconds * 1000) + 600
    faults.fault(pathContains="/Messages.json", accountSid=account["accountSid"], latencyMs=slower, count=1)
    to = unique_number()
    notification = admin_api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "to": to}).json()["id"]
    until(admin_api, env, notification, lambda b: b["status"] == "SENDING")
    assert callback(stack, env, notification, account["authToken"], {"MessageStatus": "delivered"}) == 204
    done = until(admin_api, env, notification, lambda b: b["attempts"][0]["outcome"] != "IN_PROGRESS")
    time.sleep(1.5)  # the retry that must not happen would run now
    done = admin_api.get(f"/v1/environments/{env}/notifications/{notification}").json()
    assert done["status"] == "DELIVERED", done
    assert [a["outcome"] for a in done["attempts"]] == ["FAILED_TRANSIENT"], done["attempts"]
    assert len(inbox(faults, to)) <= 1  # the slow one (if the sandbox finished it), never a second


def test_a_callback_that_may_be_an_earlier_tries_is_not_taken(
    stack: Stack, admin_api: Api, env: str, faults: SandboxAdmin
) -> None:
    """The first try times out (Twilio took it anyway), the second is in flight: a callback whose
    MessageSid we never learnt may be the first try's, so it changes nothing."""
    sender_id, account = messaging_service_sender(admin_api, env, faults)
    admin_api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender_id]})
    timeout_ms = int(stack.settings.provider_timeout_seconds * 1000)
    faults.fault(pathContains="/Messages.json", accountSid=account["accountSid"], latencyMs=timeout_ms + 300, count=1)
    faults.fault(pathContains="/Messages.json", accountSid=account["accountSid"], latencyMs=1500, count=1)
    notification = admin_api.post(
        f"/v1/environments/{env}/notifications", json={**PROBE, "to": unique_number()}
    ).json()["id"]
    until(admin_api, env, notification, lambda b: len(b["attempts"]) == 2 and b["status"] == "SENDING")
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert callback(stack, env, notification, account["authToken"], params) == 204
    during = admin_api.get(f"/v1/environments/{env}/notifications/{notification}").json()
    assert during["status"] == "SENDING", during
    done = wait_final(admin_api, env, notification, ("DELIVERED",))
    assert [a["outcome"] for a in done["attempts"]] == ["FAILED_TRANSIENT", "SENT"]


@contextmanager
def held_second_try(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> Iterator[tuple[Api, str, HoldingTwilio]]:
    """A service whose Twilio takes the first try only after the worker gave up on it, and answers the
    second when the test says; (api, environment, the stand-in)."""
    twilio = HoldingTwilio(upstream=sandbox.provider_settings()["twilio_api_base_url"]).start()
    try:
        with own_service(stack, sandbox, tmp_path, twilio_api_base_url=twilio.base) as service:
            twilio.sleep_first = service.settings.provider_timeout_seconds + 0.3
            api = service.api()
            env = api.new_environment("held")
            sender_id, account = messaging_service_sender(api, env, sandbox)
            api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender_id]})
            twilio.auth_token = account["authToken"]
            yield api, env, twilio
    finally:
        twilio.stop()


def test_a_callback_for_the_try_in_flight_counts_once_its_sid_is_known(
    stack: Stack, sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    """Twilio's callback for the second try overtakes the worker recording that try's MessageSid. It
    cannot be attributed yet (the first try also reached Twilio), so it is kept, and counts when the
    worker records a matching sid. (Before: dropped, and the notification stayed SENT for ever.)"""
    with held_second_try(stack, sandbox, tmp_path) as (api, env, twilio):
        notification = api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "to": unique_number()})
        notification_id = notification.json()["id"]
        first, second = twilio.held(2)
        base = api.base
        delivered = {"MessageSid": second.sid, "MessageStatus": "delivered"}
        assert signed_callback(base, env, notification_id, twilio.auth_token, delivered) == 204
        during = api.get(f"/v1/environments/{env}/notifications/{notification_id}").json()
        assert during["status"] == "SENDING", during  # kept, not applied: it might have been the first try's
        second.release.set()
        done = wait_final(api, env, notification_id, ("DELIVERED",))
    assert [a["outcome"] for a in done["attempts"]] == ["FAILED_TRANSIENT", "SENT"]
    assert done["providerMessageId"] == second.sid != first.sid


def test_a_callback_for_the_try_that_timed_out_never_counts(
    stack: Stack, sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    """The first try's callback (Twilio took it after the worker gave up) arrives while the second is
    in flight: kept, and dropped when the second try's sid turns out to be another."""
    with held_second_try(stack, sandbox, tmp_path) as (api, env, twilio):
        notification = api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "to": unique_number()})
        notification_id = notification.json()["id"]
        first, second = twilio.held(2)
        undelivered = {"MessageSid": first.sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        assert signed_callback(api.base, env, notification_id, twilio.auth_token, undelivered) == 204
        second.release.set()
        done = wait_final(api, env, notification_id, ("SENT",))
        time.sleep(0.5)
        after = api.get(f"/v1/environments/{env}/notifications/{notification_id}").json()
        # Later the first try's callback again: the sid is known now and is another try's.
        assert signed_callback(api.base, env, notification_id, twilio.auth_token, undelivered) == 204
        again = api.get(f"/v1/environments/{env}/notifications/{notification_id}").json()
    assert done["providerMessageId"] == second.sid
    assert after["status"] == again["status"] == "SENT", (after, again)


def signed_callback(base: str, env: str, notification: str, token: str, params: dict[str, str]) -> int:
    url = f"{base}/callbacks/twilio/{env}/{notification}"
    signature = twilio_signature(token, url, params.items())
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}).status_code


def test_a_gateway_answer_too_deep_to_parse_is_still_a_send(
    stack: Stack, sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    gateway = RawGateway(answer=b"[" * 200_000).start()
    try:
        allowed = f"{sandbox.base.removeprefix('http://')},127.0.0.1:{gateway.port}"
        with own_service(stack, sandbox, tmp_path, allowed_private_hosts=allowed) as service:
            api = service.api()
            env = api.new_environment("deep answer")
            sender = api.post(
                api.senders_path(env), json=custom_sender(f"{gateway.base}/sms", {"method": "BEARER", "authToken": "t"})
            ).json()
            api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender["id"]]})
            accepted = api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "to": "+14155552671"})
            done = wait_final(api, env, accepted.json()["id"])
            time.sleep(0.5)
        assert done["status"] == "SENT" and [a["outcome"] for a in done["attempts"]] == ["SENT"], done
        assert len(gateway.requests) == 1
    finally:
        gateway.stop()


def test_a_bug_during_the_provider_call_fails_without_sending_again_or_failing_over(
    stack: Stack, sandbox: SandboxAdmin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(response: httpx.Response) -> str | None:
        raise RuntimeError("a bug reading the gateway's answer")

    monkeypatch.setattr(custom_http, "_message_id", broken)
    gateway = RawGateway().start()
    platform, platform_env = platform_settings(sandbox)
    try:
        allowed = f"{sandbox.base.removeprefix('http://')},127.0.0.1:{gateway.port}"
        with own_service(stack, sandbox, tmp_path, allowed_private_hosts=allowed, **platform_env) as service:
            api = service.api()
            env = api.new_environment("bug")
            sender = api.post(
                api.senders_path(env), json=custom_sender(f"{gateway.base}/sms", {"method": "BEARER", "authToken": "t"})
            ).json()
            chain = [sender["id"], "PINGONE_TWILIO"]
            api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": chain})
            accepted = api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "to": "+14155552671"})
            done = wait_final(api, env, accepted.json()["id"])
            time.sleep(0.5)
        assert done["status"] == "FAILED", done
        assert [a["outcome"] for a in done["attempts"]] == ["FAILED_INTERNAL"]
        assert "may or may not have gone out" in done["error"]["message"]
        assert len(gateway.requests) == 1  # not sent again
        assert sandbox.requests(platform["accountSid"]) == []  # not on the operator's account
    finally:
        gateway.stop()


def test_waiting_out_our_own_error_ends(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> None:
    """A key that stays missing: the notification waits PHONE_DELIVERY_INTERNAL_ERROR_GIVE_UP_SECONDS,
    then fails (still never through another sender)."""
    from phone_delivery.store.crypto import Keyring, new_key, new_key_id
    from tests.security.test_key_rotation import rotate

    platform, platform_env = platform_settings(sandbox)
    with own_service(stack, sandbox, tmp_path, internal_error_give_up_seconds=1.5, **platform_env) as service:
        api = service.api()
        env = api.new_environment("gives up")
        sender_id, account = messaging_service_sender(api, env, sandbox)
        chain = [sender_id, "PINGONE_TWILIO"]
        api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": chain})
        assert rotate(service).returncode == 0
        stranger = new_key_id()
        Keyring(keys={stranger: new_key()}, primary=stranger).write_file(service.settings.key_file)
        accepted = api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "to": "+14155552671"})
        done = wait_final(api, env, accepted.json()["id"], seconds=20)
    assert done["status"] == "FAILED" and "could not send it" in done["error"]["message"], done
    assert {a["outcome"] for a in done["attempts"]} == {"FAILED_INTERNAL"}
    assert messages_of(sandbox, platform["accountSid"]) == messages_of(sandbox, account["accountSid"]) == 0
