"""Group commit: many small write jobs share one transaction.

Jobs submitted while a transaction is being written wait for the next one, which runs them all in
order and commits once. With one writer at a time (SQLite) this turns N commits into one. On
PostgreSQL, where every statement is a round trip, up to ``parallel`` batches are written at once on
their own connections (jobs never depend on the order of other callers' jobs; rows two jobs both
touch are serialised by PostgreSQL's row locks). If the shared transaction fails, every job of that
batch is run again in a transaction of its own, so one bad job never fails the others and each
caller sees its own result or error.

A job may return a ``Deferred``: its ``settle`` runs once for all the batch's Deferreds with that
settle, in job order, after every job of the batch ran and before the commit, and gives each its
result. Work that locks shared rows (the policy counters) goes there: it holds the locks for the end
of the transaction only, and does for the whole batch what each job would have done alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from phone_delivery.store.database import Conn, Database

Job = Callable[[Conn], Awaitable[Any]]
Pending = tuple[Job, "asyncio.Future[Any]"]
Settle = Callable[[Conn, list[Any]], Awaitable[list[Any]]]


@dataclass(frozen=True)
class Deferred:
    """A job's result that ``settle`` gives at the end of the batch (see the module's docstring)."""

    item: Any
    settle: Settle


async def _settled(conn: Conn, results: list[Any]) -> list[Any]:
    """``results`` with each Deferred replaced by what its settle answered for it."""
    groups: dict[Settle, list[int]] = {}
    for index, result in enumerate(results):
        if isinstance(result, Deferred):
            groups.setdefault(result.settle, []).append(index)
    for settle, indexes in groups.items():
        answers = await settle(conn, [results[index].item for index in indexes])
        for index, answer in zip(indexes, answers, strict=True):
            results[index] = answer
    return results


class BatchWriter:
    def __init__(self, database: Database, max_batch: int = 256, parallel: int | None = None) -> None:
        self._database = database
        self._max_batch = max_batch
        self._parallel = parallel if parallel is not None else (1 if database.sqlite else 4)
        self._pending: list[Pending] = []
        self._draining: set[asyncio.Task[None]] = set()

    async def run(self, job: Callable[[Conn], Awaitable[Any]]) -> Any:
        """The job's result, or what the batch's settle answered for its Deferred."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))
        # A drain that has just returned is done before its done-callbacks run: count live ones only.
        self._draining = {task for task in self._draining if not task.done()}
        if len(self._draining) < self._parallel:
            self._draining.add(asyncio.create_task(self._drain()))
        return await future

    async def aclose(self) -> None:
        """Wait for the batches being written (a caller that gave up, such as a send cancelled at
        shutdown, leaves its job to finish here rather than under a disposed database)."""
        while self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)
            self._draining = {task for task in self._draining if not task.done()}

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            results: list[Any] = []
            try:
                async with self._database.write() as conn:
                    for job, _ in batch:
                        results.append(await job(conn))
                    await _settled(conn, results)
            except Exception:  # noqa: BLE001 - the batch is rerun job by job, each job's error goes to its caller
                await self._one_by_one(batch)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[Pending]) -> None:
        for job, future in batch:
            try:
                async with self._database.write() as conn:
                    [result] = await _settled(conn, [await job(conn)])
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
                if not future.done():
                    future.set_exception(exc)
                continue
            if not future.done():
                future.set_result(result)
