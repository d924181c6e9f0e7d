"""Quotas are exact under concurrency: with a quota of N and 200 concurrent sends split across two API
servers on one database (two processes' worth of engines, writers and workers), exactly N are
accepted, N notifications are queued and delivered, and every other send is refused with 429 and
its activity. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from phone_delivery.app import create_app
from tests.conftest import Stack
from tests.integration.test_delivery import inbox, unique_number
from tests.integration.test_notification_policies import policies_path
from tests.integration.test_policy_enforcement import queued_to, rejected, set_default
from tests.support import Api, LiveServer, SandboxAdmin, wait_drained

REQUESTS = 200


async def _burst(
    bases: list[str], env: str, token: str, bodies: list[dict[str, Any]], keys: bool = False
) -> list[httpx.Response]:
    """Every body POSTed at once, in turn to each base; with ``keys``, every other one with an
    Idempotency-Key of its own."""
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        start = asyncio.Event()

        async def one(index: int, body: dict[str, Any]) -> httpx.Response:
            await start.wait()
            return await client.post(
                f"{bases[index % len(bases)]}/v1/environments/{env}/notifications",
                json=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    **({"Idempotency-Key": f"burst-{uuid.uuid4()}"} if keys and index % 2 else {}),
                },
            )

        tasks = [asyncio.create_task(one(i, body)) for i, body in enumerate(bodies)]
        await asyncio.sleep(0)
        start.set()
        return list(await asyncio.gather(*tasks))


@pytest.mark.parametrize(("quota_type", "limit"), [("USER", 7), ("ENVIRONMENT", 11)])
def test_a_quota_of_n_accepts_exactly_n_of_200_concurrent_sends(
    stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin, quota_type: str, limit: int
) -> None:
    set_default(admin_api, env, quotas=[{"type": quota_type, "deliveryMethods": ["SMS", "Voice"], "total": limit}])
    to = unique_number()
    bodies = [
        {
            "deliveryMethod": "SMS",
            "to": to,
            "message": f"code {i}",
            # USER: one user; ENVIRONMENT: a different user each time
            "user": {"id": "one-user" if quota_type == "USER" else f"user-{i}"},
        }
        for i in range(REQUESTS)
    ]
    second = LiveServer(create_app(stack.settings)).start()  # another API server on the same database
    try:
        responses = asyncio.run(_burst([stack.url, second.url], env, admin_api.token, bodies))
    finally:
        second.stop()
    statuses = [r.status_code for r in responses]
    assert statuses.count(202) == limit, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(429) == REQUESTS - limit, {s: statuses.count(s) for s in set(statuses)}
    for refused in (r for r in responses if r.status_code == 429):
        assert refused.json()["details"][0]["innerError"]["quotaLimit"] == limit
    # exactly N in the outbox, N delivered, one rejection activity for every other send
    assert len(queued_to(admin_api, env, to)) == limit
    assert len(rejected(admin_api, env)) == REQUESTS - limit
    deadline = time.monotonic() + 20
    while len(inbox(sandbox, to)) < limit and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)
    assert len(inbox(sandbox, to)) == limit
    # and the quota is still used up afterwards
    late = admin_api.post(f"/v1/environments/{env}/notifications", json=bodies[0])
    assert late.status_code == 429


def test_concurrent_sends_of_many_users_never_deadlock(stack: Stack, admin_api: Api, env: str) -> None:
    """Sends of a few users at once, each taking its user's quota row and its number's cooldown row:
    on PostgreSQL no transaction ever waits for another in a cycle (pg_stat_database.deadlocks)."""
    if stack.pg is None:
        pytest.skip("deadlocks are PostgreSQL's; SQLite's writes are serial")
    set_default(
        admin_api,
        env,
        quotas=[{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 1000}],
        fraudProtection={"numberHourlyCap": {"enabled": True, "limit": 1000}},
    )
    numbers = [unique_number() for _ in range(5)]
    bodies = [
        {"deliveryMethod": "SMS", "to": numbers[i % 5], "message": "m", "user": {"id": f"u{(i * 7) % 10}"}}
        for i in range(REQUESTS)
    ]
    before = asyncio.run(_deadlocks(stack.pg.dsn, stack.pg.name))
    responses = asyncio.run(_burst([stack.url], env, admin_api.token, bodies))
    assert [r.status_code for r in responses] == [202] * REQUESTS
    assert asyncio.run(_deadlocks(stack.pg.dsn, stack.pg.name)) == before
    # The same with an Idempotency-Key on every other send (those are written once accepted)
    keyed = asyncio.run(_burst([stack.url], env, admin_api.token, bodies, keys=True))
    assert [r.status_code for r in keyed] == [202] * REQUESTS
    assert asyncio.run(_deadlocks(stack.pg.dsn, stack.pg.name)) == before
    # 400 deliveries and their 800 status callbacks: not in the way of the next tests' sends (the
    # cooldown test after this one timed out on the platform account three times while they ran)
    wait_drained(admin_api, env, statuses="QUEUED,SENDING,SENT")


async def _deadlocks(dsn: str, name: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(await conn.fetchval("SELECT deadlocks FROM pg_stat_database WHERE datname = $1", name))
    finally:
        await conn.close()


@pytest.mark.parametrize("cooldown", [False, True])
def test_one_idempotency_key_sent_at_once_takes_one_unit(
    stack: Stack, admin_api: Api, env: str, cooldown: bool
) -> None:
    """Twenty copies of one keyed request at once (many in one group commit, others in parallel
    ones): one notification, one quota unit, every copy answered with it; with a cooldown too (a
    copy decided as a second send would be refused as too soon)."""
    from tests.integration.test_policy_cooldowns import cooldowns  # that module imports this one

    rules: dict[str, Any] = {"cooldownConfiguration": cooldowns(resend_limit=2)} if cooldown else {}
    policy = set_default(admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS"], "total": 3}], **rules)
    to, key = unique_number(), f"same-{uuid.uuid4()}"

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            f"{stack.url}/v1/environments/{env}/notifications",
                            json={"deliveryMethod": "SMS", "to": to, "message": "m", "user": {"id": "keyed"}},
                            headers={"Authorization": f"Bearer {admin_api.token}", "Idempotency-Key": key},
                        )
                        for _ in range(20)
                    )
                )
            )

    responses = asyncio.run(burst())
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(queued_to(admin_api, env, to)) == 1
    usage = admin_api.get(policies_path(env, policy["id"]) + "/usage", params={"user.id": "keyed"}).json()
    assert usage["quotas"][0]["subject"]["used"] == 1
    assert rejected(admin_api, env) == []
