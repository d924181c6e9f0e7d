"""The many-row writes straight on asyncpg (``store/prepared_write.py``) run inside the caller's
transaction: what it rolls back is not there, what it commits is there with every column as given;
on PostgreSQL the driver's own executemany runs them once the transaction has begun, and SQLAlchemy
does before that (and on SQLite)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from phone_delivery.domain.models import Activity
from phone_delivery.store.activities_repo import ActivityRepository
from phone_delivery.store.database import Database
from phone_delivery.store.notifications_repo import NotificationRepository
from phone_delivery.store.prepared_write import PreparedWrite
from phone_delivery.store.tables import activities, attempts, notifications
from tests.conftest import Stack


class Rollback(Exception):
    pass


def activity(env: str, description: str) -> Activity:
    return Activity(
        id=str(uuid.uuid4()),
        environment_id=env,
        action_type="NOTIFICATION.UPDATED",
        actor_type="WORKER",
        actor_id=None,
        actor_name="Ünïcode actor ☎",
        resource_type="NOTIFICATION",
        resource_id=str(uuid.uuid4()),
        resource_name=None,
        description=description,
        recorded_at=1_700_000_000_123,
    )


async def write(database: Database, items: list[Activity], *, begun: bool, fail: bool) -> None:
    async with database.write() as conn:
        if begun:
            await conn.execute(text("SELECT 1"))
        await ActivityRepository(conn).insert_many(items)
        if fail:
            raise Rollback


async def stored(database: Database, ids: list[str]) -> list[dict[str, Any]]:
    async with database.read() as conn:
        rows = await conn.execute(select(activities).where(activities.c.id.in_(ids)).order_by(activities.c.id))
        return [dict(row._mapping) for row in rows]


@pytest.fixture
def driver_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of the writes that took the driver's own executemany, in order."""
    runs: list[str] = []
    original = PreparedWrite.sql_and_arguments

    def spied(self: PreparedWrite, rows: Any) -> Any:
        sql, arguments = original(self, rows)
        runs.append(sql)
        return sql, arguments

    monkeypatch.setattr(PreparedWrite, "sql_and_arguments", spied)
    return runs


@pytest.mark.parametrize("begun", [True, False], ids=["after a statement", "first in the transaction"])
def test_many_row_writes_are_the_transactions(stack: Stack, env: str, begun: bool, driver_runs: list[str]) -> None:
    async def run() -> None:
        database = Database(stack.database_url)
        try:
            undone = [activity(env, f"rolled back {i}") for i in range(3)]
            with pytest.raises(Rollback):
                await write(database, undone, begun=begun, fail=True)
            assert await stored(database, [a.id for a in undone]) == []
            kept = [activity(env, f'kept {i}: "quoted" \\ back, ünï ☎') for i in range(5)]
            await write(database, kept, begun=begun, fail=False)
            rows = await stored(database, [a.id for a in kept])
            assert rows == sorted((vars(a) for a in kept), key=lambda row: row["id"])
        finally:
            await database.dispose()

    asyncio.run(run())
    expected = 2 if stack.backend == "postgresql" and begun else 0  # the rolled-back write and the kept one
    assert len(driver_runs) == expected, driver_runs
    assert all(sql.startswith("INSERT INTO activities") for sql in driver_runs)


def test_attempts_opened_and_finished_on_the_driver_keep_every_column(
    stack: Stack, env: str, driver_runs: list[str]
) -> None:
    """The attempts' INSERT and the outcome's UPDATE, whose compiled SET order differs from the
    order of its columns' names: each value lands in its own column."""
    notification_id = str(uuid.uuid4())
    opened = [
        {
            "id": str(uuid.uuid4()),
            "notification_id": notification_id,
            "sender_id": f"sender {i}",
            "provider": None,
            "outcome": "IN_PROGRESS",
            "provider_message_id": None,
            "error_code": None,
            "error_message": None,
            "worker": "worker ü",
            "started_at": 1_000 + i,
            "finished_at": None,
        }
        for i in range(3)
    ]
    finished = [
        {
            "attempt_id": row["id"],
            "outcome": f"OUTCOME_{i}",
            "provider": f"PROVIDER_{i}",
            "provider_message_id": f"SM{i}",
            "error_code": None if i == 0 else f"code {i}",
            "error_message": None if i == 0 else f'message {i}: "☎" \\',
            "finished_at": 2_000 + i,
        }
        for i, row in enumerate(opened)
    ]

    async def run() -> list[dict[str, Any]]:
        database = Database(stack.database_url)
        try:
            async with database.write() as conn:
                await conn.execute(
                    insert(notifications).values(
                        id=notification_id,
                        environment_id=env,
                        delivery_method="SMS",
                        to_number="+14155552671",
                        content_ciphertext="x",
                        status="SENDING",
                        chain=[],
                        chain_position=0,
                        tries_at_position=0,
                        created_at=1,
                        updated_at=1,
                    )
                )
                await NotificationRepository(conn).insert_attempts(opened)
            async with database.write() as conn:
                await conn.execute(text("SELECT 1"))
                await NotificationRepository(conn).finish_attempts(finished)
            async with database.read() as conn:
                query = select(attempts).where(attempts.c.notification_id == notification_id)
                return [dict(row._mapping) for row in await conn.execute(query.order_by(attempts.c.started_at))]
        finally:
            await database.dispose()

    rows = asyncio.run(run())
    expected = [
        {**row, **{k: v for k, v in done.items() if k != "attempt_id"}}
        for row, done in zip(opened, finished, strict=True)
    ]
    assert rows == expected
    if stack.backend == "postgresql":
        assert [sql.split()[0] for sql in driver_runs] == ["INSERT", "UPDATE"]
    else:
        assert driver_runs == []
