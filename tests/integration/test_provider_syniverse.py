"""CUSTOM_SYNIVERSE and CUSTOM_SYNIVERSE_CHANNELS against the sandbox's Syniverse stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, SandboxAdmin, assert_pingone_error, detail


@pytest.fixture
def syniverse(sandbox: SandboxAdmin) -> dict[str, Any]:
    response = sandbox.http.post(
        "/_admin/syniverse/accounts",
        json={
            "senderIds": [
                {"address": "+15005550200", "type": "LONGCODE", "capabilities": ["SMS", "VOICE"]},
                {"address": "+18885550201", "type": "TOLLFREE", "capabilities": ["SMS"]},
                {"address": "55502", "type": "SHORTCODE", "capabilities": ["SMS"]},
                {"address": "ACME", "type": "ALPHANUMERIC", "capabilities": ["SMS"]},
                {"address": "+15005550299", "type": "LONGCODE", "state": "INACTIVE"},
            ],
            "channels": [
                {"name": "SMS channel", "capabilities": ["SMS"]},
                {"name": "Voice channel", "capabilities": ["VOICE"], "priority": "HIGH"},
                {"name": "Second SMS channel", "capabilities": ["SMS"]},
            ],
        },
    )
    assert response.status_code == 201
    return dict(response.json())


def created(api: Api, env: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(api.senders_path(env), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_numbers_are_the_active_sender_ids(admin_api: Api, env: str, syniverse: dict[str, Any]) -> None:
    sender = created(admin_api, env, {"provider": "CUSTOM_SYNIVERSE", "authToken": syniverse["authToken"]})
    assert "authToken" not in sender
    assert sender["sid"] == ""
    assert sender["numbers"] == [
        {
            "number": "+15005550200",
            "type": "PHONE_NUMBER",
            "selected": False,
            "available": True,
            "capabilities": ["SMS", "VOICE"],
        },
        {"number": "+18885550201", "type": "TOLL_FREE", "selected": False, "available": True, "capabilities": ["SMS"]},
        {"number": "55502", "type": "SHORT_CODE", "selected": False, "available": True, "capabilities": ["SMS"]},
    ]
    numbers = [dict(n) for n in sender["numbers"]]
    numbers[0]["selected"] = True
    numbers[1].update(selected=True, supportedCountries=["US"])
    response = admin_api.put(
        admin_api.senders_path(env, sender["id"]),
        json={**sender, "authToken": syniverse["authToken"], "numbers": numbers},
    )
    assert response.status_code == 200, response.text
    assert [n["selected"] for n in response.json()["numbers"]] == [True, True, False]


def test_bad_token_is_an_authentication_error(admin_api: Api, env: str) -> None:
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json={"provider": "CUSTOM_SYNIVERSE", "authToken": "wrong"}),
        400,
        "INVALID_DATA",
    )
    assert "Authentication Error" in result["message"]
    detail(result, "INVALID_VALUE", "authToken")


def test_token_is_immutable(admin_api: Api, env: str, syniverse: dict[str, Any]) -> None:
    sender = created(admin_api, env, {"provider": "CUSTOM_SYNIVERSE", "authToken": syniverse["authToken"]})
    response = admin_api.put(admin_api.senders_path(env, sender["id"]), json={**sender, "authToken": "other"})
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authToken")


def test_syniverse_unavailable_is_502(
    admin_api: Api, env: str, syniverse: dict[str, Any], sandbox: SandboxAdmin
) -> None:
    sandbox.fault(count=1, status=503, code=5030, pathContains="/messaging/sender_ids")
    response = admin_api.post(
        admin_api.senders_path(env), json={"provider": "CUSTOM_SYNIVERSE", "authToken": syniverse["authToken"]}
    )
    assert "Syniverse" in assert_pingone_error(response, 502, "REQUEST_FAILED")["message"]


def channels_sender(api: Api, env: str, syniverse: dict[str, Any]) -> dict[str, Any]:
    return created(
        api, env, {"provider": "CUSTOM_SYNIVERSE_CHANNELS", "name": "Channels", "authToken": syniverse["authToken"]}
    )


def select(sender: dict[str, Any], syniverse: dict[str, Any], names: set[str], **extra: Any) -> dict[str, Any]:
    return {
        **sender,
        "authToken": syniverse["authToken"],
        "channels": [{**c, "selected": c["name"] in names} for c in sender["channels"]],
        "deliveryConfigurationsExist": True,
        "smsTopicSubscription": {"topic": "sms-status", "enabled": True},
        "voiceTopicSubscription": {"topic": "voice-status", "enabled": False},
        **extra,
    }


def test_channels_created_then_selected(admin_api: Api, env: str, syniverse: dict[str, Any]) -> None:
    sender = channels_sender(admin_api, env, syniverse)
    assert [(c["name"], c["selected"], c["available"], c["capabilities"]) for c in sender["channels"]] == [
        ("SMS channel", False, True, ["SMS"]),
        ("Voice channel", False, True, ["VOICE"]),
        ("Second SMS channel", False, True, ["SMS"]),
    ]
    assert sender["channels"][1]["priority"] == "HIGH"
    assert sender["channels"][0]["createdAt"].endswith("Z")
    response = admin_api.put(
        admin_api.senders_path(env, sender["id"]), json=select(sender, syniverse, {"SMS channel", "Voice channel"})
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["selected"] for c in body["channels"]] == [True, True, False]
    assert body["deliveryConfigurationsExist"] is True
    assert body["smsTopicSubscription"] == {"topic": "sms-status", "enabled": True}
    assert "authToken" not in body


def test_one_channel_per_capability(admin_api: Api, env: str, syniverse: dict[str, Any]) -> None:
    sender = channels_sender(admin_api, env, syniverse)
    response = admin_api.put(
        admin_api.senders_path(env, sender["id"]), json=select(sender, syniverse, {"SMS channel", "Second SMS channel"})
    )
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "channels[2].selected")


def test_unknown_channel(admin_api: Api, env: str, syniverse: dict[str, Any]) -> None:
    sender = channels_sender(admin_api, env, syniverse)
    body = select(sender, syniverse, set())
    body["channels"].append({"id": "nope", "selected": True})
    response = admin_api.put(admin_api.senders_path(env, sender["id"]), json=body)
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "channels[3].id")


@pytest.mark.parametrize(
    "field",
    ["channels", "deliveryConfigurationsExist", "smsTopicSubscription", "voiceTopicSubscription", "name", "authToken"],
)
def test_channels_put_requires(admin_api: Api, env: str, syniverse: dict[str, Any], field: str) -> None:
    sender = channels_sender(admin_api, env, syniverse)
    body = select(sender, syniverse, set())
    del body[field]
    response = admin_api.put(admin_api.senders_path(env, sender["id"]), json=body)
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "REQUIRED_VALUE", field)


def test_account_without_usable_sender_id_or_channel(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    empty = sandbox.http.post(
        "/_admin/syniverse/accounts", json={"senderIds": [{"address": "ACME", "type": "ALPHANUMERIC"}], "channels": []}
    ).json()
    for provider in ("CUSTOM_SYNIVERSE", "CUSTOM_SYNIVERSE_CHANNELS"):
        response = admin_api.post(
            admin_api.senders_path(env), json={"provider": provider, "authToken": empty["authToken"]}
        )
        detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authToken")
