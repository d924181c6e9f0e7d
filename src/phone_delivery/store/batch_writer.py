"""Group commit: many small write jobs share one transaction.

Jobs submitted while a transaction is being written wait for the next one, which runs them all in
order and commits once. With one writer at a time (SQLite) this turns N commits into one. On
PostgreSQL, where every statement is a round trip, up to ``parallel`` batches are written at once on
their own connections (jobs never depend on the order of other callers' jobs; rows two jobs both
touch are serialised by PostgreSQL's row locks). If the shared transaction fails, every job of that
batch is run again in a transaction of its own, so one bad job never fails the others and each
caller sees its own result or error.

A job may name the rows it will lock (``locks``, any strings). On PostgreSQL a batch first takes a
transaction-level advisory lock for each, all in one sorted order: two batches that lock the same rows
in different job orders would otherwise deadlock (PostgreSQL breaks that only after its
``deadlock_timeout``). SQLite writes one transaction at a time and needs none.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import text

from phone_delivery.store.database import Conn, Database

T = TypeVar("T")
Job = Callable[[Conn], Awaitable[Any]]
Pending = tuple[Job, "asyncio.Future[Any]", tuple[str, ...]]
# One statement: the array is unnested in its (sorted) order, so the locks are taken in that order.
_ADVISORY_LOCKS = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")


def lock_id(name: str) -> int:
    """A signed 64-bit advisory lock id for a row name (a collision only serialises two sends)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class BatchWriter:
    def __init__(self, database: Database, max_batch: int = 256, parallel: int | None = None) -> None:
        self._database = database
        self._max_batch = max_batch
        self._parallel = parallel if parallel is not None else (1 if database.sqlite else 4)
        self._pending: list[Pending] = []
        self._draining: set[asyncio.Task[None]] = set()

    async def run(self, job: Callable[[Conn], Awaitable[T]], locks: Iterable[str] = ()) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future, tuple(locks)))
        # A drain that has just returned is done before its done-callbacks run: count live ones only.
        self._draining = {task for task in self._draining if not task.done()}
        if len(self._draining) < self._parallel:
            self._draining.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            results: list[Any] = []
            try:
                async with self._database.write() as conn:
                    await self._lock(conn, [name for _, _, names in batch for name in names])
                    for job, _, _ in batch:
                        results.append(await job(conn))
            except Exception:  # noqa: BLE001 - the batch is rerun job by job, each job's error goes to its caller
                await self._one_by_one(batch)
                continue
            for (_, future, _), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[Pending]) -> None:
        for job, future, names in batch:
            try:
                async with self._database.write() as conn:
                    await self._lock(conn, names)
                    result = await job(conn)
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
                if not future.done():
                    future.set_exception(exc)
                continue
            if not future.done():
                future.set_result(result)

    async def _lock(self, conn: Conn, names: Iterable[str]) -> None:
        ids = sorted({lock_id(name) for name in names})
        if ids and not self._database.sqlite:
            await conn.execute(_ADVISORY_LOCKS, {"keys": ids})
