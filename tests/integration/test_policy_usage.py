"""``GET .../notificationsPolicies/{id}/usage``: what a policy's counters hold, read after real sends
over HTTP on both databases. Quotas of both types (refused sends give their unit back, a new UTC day
starts at zero), one user's or number's use, the hourly cap, cooldown and prefix blocks; strict
parameters; another environment's policy is not found. Every answer validates against /openapi.json."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import Stack
from tests.integration.test_delivery import send, unique_number
from tests.integration.test_notification_policies import policies_path
from tests.integration.test_policy_cooldowns import Clock, cooldowns
from tests.integration.test_policy_enforcement import set_default
from tests.support import Api, assert_pingone_error, detail

DAY_S = 86_400


@pytest.fixture
def clock_moved(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr("phone_delivery.delivery.service.now_ms", moved.now)
    monkeypatch.setattr("phone_delivery.delivery.policy_service.now_ms", moved.now)
    return moved


def usage(stack: Stack, api: Api, env: str, policy_id: str, **params: str) -> dict[str, Any]:
    response = api.get(policies_path(env, policy_id) + "/usage", params=params)
    assert response.status_code == 200, response.text
    body = dict(response.json())
    document = httpx.get(f"{stack.url}/openapi.json").json()
    schema = {"$ref": "#/components/schemas/NotificationsPolicyUsage", "components": document["components"]}
    jsonschema.validate(body, schema)
    return body


def test_a_user_quota_counts_users_and_numbers_and_gives_refused_units_back(
    stack: Stack, admin_api: Api, env: str, clock_moved: Clock
) -> None:
    policy = set_default(
        admin_api,
        env,
        quotas=[
            {"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 3},
            {"type": "ENVIRONMENT", "deliveryMethods": ["Email"], "total": 50},
        ],
    )
    anonymous = unique_number()
    users = ["u_1", "u_1", "u_1", "u%", "u_1"]  # LIKE's wildcards in the ids: counted as written
    statuses = [send(admin_api, env, to=unique_number(), user={"id": user}).status_code for user in users]
    assert statuses == [202, 202, 202, 202, 429]
    assert send(admin_api, env, to=anonymous).status_code == 202  # no user.id: counted per number
    body = usage(stack, admin_api, env, policy["id"], **{"user.id": "u_1"})
    assert body["notificationsPolicy"] == {"id": policy["id"], "name": policy["name"]}
    assert body["_links"]["self"]["href"].endswith(f"/notificationsPolicies/{policy['id']}/usage")
    user_quota, email_quota = body["quotas"]
    assert user_quota["limit"] == 3 and user_quota["counted"] is True
    # the fourth send of u_1 was refused and took nothing
    assert user_quota["used"] == 5 and user_quota["subjects"] == 3 and user_quota["subjectsAtLimit"] == 1
    assert user_quota["top"] == [
        {"user": {"id": "u_1"}, "used": 3, "remaining": 0},
        {"to": anonymous, "used": 1, "remaining": 2},
        {"user": {"id": "u%"}, "used": 1, "remaining": 2},
    ]
    assert user_quota["subject"] == {"user": {"id": "u_1"}, "used": 3, "remaining": 0}
    assert user_quota["window"]["end"] > body["at"] > user_quota["window"]["start"]
    assert email_quota == {
        "index": 1,
        "type": "ENVIRONMENT",
        "deliveryMethods": ["Email"],
        "limit": 50,
        "counted": False,  # stored, not enforced: phone-delivery sends no email
        "window": user_quota["window"],
    }
    one = usage(stack, admin_api, env, policy["id"], **{"user.id": "u"})["quotas"][0]["subject"]
    assert one == {"user": {"id": "u"}, "used": 0, "remaining": 3}  # not a prefix match
    by_number = usage(stack, admin_api, env, policy["id"], to=anonymous.replace("+1", "+1 "))["quotas"][0]
    assert by_number["subject"] == {"to": anonymous, "used": 1, "remaining": 2}  # normalised like a send's
    clock_moved.advance(DAY_S)
    next_day = usage(stack, admin_api, env, policy["id"], **{"user.id": "u_1"})["quotas"][0]
    assert next_day["used"] == 0 and next_day["top"] == [] and next_day["subject"]["remaining"] == 3
    assert send(admin_api, env, to=unique_number(), user={"id": "u_1"}).status_code == 202


def test_an_environment_quota_and_the_hourly_cap(stack: Stack, admin_api: Api, env: str) -> None:
    policy = set_default(
        admin_api,
        env,
        quotas=[{"type": "ENVIRONMENT", "deliveryMethods": ["SMS"], "total": 4}],
        fraudProtection={"numberHourlyCap": {"enabled": True, "limit": 2}},
    )
    to = unique_number()
    statuses = [send(admin_api, env, to=to).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]  # the hourly cap refused the third
    assert send(admin_api, env, to=unique_number()).status_code == 202
    body = usage(stack, admin_api, env, policy["id"], to=to)
    [quota] = body["quotas"]
    assert (quota["used"], quota["remaining"]) == (3, 1)
    assert "top" not in quota and "subject" not in quota
    cap = body["numberHourlyCap"]
    assert (cap["to"], cap["limit"], cap["used"], cap["remaining"]) == (to, 2, 2, 0)
    assert "numberHourlyCap" not in usage(stack, admin_api, env, policy["id"])  # only for a number


def test_blocks_in_force_are_listed(stack: Stack, admin_api: Api, env: str, clock_moved: Clock) -> None:
    velocity = {"enabled": True, "prefixLength": 9, "distinctNumbers": 2, "windowSeconds": 600, "blockSeconds": 900}
    policy = set_default(
        admin_api,
        env,
        cooldownConfiguration=cooldowns(resend_limit=1, groupBy="USER_ID"),
        fraudProtection={"prefixVelocity": velocity},
    )
    assert usage(stack, admin_api, env, policy["id"])["blocks"] == []
    to = "+16505550123"
    for _ in range(2):  # the send, its one resend
        assert send(admin_api, env, to=to, user={"id": "a:b"}).status_code == 202
        clock_moved.advance(31)
    assert send(admin_api, env, to=to, user={"id": "a:b"}).status_code == 429  # resendLimit: blocked
    assert send(admin_api, env, to="+16505550124").status_code == 202
    assert send(admin_api, env, to="+16505550125").status_code == 429  # the third number trips the prefix
    body = usage(stack, admin_api, env, policy["id"])
    assert body["blockCount"] == 2
    velocity_block, cooldown_block = sorted(body["blocks"], key=lambda b: str(b["rule"]))
    assert velocity_block["rule"] == "PREFIX_VELOCITY" and velocity_block["prefix"] == "+165055501"
    assert cooldown_block["rule"] == "RESEND_LIMIT"
    assert (cooldown_block["deliveryMethod"], cooldown_block["user"], cooldown_block["to"]) == (
        "SMS",
        {"id": "a:b"},
        to,
    )
    assert cooldown_block["until"] > body["at"]
    clock_moved.advance(1801)
    assert usage(stack, admin_api, env, policy["id"])["blocks"] == []  # both over


def test_bad_parameters_and_other_policies(stack: Stack, admin_api: Api, env: str) -> None:
    policy = set_default(admin_api, env)
    path = policies_path(env, policy["id"]) + "/usage"
    bad_to = admin_api.get(path, params={"to": "+1 not a number"})
    assert detail(assert_pingone_error(bad_to, 400, "INVALID_DATA"), "INVALID_VALUE", "to")["message"]
    long_user = admin_api.get(path, params={"user.id": "u" * 129})
    assert detail(assert_pingone_error(long_user, 400, "INVALID_DATA"), "INVALID_VALUE", "user.id")["message"]
    other_env = admin_api.new_environment("usage-other")
    assert_pingone_error(admin_api.get(policies_path(other_env, policy["id"]) + "/usage"), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.get(policies_path(env, "not-a-uuid") + "/usage"), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.get(policies_path(env, policy["id"]).replace(env, "x") + "/usage"), 404, "NOT_FOUND")
