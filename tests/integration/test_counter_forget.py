"""The worker forgets policy counters no rule reads any more (untouched for two days, no block in
force), in bounded batches; today's counters and blocks stay, and quotas go on counting from them."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import insert, select

from phone_delivery.domain.clock import now_ms
from phone_delivery.store.batch_writer import BatchWriter
from phone_delivery.store.database import Database
from phone_delivery.store.tables import notification_counters
from phone_delivery.worker.delivery_worker import COUNTERS_FORGET_BATCH, COUNTERS_KEPT_MS, DeliveryWorker, WorkerMetrics
from tests.conftest import Stack
from tests.integration.test_delivery import send, unique_number
from tests.integration.test_policy_enforcement import set_default
from tests.support import Api

OLD_ROWS = 2 * COUNTERS_FORGET_BATCH + 500  # three batches


def _row(env: str, key: str, last_at: int, blocked_until: int | None = None) -> dict[str, Any]:
    return {
        "environment_id": env,
        "counter_key": key,
        "window_start": last_at - last_at % 86_400_000,
        "count": 1,
        "last_at": last_at,
        "blocked_until": blocked_until,
    }


async def _forget(stack: Stack, env: str) -> tuple[int, set[str]]:
    database = Database(stack.database_url)
    try:
        now = now_ms()
        old = now - COUNTERS_KEPT_MS - 1000
        rows = [_row(env, f"quota:old:user:u{i}", old) for i in range(OLD_ROWS)]
        rows += [
            _row(env, "cooldown:old:sms:number:+14155550100", old, blocked_until=now + 600_000),  # block in force
            _row(env, "quota:yesterday:user:u", now - 86_400_000),  # not two days old yet
        ]
        async with database.write() as conn:
            await conn.execute(insert(notification_counters), rows)
        worker = DeliveryWorker(
            database,
            None,  # type: ignore[arg-type]  # forgetting counters reads no secret
            None,  # type: ignore[arg-type]
            stack.settings,
            WorkerMetrics(CollectorRegistry()),
            stack.url,
            BatchWriter(database),
        )
        forgotten = await worker.forget_old_counters()
        async with database.read() as conn:
            query = select(notification_counters.c.counter_key).where(notification_counters.c.environment_id == env)
            left = {str(key) for key in (await conn.execute(query)).scalars()}
        return forgotten, left
    finally:
        await database.dispose()


def test_old_counters_are_forgotten_and_todays_go_on_counting(stack: Stack, admin_api: Api, env: str) -> None:
    policy = set_default(admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 3}])
    for _ in range(2):
        assert send(admin_api, env, to=unique_number(), user={"id": "kept"}).status_code == 202
    forgotten, left = asyncio.run(_forget(stack, env))
    assert forgotten >= OLD_ROWS  # (other tests' environments may have had old rows too)
    assert not any(key.startswith("quota:old:user:") for key in left)
    assert left == {
        "cooldown:old:sms:number:+14155550100",
        "quota:yesterday:user:u",
        f"quota:{policy['id']}:user:kept",
    }
    # today's count survived: one more send is allowed, the next is over the quota
    assert send(admin_api, env, to=unique_number(), user={"id": "kept"}).status_code == 202
    assert send(admin_api, env, to=unique_number(), user={"id": "kept"}).status_code == 429
