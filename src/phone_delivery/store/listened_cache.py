"""Values read from PostgreSQL, kept in this process only while it listens for their change.

The tables a kept value is read from have triggers (migration 0007) that ``NOTIFY`` a channel at
the commit of every statement that changes them, whichever process or tool made the change. The
cache listens on that channel on a connection of its own and forgets everything at each
notification. So a change made by another process is seen once its notification arrives (a few
milliseconds after its commit on one machine); one made by this process at once, since
``Database.write()`` calls ``forget()`` after committing a change to those tables.

Nothing is kept while the cache does not listen: before its ``LISTEN`` has taken effect, after its
connection was lost (it listens again at the next use, no sooner than ``RELISTEN_SECONDS`` after a
failed attempt), or on another event loop than the one it listens on. A value whose read began
before a notification (or before listening began) is not kept either (``generation``). Each value
is kept ``KEEP_SECONDS`` at most, a bound on staleness if a connection dies without the kernel
telling (a notification can then be lost without the termination being seen).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import structlog

from phone_delivery.expiring_cache import ExpiringCache

if TYPE_CHECKING:
    import asyncpg

log = structlog.get_logger(logger_name="phone_delivery.database")

K = TypeVar("K")
V = TypeVar("V")

KEEP_SECONDS = 10.0
RELISTEN_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 10.0


class ListenedCache(Generic[K, V]):
    def __init__(self, connect: dict[str, Any], channel: str, max_entries: int = 10_000) -> None:
        self._connect = connect
        self._channel = channel
        self._entries: ExpiringCache[K, V] = ExpiringCache(max_entries)
        self.generation = 0  # bumped by forget(): read it before a read, pass it to keep()
        self._listener: asyncpg.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[None] | None = None
        self._retry_at = 0.0

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed() and self._loop is _running_loop()

    def get(self, key: K) -> V | None:
        """The kept value; None when there is none, or the cache cannot keep values right now (then
        it starts listening, for the reads that come after)."""
        if not self._ready():
            return None
        return self._entries.get(key)

    def keep(self, key: K, value: V, generation: int) -> None:
        """Keep a value read after ``generation`` was taken, unless something changed since."""
        if generation == self.generation and self.listening:
            self._entries.put(key, value, KEEP_SECONDS)

    def forget(self) -> None:
        self.generation += 1
        self._entries.clear()

    def _ready(self) -> bool:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._drop()  # listening on a loop that is gone, or not this one
            self._loop = loop
        if self._listener is not None:
            if not self._listener.is_closed():
                return True
            self._lost(self._listener)
        if self._starting is None and time.monotonic() >= self._retry_at:
            self._starting = loop.create_task(self._listen(loop))
        return False

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        import asyncpg

        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(**{"timeout": CONNECT_TIMEOUT_SECONDS, **self._connect})
            await connection.add_listener(self._channel, self._notified)
            connection.add_termination_listener(self._lost)
        except BaseException as exc:
            if connection is not None:
                connection.terminate()
            if not isinstance(exc, Exception):
                raise  # cancelled by close()
            log.warning("cache_listen_failed", channel=self._channel, error=type(exc).__name__)
            self._retry_at = time.monotonic() + RELISTEN_SECONDS
            return
        finally:
            if self._starting is asyncio.current_task():
                self._starting = None
        if self._loop is not loop:  # dropped or closed while it connected
            connection.terminate()
            return
        self.forget()  # what was read before LISTEN took effect may have missed a notification
        self._listener = connection

    def _notified(self, _connection: Any, _pid: int, _channel: str, _payload: object) -> None:
        self.forget()

    def _lost(self, connection: Any) -> None:
        if connection is not self._listener:
            return
        self._listener = None
        self.forget()
        log.warning("cache_listener_lost", channel=self._channel)

    def _drop(self) -> None:
        """Stop listening on the loop used so far, which may be gone: nothing is awaited on it (a
        listen still starting there finds the loop changed and lets its connection go)."""
        listener, self._listener = self._listener, None
        self._starting = None
        self.forget()
        if listener is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop refuses even the callbacks of closing
                listener.terminate()

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        starting, self._starting = self._starting, None
        here = self._loop is _running_loop()
        self._loop = None
        self.forget()
        if starting is not None and here:
            starting.cancel()
        if listener is not None:
            if here:
                await listener.close()
            else:
                with contextlib.suppress(RuntimeError):
                    listener.terminate()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
