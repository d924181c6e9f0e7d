"""Group commit: concurrent jobs share transactions, each caller gets its own result or error, and
on PostgreSQL several batches are written at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from phone_delivery.store.batch_writer import BatchWriter, Deferred
from phone_delivery.store.database import Conn, Database


class CountingDatabase(Database):
    """Counts write transactions and how many were open at once."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.transactions = 0
        self.open = 0
        self.most_open = 0

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        async with super().write() as conn:
            self.transactions += 1
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            try:
                yield conn
            finally:
                self.open -= 1


async def _setup(url: str) -> CountingDatabase:
    database = CountingDatabase(url)
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    database.transactions = 0
    return database


def _insert(value: int, pause: float = 0.0):  # type: ignore[no-untyped-def]
    async def job(conn: Conn) -> int:
        await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
        if pause:
            await asyncio.sleep(pause)
        return value

    return job


def test_concurrent_jobs_share_transactions(database_url: str) -> None:
    async def scenario() -> tuple[list[int], int]:
        database = await _setup(database_url)
        writer = BatchWriter(database)
        results = await asyncio.gather(*(writer.run(_insert(i)) for i in range(200)))
        transactions = database.transactions
        await database.dispose()
        return results, transactions

    results, transactions = asyncio.run(scenario())
    assert results == list(range(200))
    assert transactions <= 4  # 200 commits became a few


def test_a_failing_job_fails_only_its_caller(database_url: str) -> None:
    async def scenario() -> tuple[list[object], list[int]]:
        database = await _setup(database_url)
        writer = BatchWriter(database)
        jobs = [_insert(i) for i in range(20)]
        jobs[7] = _insert(3)  # a duplicate key
        results = await asyncio.gather(*(writer.run(job) for job in jobs), return_exceptions=True)
        async with database.read() as conn:
            stored = [r[0] for r in await conn.execute(text("SELECT x FROM t ORDER BY x"))]
        await database.dispose()
        return results, stored

    results, stored = asyncio.run(scenario())
    assert isinstance(results[7], Exception) and "unique" in str(results[7]).lower()
    assert [r for i, r in enumerate(results) if i != 7] == [i for i in range(20) if i != 7]
    assert stored == [i for i in range(20) if i != 7]


def test_postgres_writes_batches_in_parallel_and_sqlite_one_at_a_time(database_url: str) -> None:
    async def scenario() -> int:
        database = await _setup(database_url)
        writer = BatchWriter(database, max_batch=4)
        await asyncio.gather(*(writer.run(_insert(i, pause=0.01)) for i in range(40)))
        most_open = database.most_open
        await database.dispose()
        return most_open

    most_open = asyncio.run(scenario())
    assert most_open == (1 if database_url.startswith("sqlite") else 4)


def test_deferred_results_are_settled_once_per_batch_in_job_order(database_url: str) -> None:
    """A job's Deferred gets its settle's answer; settle runs once per transaction with all the
    batch's Deferreds in job order, before the commit (its writes commit with the jobs'), and again
    for each job alone when the batch is rerun one by one."""
    calls: list[list[int]] = []

    async def settle(conn: Conn, items: list[int]) -> list[str]:
        calls.append(items)
        for item in items:
            await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": 1000 + item})
        return [f"settled {item}" for item in items]

    def deferred(value: int):  # type: ignore[no-untyped-def]
        async def job(conn: Conn) -> object:
            await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
            return Deferred(value, settle) if value % 2 else value

        return job

    async def scenario(jobs: list[Any]) -> tuple[list[object], list[int]]:
        database = await _setup(database_url)
        writer = BatchWriter(database, parallel=1)
        results = await asyncio.gather(*(writer.run(job) for job in jobs), return_exceptions=True)
        async with database.read() as conn:
            stored = [r[0] for r in await conn.execute(text("SELECT x FROM t ORDER BY x"))]
        async with database.write() as conn:
            await conn.execute(text("DROP TABLE t"))
        await database.dispose()
        return results, stored

    results, stored = asyncio.run(scenario([deferred(i) for i in range(10)]))
    assert results == [f"settled {i}" if i % 2 else i for i in range(10)]
    assert calls == [[1, 3, 5, 7, 9]]
    assert stored == [*range(10), 1001, 1003, 1005, 1007, 1009]

    calls.clear()
    jobs = [deferred(i) for i in range(6)]
    jobs[4] = _insert(2)  # a duplicate key: the batch is rerun job by job
    results, stored = asyncio.run(scenario(jobs))
    assert isinstance(results[4], Exception)
    assert results[:4] + results[5:] == [0, "settled 1", 2, "settled 3", "settled 5"]
    assert calls == [[1], [3], [5]]  # the batch failed before its settle, then each job alone
    assert stored == [0, 1, 2, 3, 5, 1001, 1003, 1005]


def test_a_settle_that_fails_fails_only_the_jobs_it_fails_for(database_url: str) -> None:
    """A settle raising for the batch: every job is run again alone, with its own settle; only the
    job whose settle fails alone gets the error, and nothing of the failed transaction stays."""

    async def settle(conn: Conn, items: list[int]) -> list[int]:
        if 3 in items:
            raise RuntimeError("settle failed")
        return items

    def deferred(value: int):  # type: ignore[no-untyped-def]
        async def job(conn: Conn) -> object:
            await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
            return Deferred(value, settle)

        return job

    async def scenario() -> tuple[list[object], list[int]]:
        database = await _setup(database_url)
        writer = BatchWriter(database, parallel=1)
        results = await asyncio.gather(*(writer.run(deferred(i)) for i in range(6)), return_exceptions=True)
        async with database.read() as conn:
            stored = [r[0] for r in await conn.execute(text("SELECT x FROM t ORDER BY x"))]
        await database.dispose()
        return results, stored

    results, stored = asyncio.run(scenario())
    assert isinstance(results[3], RuntimeError)
    assert results[:3] + results[4:] == [0, 1, 2, 4, 5]
    assert stored == [0, 1, 2, 4, 5]
