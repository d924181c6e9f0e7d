"""Cooldowns on the send path, over real HTTP on both databases, with the service's clock moved
forward instead of waiting: periods, the 30-minute block after resendLimit, groupBy USER_ID, the
whitelist exemption, exactness under concurrent sends. Refused sends queue and deliver nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from phone_delivery.domain import clock
from tests.integration.test_delivery import inbox, send, unique_number
from tests.integration.test_policy_concurrency import _burst
from tests.integration.test_policy_enforcement import queued_to, rejected, set_default
from tests.support import Api, SandboxAdmin, assert_pingone_error, wait_final

OFF = {"enabled": False}


def cooldowns(resend_limit: int = 2, **sms: Any) -> dict[str, Any]:
    periods = [
        {"duration": 30, "timeUnit": "SECONDS"},
        {"duration": 2, "timeUnit": "MINUTES"},
        {"duration": 10, "timeUnit": "MINUTES"},
    ]
    return {
        "sms": {"enabled": True, "periods": periods, "resendLimit": resend_limit, **sms},
        "voice": OFF,
        "email": OFF,
        "whatsApp": OFF,
    }


class Clock:
    """The send path's clock, moved forward by ``advance``."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now(self) -> int:
        return clock.now_ms() + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)


@pytest.fixture
def moved_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr("phone_delivery.delivery.service.now_ms", moved.now)
    return moved


def test_periods_and_the_block_after_resend_limit(
    admin_api: Api, env: str, sandbox: SandboxAdmin, moved_clock: Clock
) -> None:
    set_default(admin_api, env, cooldownConfiguration=cooldowns(resend_limit=2))
    to = unique_number()
    first = send(admin_api, env, to=to)
    assert first.status_code == 202, first.text
    moved_clock.advance(5)
    too_soon = send(admin_api, env, to=to)
    error = assert_pingone_error(too_soon, 429, "REQUEST_LIMITED")
    assert error["message"] == "The request was rate limited: the notification policy's cooldown is not over."
    [item] = error["details"]
    assert item["code"] == "LIMIT_EXCEEDED" and item["target"] == "to"
    assert item["message"].startswith(
        "The notification policy 'Default Notification Policy' asks to wait 30 seconds before resend 1 to this "
        "number (cooldownConfiguration.sms.periods[0]): try again at "
    )
    assert 24 <= item["innerError"]["retryAfter"] <= 25
    assert too_soon.headers["Retry-After"] == str(item["innerError"]["retryAfter"])
    moved_clock.advance(25)
    assert send(admin_api, env, to=to).status_code == 202  # resend 1, after 30 s
    moved_clock.advance(60)
    second_wait = send(admin_api, env, to=to).json()["details"][0]["message"]
    assert "wait 120 seconds before resend 2" in second_wait and "periods[1]" in second_wait
    moved_clock.advance(60)
    assert send(admin_api, env, to=to).status_code == 202  # resend 2, after 2 minutes
    moved_clock.advance(600)
    blocked = send(admin_api, env, to=to)  # a third resend: over resendLimit 2
    error = assert_pingone_error(blocked, 429, "REQUEST_LIMITED")
    assert error["details"][0]["message"].startswith(
        "The notification policy 'Default Notification Policy' allows 2 resends to this number "
        "(cooldownConfiguration.sms.resendLimit), then blocks for 30 minutes: blocked until "
    )
    assert blocked.headers["Retry-After"] == "1800"
    moved_clock.advance(29 * 60)
    assert send(admin_api, env, to=to).status_code == 429  # still blocked
    moved_clock.advance(61)
    assert send(admin_api, env, to=to).status_code == 202  # the block is over: a new series
    # only the accepted sends were queued (the ones accepted on the moved clock are due then, so
    # only the first, accepted before the clock moved, is delivered now)
    assert len(queued_to(admin_api, env, to)) == 4
    wait_final(admin_api, env, first.json()["id"], ("DELIVERED",))
    time.sleep(0.3)
    assert len(inbox(sandbox, to)) == 1
    reasons = rejected(admin_api, env)
    assert sum("(COOLDOWN)" in r for r in reasons) == 2 and sum("(RESEND_LIMIT)" in r for r in reasons) == 2


def test_cooldowns_are_per_number_or_per_user_with_group_by(admin_api: Api, env: str, moved_clock: Clock) -> None:
    set_default(admin_api, env, cooldownConfiguration=cooldowns())
    to = unique_number()
    assert send(admin_api, env, to=to, user={"id": "alice"}).status_code == 202
    # by default the number is what cools down, whoever the user
    assert send(admin_api, env, to=to, user={"id": "bob"}).status_code == 429
    assert send(admin_api, env, to=unique_number(), user={"id": "alice"}).status_code == 202
    # SMS and voice cool down apart (voice has no cooldown here)
    assert send(admin_api, env, to=to, method="VOICE").status_code == 202

    set_default(admin_api, env, cooldownConfiguration=cooldowns(groupBy="USER_ID"))
    shared = unique_number()
    assert send(admin_api, env, to=shared, user={"id": "alice"}).status_code == 202
    assert send(admin_api, env, to=shared, user={"id": "bob"}).status_code == 202
    refused = send(admin_api, env, to=shared, user={"id": "alice"})
    assert refused.status_code == 429
    assert refused.json()["details"][0]["target"] == "user.id"
    assert "to this user at this number" in refused.json()["details"][0]["message"]


def test_whitelisted_users_are_exempt_from_cooldowns(admin_api: Api, env: str) -> None:
    set_default(admin_api, env, cooldownConfiguration=cooldowns())
    admin_api.put(f"/v1/environments/{env}/notificationsSettings", json={"whitelist": [{"user": {"id": "qa"}}]})
    to = unique_number()
    assert [send(admin_api, env, to=to, user={"id": "qa"}).status_code for _ in range(4)] == [202] * 4
    assert send(admin_api, env, to=to, user={"id": "someone"}).status_code == 202  # the number's first
    assert send(admin_api, env, to=to, user={"id": "someone"}).status_code == 429


def test_concurrent_sends_to_one_number_start_one_series(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    set_default(admin_api, env, cooldownConfiguration=cooldowns())
    to = unique_number()
    bodies = [{"deliveryMethod": "SMS", "to": to, "message": f"code {i}"} for i in range(50)]
    responses = asyncio.run(_burst([admin_api.base], env, admin_api.token, bodies))
    statuses = [r.status_code for r in responses]
    assert statuses.count(202) == 1 and statuses.count(429) == 49, statuses
    assert len(queued_to(admin_api, env, to)) == 1
    time.sleep(0.5)
    assert len(inbox(sandbox, to)) == 1
