"""A send that no sender of the chain could ever deliver is refused when it is accepted (400,
target ``deliveryMethod``), and nothing is queued; a chain with one capable sender takes it."""

from __future__ import annotations

from typing import Any

from tests.integration.test_delivery import chain, inbox, messaging_sender, numbers_sender, send, unique_number
from tests.support import (
    Api,
    SandboxAdmin,
    assert_pingone_error,
    bootstrap,
    private_service,
    sqlite_settings,
    wait_final,
)
from tests.support import detail as find_detail


def listed(api: Api, env: str, to: str) -> list[dict[str, Any]]:
    body = api.get(f"/v1/environments/{env}/notifications", params={"to": to}).json()
    return list(body["_embedded"]["notifications"])


def test_voice_through_an_sms_only_chain_is_refused_and_nothing_is_queued(
    admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    sender, _ = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    to = unique_number()
    body = assert_pingone_error(send(admin_api, env, to=to, method="VOICE"), 400, "INVALID_DATA")
    message = find_detail(body, "INVALID_VALUE", "deliveryMethod")["message"]
    assert message == (
        f"No sender in the fallback chain can deliver VOICE: {sender['id']} "
        "(CUSTOM_TWILIO_MESSAGING_SERVICE, which delivers SMS only)."
    )
    assert listed(admin_api, env, to) == []
    # SMS through the same chain is still taken and delivered.
    done = wait_final(admin_api, env, send(admin_api, env, to=to).json()["id"], ("DELIVERED",))
    assert done["status"] == "DELIVERED"
    assert [m["body"] for m in inbox(sandbox, to)] == ["Your code is 123456"]


def test_one_capable_sender_anywhere_in_the_chain_is_enough(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sms_only, _ = messaging_sender(admin_api, env, sandbox)
    voice, _ = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, sms_only["id"], voice["id"])
    response = send(admin_api, env, method="VOICE")
    assert response.status_code == 202, response.text
    done = wait_final(admin_api, env, response.json()["id"], ("DELIVERED",))
    assert done["status"] == "DELIVERED"
    assert done["sender"]["id"] == voice["id"]


def test_a_sender_with_nothing_selected_counts_once_something_is_selected(
    admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    account = sandbox.account(services=1)
    created = admin_api.post(
        admin_api.senders_path(env),
        json={
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            "name": "not chosen yet",
            "sid": account["accountSid"],
            "authToken": account["authToken"],
        },
    ).json()
    chain(admin_api, env, created["id"])
    body = assert_pingone_error(send(admin_api, env), 400, "INVALID_DATA")
    assert (
        "no number, Messaging Service or channel selected"
        in find_detail(body, "INVALID_VALUE", "deliveryMethod")["message"]
    )
    services = [{**s, "selected": True} for s in created["messagingServices"]]
    updated = admin_api.put(
        admin_api.senders_path(env, created["id"]),
        json={**created, "authToken": account["authToken"], "messagingServices": services},
    )
    assert updated.status_code == 200, updated.text
    # The change is seen at once (not after the resolved-sender cache expires).
    assert send(admin_api, env).status_code == 202


def test_a_replay_of_an_accepted_request_survives_a_chain_change(
    admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    voice, _ = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, voice["id"])
    path = f"/v1/environments/{env}/notifications"
    body = {"deliveryMethod": "VOICE", "to": unique_number(), "message": "Your code is 123456"}
    key = {"Idempotency-Key": unique_number()}
    first = admin_api.post(path, json=body, headers=key)
    assert first.status_code == 202, first.text
    sms_only, _ = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sms_only["id"])
    replay = admin_api.post(path, json=body, headers=key)
    assert replay.status_code == 202, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    fresh = admin_api.post(path, json=body, headers={"Idempotency-Key": unique_number()})
    assert_pingone_error(fresh, 400, "INVALID_DATA")
    changed = admin_api.post(path, json={**body, "message": "other"}, headers=key)
    # The key's own error, not the chain's: the request differs from the one the key was used for.
    assert find_detail(assert_pingone_error(changed, 400, "INVALID_DATA"), "INVALID_VALUE", "Idempotency-Key")


def test_unconfigured_pingone_twilio_is_refused_at_accept(sandbox: SandboxAdmin, tmp_path: Any) -> None:
    settings = sqlite_settings(tmp_path, sandbox)
    with private_service(settings, bootstrap(settings)) as api:
        env = api.new_environment()
        body = assert_pingone_error(send(api, env), 400, "INVALID_DATA")
        assert (
            "PINGONE_TWILIO (PINGONE_TWILIO is not configured on this server"
            in find_detail(body, "INVALID_VALUE", "deliveryMethod")["message"]
        )
        assert api.get(f"/v1/environments/{env}/notifications").json()["_embedded"]["notifications"] == []


def test_pingone_twilio_without_a_from_number_sends_sms_but_refuses_voice(sandbox: SandboxAdmin, tmp_path: Any) -> None:
    platform = sandbox.http.post("/_admin/accounts", json={"messagingServices": ["Platform"]}).json()
    settings = sqlite_settings(
        tmp_path,
        sandbox,
        platform_twilio_account_sid=platform["accountSid"],
        platform_twilio_auth_token=platform["authToken"],
        platform_twilio_messaging_service_sid=platform["messagingServices"][0]["sid"],
    )
    with private_service(settings, bootstrap(settings)) as api:
        env = api.new_environment()
        body = assert_pingone_error(send(api, env, method="VOICE"), 400, "INVALID_DATA")
        assert find_detail(body, "INVALID_VALUE", "deliveryMethod")["message"] == (
            "No sender in the fallback chain can deliver VOICE: "
            "PINGONE_TWILIO (PINGONE_TWILIO, which delivers SMS only)."
        )
        assert send(api, env).status_code == 202
