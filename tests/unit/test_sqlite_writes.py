"""SQLite write transactions run inline on the event loop: they take turns within the process, wait
for another process's write lock without blocking the loop, and leave nothing behind on failure."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from phone_delivery.domain.errors import ServiceUnavailable
from phone_delivery.store import database as database_module
from phone_delivery.store.database import Database


async def _make(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    return database


async def _values(database: Database) -> list[int]:
    async with database.read() as conn:
        return [r[0] for r in await conn.execute(text("SELECT x FROM t ORDER BY x"))]


def _hold_write_lock(path: Path, seconds: float, started: threading.Event) -> None:
    """Another process's writer, as far as SQLite can tell: its own connection holding the lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1000)")
    started.set()
    threading.Event().wait(seconds)
    other.execute("COMMIT")
    other.close()


def test_waits_for_another_writer_without_blocking_the_loop(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, list[int]]:
        database = await _make(tmp_path)
        started = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "w.db", 0.5, started))
        holder.start()
        started.wait(5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        async with database.write() as conn:  # waits ~0.5 s for the other writer
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        ticking.cancel()
        holder.join()
        values = await _values(database)
        await database.dispose()
        return ticks, values

    ticks, values = asyncio.run(scenario())
    assert values == [1, 1000]
    assert ticks >= 20  # the loop ran other work while the write waited for the lock


def test_gives_up_after_the_write_lock_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_module, "WRITE_LOCK_TIMEOUT", 0.2)

    async def scenario() -> None:
        database = await _make(tmp_path)
        started = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "w.db", 1.0, started))
        holder.start()
        started.wait(5)
        try:
            with pytest.raises(ServiceUnavailable, match="write lock") as refused:
                await _insert(database, 1)
            assert isinstance(refused.value.__cause__, sqlite3.OperationalError)
        finally:
            holder.join()
        async with database.write() as conn:  # usable again once the other writer is done
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert await _values(database) == [2, 1000]
        await database.dispose()

    asyncio.run(scenario())


async def _insert(database: Database, *values: int, fail: bool = False) -> None:
    async with database.write() as conn:
        for value in values:
            await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
        if fail:
            raise RuntimeError("the request failed half way")


def test_a_failed_block_leaves_nothing_and_the_next_write_works(tmp_path: Path) -> None:
    async def scenario() -> list[int]:
        database = await _make(tmp_path)
        with pytest.raises(RuntimeError):
            await _insert(database, 1, fail=True)
        with pytest.raises(Exception, match="UNIQUE"):
            await _insert(database, 2, 2)
        await _insert(database, 3)
        values = await _values(database)
        await database.dispose()
        return values

    assert asyncio.run(scenario()) == [3]


def test_concurrent_blocks_of_one_process_take_turns(tmp_path: Path) -> None:
    async def scenario() -> list[int]:
        database = await _make(tmp_path)

        async def writer(value: int) -> None:
            async with database.write() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
                await asyncio.sleep(0.001)  # yield inside the transaction: the others must wait
                await conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": value + 100})

        await asyncio.gather(*(writer(i) for i in range(20)))
        values = await _values(database)
        await database.dispose()
        return values

    assert asyncio.run(scenario()) == sorted([*range(20), *range(100, 120)])
