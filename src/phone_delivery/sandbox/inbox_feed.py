"""The inbox's changes, carried to the event loop of a request that waits for them.

``InboxStore`` tells its listeners on whatever thread changed it: the serving loop (a Twilio send),
a test's own thread (``state.deliver``), a worker thread. A feed hands each event to its loop with
``call_soon_threadsafe``, so waiting needs no polling and no lock on the loop's side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from starlette.types import Receive

from phone_delivery.sandbox.inbox_query import InboxQuery
from phone_delivery.sandbox.inbox_store import InboxEvent, InboxStore

T = TypeVar("T")
QUEUED = 1000  # events a slow reader may fall behind by before it is told to start again


class InboxFeed:
    """Events for one reader on the running loop; ``overflowed`` when it fell too far behind."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[InboxEvent] = asyncio.Queue()
        self.overflowed = False
        self._loop = asyncio.get_running_loop()

    def hear(self, event: InboxEvent) -> None:  # on the changing thread
        with suppress(RuntimeError):  # the loop has closed: nobody is reading any more
            self._loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: InboxEvent) -> None:  # on the loop
        if self.queue.qsize() >= QUEUED:
            self.overflowed = True
            return
        self.queue.put_nowait(event)

    async def next(self, timeout: float) -> InboxEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


@contextmanager
def listening(store: InboxStore) -> Iterator[InboxFeed]:
    feed = InboxFeed()
    stop = store.subscribe(feed.hear)
    try:
        yield feed
    finally:
        stop()


async def wait_for_newest(store: InboxStore, query: InboxQuery, seconds: float) -> dict[str, Any] | None:
    """The newest entry matching ``query``: with ``query.since``, one received since then; without,
    one that arrives after this call began. Waits up to ``seconds`` for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    after = store.total if query.since is None else 0  # positions given before this call began

    def newest() -> dict[str, Any] | None:
        found = store.newest(query.matches, 1, received_since=query.since)
        return found[0] if found and int(found[0]["seq"]) > after else None

    with listening(store) as feed:  # listening before looking: nothing slips between the two
        found = newest()
        while found is None and (remaining := deadline - loop.time()) > 0:
            event = await feed.next(remaining)
            if event is None:
                break
            if feed.overflowed:  # fell behind the events: ask the store itself
                feed.overflowed = False
                found = newest()
            elif event.entry is not None and _wanted(event, query, after):
                found = event.entry
    return found


def _wanted(event: InboxEvent, query: InboxQuery, after: int) -> bool:
    assert event.entry is not None
    return (
        int(event.entry["seq"]) > after
        and query.matches(event.entry)
        and (query.since is None or event.received >= query.since)
    )


async def until_disconnected(receive: Receive) -> None:
    """Returns when the client goes away (a request's body, already read or empty, is skipped)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(work: Coroutine[Any, Any, T], receive: Receive) -> T | None:
    """``work``'s result, or None as soon as the client goes away (``work`` is then cancelled, so a
    client that gave up waiting leaves no listener behind)."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(until_disconnected(receive))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None
