"""The policy counters settled for a whole group commit at once (``PolicyGate.lock``, ``decide``
each send, ``store``) decide every send exactly as one transaction per send would: the same
refusals, the same rows left in ``notification_counters``, on SQLite and on PostgreSQL. Sends of
two environments, every counted rule (quotas of both types, the hourly cap, prefix velocity,
cooldowns), windows that end on the way."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from sqlalchemy import text

from phone_delivery.delivery.policy_gate import CountedSend, PolicyGate
from phone_delivery.domain.policy_rules import SendFacts
from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.policies_repo import SendContext

RULES: dict[str, Any] = {
    "quotas": [{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 8}],
    "fraudProtection": {
        "numberHourlyCap": {"enabled": True, "limit": 6},
        "prefixVelocity": {
            "enabled": True,
            "prefixLength": 9,
            "distinctNumbers": 5,
            "windowSeconds": 600,
            "blockSeconds": 300,
        },
    },
    "cooldownConfiguration": {
        "voice": {
            "enabled": True,
            "periods": [
                {"duration": 30, "timeUnit": "SECONDS"},
                {"duration": 1, "timeUnit": "MINUTES"},
                {"duration": 2, "timeUnit": "MINUTES"},
            ],
            "groupBy": "USER_ID",
            "resendLimit": 2,
        }
    },
}
ENV_QUOTA: dict[str, Any] = {"quotas": [{"type": "ENVIRONMENT", "deliveryMethods": ["SMS", "Voice"], "total": 9}]}
START = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000 + 86_400_000 - 700_000  # 11.7 minutes before a day ends


def _sends(seed: int) -> list[CountedSend]:
    """Random sends of two environments (each with its own policy), time moving on by 0-40 s."""
    gate = PolicyGate("sqlite")
    chooser = random.Random(seed)
    contexts = {
        "env-a": SendContext((), "ALL", frozenset(), "policy-a", "a", RULES),
        "env-b": SendContext((), "ALL", frozenset(), "policy-b", "b", ENV_QUOTA),
    }
    sends, now = [], START
    for _ in range(160):
        now += chooser.choice([0, 0, 1_000, 5_000, 40_000])
        env = chooser.choice(["env-a", "env-a", "env-b"])
        method = chooser.choice(["SMS", "VOICE"])
        to = f"+1415555{chooser.randrange(10 if method == 'SMS' else 2):04d}"  # calls: a few numbers, cooldowns
        facts = SendFacts(method, to, "US", chooser.choice(["u1", "u2", "u3", "u4", "u5", None]))
        plan = gate.plan(contexts[env], facts, now)
        assert plan.refusal is None and plan.counts
        sends.append(CountedSend(env, plan.counted, to, now))
    return sends


async def _settle(url: str, sends: list[CountedSend], together: bool) -> tuple[list[str | None], list[Any]]:
    """(each send's refusing rule or None, the counter rows left), settled in one transaction or one
    transaction per send."""
    database = Database(url)
    await upgrade_to_head(database)
    gate = PolicyGate("sqlite" if database.sqlite else "postgresql")
    try:
        async with database.write() as conn:
            for env in ("env-a", "env-b"):
                await conn.execute(
                    text("INSERT INTO environments VALUES (:id, :id, NULL, 'SANDBOX', 'NA', 1, 1)"), {"id": env}
                )
        refusals = []
        batches = [sends] if together else [[send] for send in sends]
        for batch in batches:
            async with database.write() as conn:
                counters = await gate.lock(conn, batch)
                refusals += [counters.decide(send) for send in batch]
                await counters.store()
        async with database.read() as conn:
            rows = list(
                await conn.execute(text("SELECT * FROM notification_counters ORDER BY environment_id, counter_key"))
            )
        return [refusal.rule if refusal else None for refusal in refusals], [tuple(row) for row in rows]
    finally:
        async with database.write() as conn:
            await conn.execute(text("DELETE FROM environments"))
        await database.dispose()


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_a_batch_settles_like_one_transaction_per_send(database_url: str, seed: int) -> None:
    sends = _sends(seed)
    together, rows_together = asyncio.run(_settle(database_url, sends, together=True))
    alone, rows_alone = asyncio.run(_settle(database_url, sends, together=False))
    assert together == alone
    assert rows_together == rows_alone
    # every rule had its say (the comparison is not of sends that were all accepted)
    assert {"QUOTA", "NUMBER_HOURLY_CAP", "PREFIX_VELOCITY", "COOLDOWN", "RESEND_LIMIT", None} <= set(together), set(
        together
    )
