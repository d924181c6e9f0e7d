"""The SMS-pumping defences beyond PingOne (``fraudProtection``), over real HTTP on both databases:
off by default; number types, a per-number hourly cap and a prefix velocity limit, each refusal
naming its rule, nothing queued, a NOTIFICATION.REJECTED activity, the trip as an activity."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from tests.conftest import Stack
from tests.integration.test_delivery import send, unique_number
from tests.integration.test_notification_policies import check, policies_path
from tests.integration.test_policy_concurrency import _burst
from tests.integration.test_policy_cooldowns import Clock
from tests.integration.test_policy_enforcement import (
    assert_nothing_sent,
    queued_to,
    refused_metric,
    rejected,
    set_default,
)
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail


def of_type(prefix: str, digits: int, kind: int) -> str:
    """A random valid number of this phonenumbers type (the sandbox's inbox is shared by every test)."""
    while True:
        number = f"{prefix}{random.randrange(10**digits):0{digits}d}"
        parsed = phonenumbers.parse(number)
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) == kind:
            return number


def premium() -> str:
    return of_type("+44909", 7, PhoneNumberType.PREMIUM_RATE)  # GB 09: premium rate


def shared_cost() -> str:
    return of_type("+33811", 6, PhoneNumberType.SHARED_COST)  # FR 081: shared cost


@pytest.fixture
def clock_moved(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr("phone_delivery.delivery.service.now_ms", moved.now)
    return moved


POLICY = "The notification policy 'Default Notification Policy'"


def activities(api: Api, env: str, action: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/environments/{env}/activities", params={"actionType": action, "limit": 1000})
    return list(response.json()["_embedded"]["activities"])


def test_off_by_default(admin_api: Api, env: str) -> None:
    assert send(admin_api, env, to=premium()).status_code == 202
    assert send(admin_api, env, to=shared_cost()).status_code == 202


def test_refused_number_types(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    policy = set_default(admin_api, env, fraudProtection={"numberTypes": {"enabled": True}})
    check(policy)
    assert policy["fraudProtection"] == {
        "numberTypes": {"enabled": True, "refused": ["PREMIUM_RATE", "SHARED_COST", "UNKNOWN"]}
    }
    before = refused_metric(stack, "NUMBER_TYPE")
    for to, kind in ((premium(), "PREMIUM_RATE"), (shared_cost(), "SHARED_COST")):
        error = assert_pingone_error(send(admin_api, env, to=to), 400, "INVALID_DATA")
        message = f"{POLICY} refuses {kind} numbers (fraudProtection.numberTypes): this number is one."
        assert error["details"] == [{"code": "INVALID_VALUE", "target": "to", "message": message}]
        assert_nothing_sent(admin_api, env, sandbox, to)
    assert refused_metric(stack, "NUMBER_TYPE") == before + 2
    assert all("(NUMBER_TYPE)" in reason for reason in rejected(admin_api, env))
    assert send(admin_api, env, to=unique_number()).status_code == 202
    # the list is the policy's own
    set_default(admin_api, env, fraudProtection={"numberTypes": {"enabled": True, "refused": ["FIXED_LINE_OR_MOBILE"]}})
    assert send(admin_api, env, to=premium()).status_code == 202
    assert send(admin_api, env, to=unique_number()).status_code == 400


def test_a_per_number_hourly_cap(stack: Stack, admin_api: Api, env: str) -> None:
    set_default(admin_api, env, fraudProtection={"numberHourlyCap": {"enabled": True, "limit": 2}})
    to = unique_number()
    assert [send(admin_api, env, to=to, user={"id": f"u{i}"}).status_code for i in range(2)] == [202, 202]
    refused = send(admin_api, env, to=to, user={"id": "u3"})
    error = assert_pingone_error(refused, 429, "REQUEST_LIMITED")
    [item] = error["details"]
    assert item["code"] == "LIMIT_EXCEEDED" and item["target"] == "to"
    assert item["message"].startswith(
        f"{POLICY} allows 2 notifications to one number per hour (fraudProtection.numberHourlyCap); "
        "this number's resets at "
    )
    assert refused.headers["Retry-After"] == str(item["innerError"]["retryAfter"])
    assert len(queued_to(admin_api, env, to)) == 2
    assert send(admin_api, env, to=unique_number()).status_code == 202
    assert "(NUMBER_HOURLY_CAP)" in rejected(admin_api, env)[0]


def test_prefix_velocity_trips_and_blocks_the_prefix(admin_api: Api, env: str, clock_moved: Clock) -> None:
    velocity = {"enabled": True, "prefixLength": 7, "distinctNumbers": 3, "windowSeconds": 600, "blockSeconds": 900}
    policy = set_default(admin_api, env, fraudProtection={"prefixVelocity": velocity})
    assert policy["fraudProtection"]["prefixVelocity"] == velocity
    numbers = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]
    for to in numbers[:3]:
        assert send(admin_api, env, to=to).status_code == 202
    assert send(admin_api, env, to=numbers[0]).status_code == 202  # the same number again is not a new one
    tripped = send(admin_api, env, to=numbers[3])
    error = assert_pingone_error(tripped, 429, "REQUEST_LIMITED")
    message = error["details"][0]["message"]
    assert message.startswith(f"{POLICY} refuses sends to numbers starting with +1415555 until ")
    assert message.endswith(
        "more than 3 different numbers of that prefix within 600 seconds (fraudProtection.prefixVelocity)."
    )
    assert tripped.headers["Retry-After"] == "900"
    [trip] = activities(admin_api, env, "NOTIFICATION_POLICY.RULE_TRIPPED")
    assert trip["action"]["description"].startswith(
        "prefixVelocity tripped: more than 3 different numbers starting with +1415555 within 600 seconds"
    )
    assert trip["resources"][0]["id"] == policy["id"]
    # the prefix is blocked, even for a number sent to before; other prefixes are not
    assert send(admin_api, env, to=numbers[0]).status_code == 429
    assert queued_to(admin_api, env, numbers[3]) == []
    assert send(admin_api, env, to="+14165550101").status_code == 202
    assert len(activities(admin_api, env, "NOTIFICATION_POLICY.RULE_TRIPPED")) == 1  # tripped once
    clock_moved.advance(901)
    assert send(admin_api, env, to=numbers[3]).status_code == 202


def test_concurrent_sends_to_one_prefix_trip_exactly_at_the_limit(admin_api: Api, env: str) -> None:
    velocity = {"enabled": True, "prefixLength": 8, "distinctNumbers": 5, "windowSeconds": 3600, "blockSeconds": 600}
    set_default(admin_api, env, fraudProtection={"prefixVelocity": velocity})
    bodies = [{"deliveryMethod": "SMS", "to": f"+1650555{i:04d}", "message": "m"} for i in range(1000, 1030)]
    responses = asyncio.run(_burst([admin_api.base], env, admin_api.token, bodies))
    statuses = [r.status_code for r in responses]
    assert statuses.count(202) == 5 and statuses.count(429) == 25, statuses
    assert len(activities(admin_api, env, "NOTIFICATION_POLICY.RULE_TRIPPED")) == 1


def test_fraud_protection_validation(admin_api: Api, env: str) -> None:
    base = {"name": "f", "quotas": []}
    cases = [
        (
            {"prefixVelocity": {"enabled": True, "prefixLength": 2}},
            "OUT_OF_RANGE",
            "fraudProtection.prefixVelocity.prefixLength",
        ),
        (
            {"prefixVelocity": {"enabled": True, "blockSeconds": 10**6}},
            "OUT_OF_RANGE",
            "fraudProtection.prefixVelocity.blockSeconds",
        ),
        ({"numberHourlyCap": {"enabled": True}}, "REQUIRED_VALUE", "fraudProtection.numberHourlyCap.limit"),
        ({"numberHourlyCap": {"enabled": True, "limit": 0}}, "OUT_OF_RANGE", "fraudProtection.numberHourlyCap.limit"),
        (
            {"numberTypes": {"enabled": True, "refused": ["PREMIUM"]}},
            "INVALID_VALUE",
            "fraudProtection.numberTypes.refused[0]",
        ),
        ({"numberTypes": {"enabled": True, "refused": []}}, "REQUIRED_VALUE", "fraudProtection.numberTypes.refused"),
        ({"numberTypes": {"refused": ["UNKNOWN"]}}, "REQUIRED_VALUE", "fraudProtection.numberTypes.enabled"),
    ]
    for fraud, code, target in cases:
        response = admin_api.post(policies_path(env), json={**base, "fraudProtection": fraud})
        detail(assert_pingone_error(response, 400, "INVALID_DATA"), code, target)
