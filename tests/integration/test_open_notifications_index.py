"""The worker's claim and queue statistics read only the open notifications (QUEUED, SENDING)
through an index of those alone: on a grown database their cost does not grow with the delivered
ones. The statements the repository really runs are captured and EXPLAINed, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.notifications_repo import NotificationRepository
from phone_delivery.store.tables import notifications
from tests.conftest import drop_postgres_database, make_postgres_database, require_postgres

ROWS = 2000


def _notification(index: int, status: str) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "environment_id": "e",
        "delivery_method": "SMS",
        "to_number": "+14155552671",
        "content_ciphertext": "x",
        "status": status,
        "chain": [],
        "chain_position": 0,
        "tries_at_position": 1,
        "next_attempt_at": index,
        "created_at": index,
        "updated_at": index,
    }


async def _plans(url: str) -> dict[str, str]:
    database = Database(url)
    await upgrade_to_head(database)
    statements: list[tuple[str, Any]] = []
    ours = make_url(url).database

    def capture(conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        # this database's statements only: the session's service in this process has a worker too
        if conn.engine.url.database == ours:
            statements.append((statement, parameters))

    try:
        async with database.write() as conn:
            await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
            rows = [_notification(i, "DELIVERED" if i % 100 else "QUEUED") for i in range(ROWS)]
            await conn.execute(insert(notifications), rows)
        if not database.sqlite:
            async with database.write() as conn:
                await conn.execute(text("ANALYZE notifications"))
        event.listen(Engine, "before_cursor_execute", capture)
        try:
            async with database.read() as conn:
                depth, _ = await NotificationRepository(conn).queue_stats(10**12)
            stats = statements[-1]
            async with database.write() as conn:
                claimed = await NotificationRepository(conn).claim("w", 10**12, 1000, 5, not database.sqlite)
            due = next(s for s in statements if s[0].lstrip().upper().startswith("SELECT") and "LIMIT" in s[0].upper())
        finally:
            event.remove(Engine, "before_cursor_execute", capture)
        assert depth == ROWS // 100 and len(claimed) == 5
        plans = {}
        for name, (statement, parameters) in {"queue stats": stats, "claim": due}.items():
            if database.sqlite:
                with sqlite3.connect(make_url(url).database or "") as raw:
                    result = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            else:
                async with database.write() as conn:
                    # PostgreSQL may prefer a scan of a small table: that the index can be used is the point
                    await conn.execute(text("SET LOCAL enable_seqscan = off"))
                    assert isinstance(conn, AsyncConnection)
                    result = list(await conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            plans[name] = "\n".join(" ".join(str(v) for v in row) for row in result)
        return plans
    finally:
        await database.dispose()


def test_the_claim_and_the_queue_statistics_read_only_open_notifications(database_url: str) -> None:
    plans = asyncio.run(_plans(database_url))
    for name, plan in plans.items():
        assert "ix_notifications_open" in plan, f"{name}:\n{plan}"


async def _claim_plan_when_the_planner_misjudges(url: str) -> str:
    """The plan of the claim's due-notifications SELECT, in the claim's own transaction, when the
    planner believes an ordered index walk costs a random page per row (``random_page_cost``): what
    stale statistics make it believe while a table grows faster than autovacuum analyzes it."""
    database = Database(url)
    await upgrade_to_head(database)
    statements: list[tuple[str, Any]] = []
    ours = make_url(url).database

    def capture(conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if conn.engine.url.database == ours:
            statements.append((statement, parameters))

    try:
        async with database.write() as conn:
            await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
            rows = [_notification(i, "QUEUED") for i in range(ROWS)]
            for row in rows:  # due in an order that is not the table's
                row["next_attempt_at"] = (int(row["created_at"]) * 7919) % ROWS
            await conn.execute(insert(notifications), rows)
        async with database.write() as conn:
            await conn.execute(text("ANALYZE notifications"))
        async with database.write() as conn:
            assert isinstance(conn, AsyncConnection)
            await conn.execute(text("SET LOCAL random_page_cost = 1000"))
            event.listen(Engine, "before_cursor_execute", capture)
            try:
                claimed = await NotificationRepository(conn).claim("w", 10**12, 1000, 16, True)
            finally:
                event.remove(Engine, "before_cursor_execute", capture)
            assert len(claimed) == 16
            statement, parameters = next(s for s in statements if "LIMIT" in s[0].upper())
            result = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
            return "\n".join(str(row[0]) for row in result)
    finally:
        await database.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_postgres()
    db = make_postgres_database()
    try:
        yield db.url
    finally:
        drop_postgres_database(db)


def test_a_claim_walks_the_open_index_in_order_whatever_the_planner_believes(postgres_url: str) -> None:
    """Without it the planner read every due notification (2,000 here, 12,000 in a benchmark's
    backlog) and sorted them for a claim of 16: the claim loop became the worker's bound."""
    plan = asyncio.run(_claim_plan_when_the_planner_misjudges(postgres_url))
    assert "Index Scan using ix_notifications_open" in plan, plan
    assert "Sort" not in plan, plan
