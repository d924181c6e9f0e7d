"""Notification policies on the send path, over real HTTP through the sandbox, on both databases:
country limits, quotas (USER, ENVIRONMENT, per UTC day), the whitelist and deliveryMode WHITELIST,
routing conditions, policy.id. Every refusal: its exact error, nothing queued, nothing delivered,
a NOTIFICATION.REJECTED activity, the refusals metric."""

from __future__ import annotations

import random
import re
import time
from typing import Any

import httpx
import phonenumbers

from tests.conftest import Stack
from tests.integration.test_delivery import chain, inbox, messaging_sender, numbers_sender, send, unique_number
from tests.integration.test_notification_policies import listed, policies_path
from tests.support import Api, SandboxAdmin, assert_pingone_error, wait_final

DAY_MS = 86_400_000


def _valid(prefix: str, digits: int) -> str:
    while True:
        number = f"{prefix}{random.randrange(10**digits):0{digits}d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def german_number() -> str:
    return _valid("+4915123", 6)


def french_number() -> str:
    return _valid("+3361", 7)


def default_policy(api: Api, env: str) -> dict[str, Any]:
    return next(p for p in listed(api, env) if p["default"])


def set_default(api: Api, env: str, **rules: Any) -> dict[str, Any]:
    """Replace the default policy's rules (quotas [] unless given)."""
    policy = default_policy(api, env)
    response = api.put(policies_path(env, policy["id"]), json={"name": policy["name"], "quotas": [], **rules})
    assert response.status_code == 200, response.text
    return dict(response.json())


def queued_to(api: Api, env: str, to: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/environments/{env}/notifications", params={"to": to})
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["notifications"])


def rejected(api: Api, env: str) -> list[str]:
    response = api.get(
        f"/v1/environments/{env}/activities", params={"actionType": "NOTIFICATION.REJECTED", "limit": 1000}
    )
    return [a["action"]["description"] for a in response.json()["_embedded"]["activities"]]


def refused_metric(stack: Stack, rule: str) -> float:
    text = httpx.get(f"{stack.url}/metrics").text
    found = re.search(rf'^phone_delivery_notifications_refused_total\{{rule="{rule}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def assert_nothing_sent(api: Api, env: str, sandbox: SandboxAdmin, to: str) -> None:
    assert queued_to(api, env, to) == []
    time.sleep(0.2)  # a queued notification would be delivered by now
    assert inbox(sandbox, to) == []


def test_country_limit_allowed_refuses_other_countries(
    stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    set_default(admin_api, env, countryLimit={"type": "ALLOWED", "countries": ["US", "CA", "FR"]})
    before = refused_metric(stack, "COUNTRY_LIMIT")
    to = german_number()
    error = assert_pingone_error(send(admin_api, env, to=to), 400, "INVALID_DATA")
    message = (
        "The notification policy 'Default Notification Policy' does not allow SMS to Germany (DE): "
        "its countryLimit allows only US, CA, FR."
    )
    assert error["details"] == [{"code": "INVALID_VALUE", "target": "to", "message": message}]
    assert_nothing_sent(admin_api, env, sandbox, to)
    assert rejected(admin_api, env) == [f"SMS notification refused (COUNTRY_LIMIT): {message}"]
    assert refused_metric(stack, "COUNTRY_LIMIT") == before + 1
    # an allowed country goes through
    for allowed in (unique_number(), french_number()):
        accepted = send(admin_api, env, to=allowed)
        assert accepted.status_code == 202, accepted.text
        assert wait_final(admin_api, env, accepted.json()["id"], ("DELIVERED",))["to"] == allowed
        assert len(inbox(sandbox, allowed)) == 1


def test_country_limit_denied_and_per_method(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    set_default(admin_api, env, countryLimit={"type": "DENIED", "deliveryMethods": ["SMS"], "countries": ["FR"]})
    to = french_number()
    error = assert_pingone_error(send(admin_api, env, to=to), 400, "INVALID_DATA")
    assert error["details"][0]["message"] == (
        "The notification policy 'Default Notification Policy' does not allow SMS to France (FR): "
        "its countryLimit denies FR."
    )
    assert_nothing_sent(admin_api, env, sandbox, to)
    # the limit is for SMS only: a voice call to France is queued
    voice = send(admin_api, env, to=to, method="VOICE")
    assert voice.status_code == 202, voice.text
    assert send(admin_api, env, to=german_number()).status_code == 202


def test_a_user_quota_per_day(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    set_default(admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 3}])
    to = unique_number()
    accepted = [send(admin_api, env, to=to, user={"id": "alice"}) for _ in range(3)]
    assert [r.status_code for r in accepted] == [202] * 3
    before = refused_metric(stack, "QUOTA")
    refused = send(admin_api, env, to=to, method="VOICE", user={"id": "alice"})
    now = int(time.time() * 1000)
    error = assert_pingone_error(refused, 429, "REQUEST_LIMITED")
    assert error["message"] == "The request was rate limited: a notification quota is used up."
    [item] = error["details"]
    reset_ms = now - now % DAY_MS + DAY_MS
    reset = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(reset_ms / 1000))
    assert item["code"] == "QUOTA_EXCEEDED" and item["target"] == "user.id"
    assert item["message"] == (
        "The notification policy 'Default Notification Policy' allows 3 SMS and Voice notifications per user "
        f"per day (quotas[0], USER); the quota resets at {reset}."
    )
    assert item["innerError"]["quotaLimit"] == 3 and item["innerError"]["quotaResetTime"] == reset
    assert refused.headers["Retry-After"] == str(item["innerError"]["retryAfter"])
    assert abs(item["innerError"]["retryAfter"] - (reset_ms - now) / 1000) <= 5
    assert refused_metric(stack, "QUOTA") == before + 1
    assert rejected(admin_api, env) == [f"VOICE notification refused (QUOTA): {item['message']}"]
    # exactly the three went out
    assert len(queued_to(admin_api, env, to)) == 3
    for response in accepted:
        wait_final(admin_api, env, response.json()["id"], ("DELIVERED",))
    assert len(inbox(sandbox, to)) == 3
    # another user has their own quota; a send without user.id counts per number
    assert send(admin_api, env, to=to, user={"id": "bob"}).status_code == 202
    other = unique_number()
    assert [send(admin_api, env, to=other).status_code for _ in range(4)] == [202, 202, 202, 429]
    no_user = send(admin_api, env, to=other).json()["details"][0]
    assert no_user["target"] == "to" and "per number (the request names no user.id)" in no_user["message"]


def test_an_environment_quota(admin_api: Api, env: str) -> None:
    set_default(admin_api, env, quotas=[{"type": "ENVIRONMENT", "deliveryMethods": ["SMS"], "total": 2}])
    statuses = [send(admin_api, env, to=unique_number(), user={"id": f"u{i}"}).status_code for i in range(3)]
    assert statuses == [202, 202, 429]
    error = send(admin_api, env, to=unique_number()).json()
    assert "target" not in error["details"][0]
    assert (
        "allows 2 SMS notifications in the environment per day (quotas[0], ENVIRONMENT)"
        in error["details"][0]["message"]
    )
    # the quota covers SMS only: voice is not counted
    assert send(admin_api, env, to=unique_number(), method="VOICE").status_code == 202


def test_claimed_and_unclaimed_counts_every_send_as_unclaimed(admin_api: Api, env: str) -> None:
    set_default(
        admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "claimed": 5, "unclaimed": 2}]
    )
    to = unique_number()
    assert [send(admin_api, env, to=to, user={"id": "u"}).status_code for _ in range(3)] == [202, 202, 429]


def test_whitelisted_users_are_exempt_from_quotas(admin_api: Api, env: str) -> None:
    set_default(admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 1}])
    settings = admin_api.put(
        f"/v1/environments/{env}/notificationsSettings", json={"whitelist": [{"user": {"id": "vip"}}]}
    )
    assert settings.status_code == 200, settings.text
    to = unique_number()
    assert [send(admin_api, env, to=to, user={"id": "vip"}).status_code for _ in range(3)] == [202] * 3
    assert [send(admin_api, env, to=to, user={"id": "other"}).status_code for _ in range(2)] == [202, 429]


def test_delivery_mode_whitelist_sends_only_to_whitelisted_users(
    stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    response = admin_api.put(
        f"/v1/environments/{env}/notificationsSettings",
        json={"deliveryMode": "WHITELIST", "whitelist": [{"user": {"id": "tester"}}]},
    )
    assert response.status_code == 200, response.text
    before = refused_metric(stack, "DELIVERY_MODE")
    to = unique_number()
    start = (
        "The environment's deliveryMode is WHITELIST: only users on the notificationsSettings whitelist "
        "receive notifications, and "
    )
    for extra, ending in (
        ({"user": {"id": "stranger"}}, "this user is not on it."),
        ({}, "this request names no user.id."),
    ):
        error = assert_pingone_error(send(admin_api, env, to=to, **extra), 400, "INVALID_DATA")
        assert error["details"] == [{"code": "INVALID_VALUE", "target": "user.id", "message": start + ending}]
    assert_nothing_sent(admin_api, env, sandbox, to)
    assert refused_metric(stack, "DELIVERY_MODE") == before + 2
    accepted = send(admin_api, env, to=to, user={"id": "tester"})
    assert accepted.status_code == 202, accepted.text
    wait_final(admin_api, env, accepted.json()["id"], ("DELIVERED",))
    assert len(inbox(sandbox, to)) == 1


def test_routing_conditions_replace_the_environment_chain(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    germany, germany_account = messaging_sender(admin_api, env, sandbox, "germany")
    rest, rest_account = numbers_sender(admin_api, env, sandbox)
    chain(admin_api, env, "PINGONE_TWILIO")  # the environment's chain, which the policy replaces
    set_default(
        admin_api,
        env,
        providerConfiguration={
            "conditions": [
                {"deliveryMethods": ["SMS"], "countries": ["DE"], "fallbackChain": [{"id": germany["id"]}]},
                {"deliveryMethods": ["SMS"], "fallbackChain": [{"id": rest["id"]}]},
            ]
        },
    )
    de, us = german_number(), unique_number()
    to_germany = wait_final(admin_api, env, send(admin_api, env, to=de).json()["id"], ("DELIVERED",))
    assert to_germany["sender"]["id"] == germany["id"]
    [message] = inbox(sandbox, de)
    assert message["accountSid"] == germany_account["accountSid"]
    to_us = wait_final(admin_api, env, send(admin_api, env, to=us).json()["id"], ("DELIVERED",))
    assert to_us["sender"]["id"] == rest["id"]
    assert inbox(sandbox, us)[0]["accountSid"] == rest_account["accountSid"]
    # no condition for VOICE: the environment's chain applies
    voice = wait_final(admin_api, env, send(admin_api, env, to=unique_number(), method="VOICE").json()["id"])
    assert voice["sender"]["id"] == "PINGONE_TWILIO"


def test_policy_id_picks_the_policy(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    strict = admin_api.post(
        policies_path(env),
        json={"name": "Strict", "quotas": [], "countryLimit": {"type": "ALLOWED", "countries": ["FR"]}},
    ).json()
    us = unique_number()
    assert send(admin_api, env, to=us).status_code == 202  # the default policy has no limit
    refused = send(admin_api, env, to=unique_number(), policy={"id": strict["id"]})
    assert (
        "The notification policy 'Strict' does not allow SMS to United States (US)"
        in refused.json()["details"][0]["message"]
    )
    assert send(admin_api, env, to=french_number(), policy={"id": strict["id"]}).status_code == 202
    # an unknown policy, or another environment's, is refused
    other_env = admin_api.new_environment("other")
    theirs = default_policy(admin_api, other_env)["id"]
    for unknown in (theirs, "00000000-0000-4000-8000-000000000000", "not-an-id"):
        error = assert_pingone_error(send(admin_api, env, to=us, policy={"id": unknown}), 400, "INVALID_DATA")
        assert error["details"] == [
            {
                "code": "INVALID_VALUE",
                "target": "policy.id",
                "message": "Not a notification policy of this environment.",
            }
        ]


def test_an_idempotent_replay_is_not_refused_by_the_quota(admin_api: Api, env: str) -> None:
    set_default(admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 1}])
    to = unique_number()
    headers = {"Idempotency-Key": f"k-{to}"}
    first = send(admin_api, env, to=to, user={"id": "u"}, headers=headers)
    assert first.status_code == 202
    again = send(admin_api, env, to=to, user={"id": "u"}, headers=headers)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert send(admin_api, env, to=to, user={"id": "u"}).status_code == 429
    assert len(queued_to(admin_api, env, to)) == 1
