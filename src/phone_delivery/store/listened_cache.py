"""Values read from PostgreSQL, kept in this process only while it listens for their change.

The tables a kept value is read from have triggers (migration 0007) that ``NOTIFY`` a channel at
the commit of every statement that changes them, whichever process or tool made the change (unless
it disabled triggers: ``session_replication_role = replica``, as ``pg_restore --disable-triggers``
does, or ``ALTER TABLE ... DISABLE TRIGGER``). The cache listens on that channel on a connection of
its own and forgets everything at each notification. So a change made by another process is seen
once its notification arrives (a few milliseconds after its commit on one machine); one made by
this process at once, since ``Database.write()`` calls ``forget()`` after committing a change to
those tables.

Nothing is kept while the cache does not listen: before its ``LISTEN`` has taken effect; after its
connection was lost, until it listens again at a later use (no sooner than ``RELISTEN_SECONDS``
after a failed attempt, doubling up to ``RELISTEN_MAX_SECONDS``); after ``close()``; or on another
event loop than the one it listens on. The listening connection must answer a ``SELECT 1`` every
``HEARTBEAT_SECONDS`` or it is given up as lost (one the network dropped without a word looks open
forever). A value whose read began before a notification (or before listening began) is not kept
either (``generation``). Each value is kept ``KEEP_SECONDS`` at most: the bound on how late a
change is seen when its notification is lost anyway.
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
RELISTEN_SECONDS = 1.0  # after a failed attempt to listen; doubled at each further one
RELISTEN_MAX_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10.0
# The listening connection answers a `SELECT 1` this often, within HEARTBEAT_TIMEOUT_SECONDS, or it
# is given up as dead (a connection the network dropped without a word looks open forever).
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TIMEOUT_SECONDS = 2.0
CLOSE_TIMEOUT_SECONDS = 2.0


class ListenedCache(Generic[K, V]):
    def __init__(self, connect: dict[str, Any], channel: str, max_entries: int = 10_000) -> None:
        self._connect = connect
        self._channel = channel
        self._entries: ExpiringCache[K, V] = ExpiringCache(max_entries)
        self.generation = 0  # bumped by forget(): read it before a read, pass it to keep()
        self._listener: asyncpg.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self._failures = 0  # attempts to listen that failed in a row
        self._closed = False
        self.hits = 0  # gets answered with a kept value, and not (both only count up)
        self.misses = 0

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed() and self._loop is _running_loop()

    def begin(self) -> int:
        """The generation now: take it before a read, pass it to ``keep`` (``KeptValues``)."""
        return self.generation

    def get(self, key: K, _token: int | None = None) -> V | None:
        """The kept value; None when there is none, or the cache cannot keep values right now (then
        it starts listening, for the reads that come after). Everything kept is current: a change
        empties the cache (``forget``)."""
        found = self._entries.get(key) if self._ready() else None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def keep(self, key: K, value: V, generation: int | None) -> None:
        """Keep a value read after ``generation`` was taken, unless something changed since."""
        if generation == self.generation and self.listening:
            self._entries.put(key, value, KEEP_SECONDS)

    def forget(self) -> None:
        self.generation += 1
        self._entries.clear()

    def _ready(self) -> bool:
        if self._closed:
            return False
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
            arguments = {"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": CONNECT_TIMEOUT_SECONDS}
            connection = await asyncpg.connect(**{**arguments, **self._connect})
            await connection.add_listener(self._channel, self._notified)
            connection.add_termination_listener(self._lost)
        except BaseException as exc:
            if connection is not None:
                connection.terminate()
            if not isinstance(exc, Exception):
                raise  # cancelled by close()
            self._failures += 1
            if self._failures == 1:  # once per outage, not at every retry
                log.warning("cache_listen_failed", channel=self._channel, error=type(exc).__name__)
            pause = min(RELISTEN_SECONDS * 2 ** (self._failures - 1), RELISTEN_MAX_SECONDS)
            self._retry_at = time.monotonic() + pause
            return
        finally:
            if self._starting is asyncio.current_task():
                self._starting = None
        if self._loop is not loop or self._closed:  # dropped or closed while it connected
            connection.terminate()
            return
        if self._failures:
            log.info("cache_listening_again", channel=self._channel, failed_attempts=self._failures)
            self._failures = 0
        self.forget()  # what was read before LISTEN took effect may have missed a notification
        self._listener = connection
        self._heartbeat = loop.create_task(self._beat(connection))

    async def _beat(self, connection: asyncpg.Connection) -> None:
        """Give the listening connection up when it stops answering."""
        while connection is self._listener:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if connection is not self._listener:
                return
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), HEARTBEAT_TIMEOUT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - any failure means the connection is no use
                if connection is self._listener:
                    log.warning("cache_listener_silent", channel=self._channel, error=type(exc).__name__)
                    self._lost(connection)
                connection.terminate()
                return

    def _notified(self, _connection: Any, _pid: int, _channel: str, _payload: object) -> None:
        self.forget()

    def _lost(self, connection: Any) -> None:
        if connection is not self._listener:
            return
        self._listener = None
        self._heartbeat = None  # it ends at its next beat, finding another listener (or none)
        self.forget()
        log.warning("cache_listener_lost", channel=self._channel)

    def _drop(self) -> None:
        """Stop listening on the loop used so far, which may be gone: nothing is awaited on it (a
        listen still starting there finds the loop changed and lets its connection go)."""
        listener, self._listener = self._listener, None
        self._starting = self._heartbeat = None
        self.forget()
        if listener is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop refuses even the callbacks of closing
                listener.terminate()

    async def close(self) -> None:
        """Stop listening for good: nothing is kept after this, and no listening starts again."""
        self._closed = True
        listener, self._listener = self._listener, None
        tasks = [task for task in (self._starting, self._heartbeat) if task is not None]
        self._starting = self._heartbeat = None
        here = self._loop is _running_loop()
        self._loop = None
        self.forget()
        if here:
            for task in tasks:
                task.cancel()
        if listener is not None:
            if here:
                try:
                    await listener.close(timeout=CLOSE_TIMEOUT_SECONDS)
                except Exception:  # noqa: BLE001 - a connection that does not answer is cut instead
                    listener.terminate()
            else:
                with contextlib.suppress(RuntimeError):
                    listener.terminate()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
