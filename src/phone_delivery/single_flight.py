"""One lookup at a time per key: callers that miss a kept value together share one read.

A kept value (the caller's roles, a resolved sender) expires for every request at the same moment.
Without this, each of the requests in flight then (32 under the benchmarks' load) read the same rows
on a connection of its own, and on PostgreSQL each paid its own round trips. With it, the first
caller's lookup runs as a task of its own and the others await its result or its exception. A
caller that is cancelled (its client went away) does not cancel the lookup the others wait for.

``forget`` lets callers that come later start a lookup of their own: after a change, none of them
may get what a lookup begun before it read. The lookup's owner decides whether to keep what it read
(the resolvers' generation checks). Lookups are kept apart per event loop (the tests run more than
one; a loop closed with a lookup pending never matches a new one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flights: dict[tuple[asyncio.AbstractEventLoop, K], asyncio.Future[V]] = {}
        self.lookups = 0  # lookups started (counts up; the tests read it)

    async def run(self, key: K, lookup: Callable[[], Awaitable[V]]) -> V:
        """The result of ``lookup()``, or of the one already running for ``key``."""
        slot = (asyncio.get_running_loop(), key)
        flight = self._flights.get(slot)
        if flight is None:
            for stale in [slot for slot in self._flights if slot[0].is_closed()]:
                del self._flights[stale]  # left by a loop that closed with its lookup pending
            flight = asyncio.ensure_future(lookup())
            self.lookups += 1
            self._flights[slot] = flight
            flight.add_done_callback(lambda done: self._landed(slot, done))
        return await asyncio.shield(flight)

    def _landed(self, slot: tuple[asyncio.AbstractEventLoop, K], done: asyncio.Future[V]) -> None:
        if self._flights.get(slot) is done:
            del self._flights[slot]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone, and asyncio would log it

    def forget(self, key: K | None = None) -> None:
        """Later callers of ``key`` (of every key, without one) start a lookup of their own."""
        if key is None:
            self._flights.clear()
            return
        for slot in [slot for slot in self._flights if slot[1] == key]:
            del self._flights[slot]
