"""Engines and transactions.

``read()`` opens a short read transaction; ``write()`` opens the request's one write transaction.

On SQLite both run inline on the event loop with the standard ``sqlite3`` driver, each on one
long-lived connection of this process: a statement takes tens of microseconds inline against
~500 us for a round trip to a driver thread (aiosqlite), and SQLite serves one writer at a time
anyway. Writes begin with ``BEGIN IMMEDIATE`` so that a transaction which read first never fails
when it later writes. Write transactions of this process take turns on an ``asyncio.Lock``; when
another process holds SQLite's write lock, ``BEGIN IMMEDIATE`` fails at once (busy timeout 0) and
is retried after an ``asyncio.sleep``, so the event loop never blocks waiting for it (up to
``WRITE_LOCK_TIMEOUT`` seconds, then the error is raised). Code inside ``write()`` must not wait on
the network: other writers of the process wait for it. In WAL mode a reader never waits for a writer.
A ``Database`` serves one event loop thread at a time (each process has one; tests build one per
server thread).

On PostgreSQL writes are ordinary asyncpg transactions and reads run in autocommit (each statement
its own snapshot), saving the BEGIN and ROLLBACK round trips. ``fetch()`` runs the few reads of the
hottest requests (``PreparedRead``) straight on asyncpg, without SQLAlchemy's async engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from phone_delivery.domain.errors import ServiceUnavailable
from phone_delivery.store.kept_values import KeptValues
from phone_delivery.store.listened_cache import ListenedCache
from phone_delivery.store.prepared_read import DirectReads, PreparedRead, asyncpg_connect_arguments
from phone_delivery.store.storage_failures import storage_failure
from phone_delivery.store.tables import SEND_CONTEXT_CHANNEL, SEND_CONTEXT_TABLES, SEND_CONTEXT_VERSION_SQL
from phone_delivery.store.versioned_cache import VersionedCache

log = structlog.get_logger(logger_name="phone_delivery.database")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


WRITE_LOCK_TIMEOUT = 30.0


def _sqlite_pragmas(engine: Engine, begin: str | None, busy_timeout_ms: int = 30000) -> None:
    """``begin`` is how write transactions start; ``None`` leaves reads in autocommit (each
    SELECT is its own consistent snapshot, with no BEGIN/ROLLBACK round)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if begin is not None:
            # Let SQLAlchemy's "begin" event decide how transactions start.
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    if begin is not None:
        statement = begin

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(statement)


# A pooled PostgreSQL connection unused for longer than this is checked before it serves again.
IDLE_BEFORE_PING = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Liveness that costs nothing on the hot path: SQLAlchemy's ``pool_pre_ping`` checks every
    checkout (on asyncpg ``BEGIN; ";"; ROLLBACK``: three round trips before each query). Here only a
    connection that sat idle in the pool for ``IDLE_BEFORE_PING`` seconds is pinged; a dead one is
    replaced before it is handed out, with every connection older than it (``InvalidatePoolError``,
    which the pool retries on). Under load every
    connection comes back within milliseconds and none is pinged; a server that drops connections
    is found out at the first checkout after a second of quiet, as with ``pool_pre_ping``."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # as pool_pre_ping does: the server dropped connections, so every older one is suspect too
            raise InvalidatePoolError("a pooled connection was dead after being idle") from exc


class InlineConnection:
    """A synchronous SQLAlchemy connection behind the one method repositories use."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | list[dict[str, Any]] | None = None
    ) -> CursorResult[Any]:
        return self._connection.execute(statement, parameters)


# What repositories receive: an async connection, or an inline one on SQLite.
Conn = AsyncConnection | InlineConnection


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(exc)


class Database:
    """Owns the engines of one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.inline_reader: Engine | None = None
        self._inline_writer: Engine | None = None
        self._inline: Connection | None = None
        self._inline_write: Connection | None = None
        self.writes_failing: str | None = None  # why writes failed, until probe_write() works again
        self._direct: DirectReads | None = None
        # The send contexts this process keeps (``policies_repo.read_send_context``), and on
        # PostgreSQL the write connections whose transaction changed a table they are read from.
        self.send_contexts: KeptValues[Any, Any] | None = None
        self._changing_send_contexts: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._listened: ListenedCache[Any, Any] | None = None
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        if self.sqlite:
            # Used by migrations only; the service's own writes run inline (see write()).
            self.writer: AsyncEngine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=2)
            _sqlite_pragmas(self.writer.sync_engine, "BEGIN IMMEDIATE")
            sync_url = make_url(url).set(drivername="sqlite")
            self.inline_reader = create_engine(
                sync_url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=5
            )
            _sqlite_pragmas(self.inline_reader, None)
            self._inline_writer = create_engine(
                sync_url,
                connect_args={"check_same_thread": False, "timeout": 0},
                pool_size=1,
                isolation_level="AUTOCOMMIT",  # transactions are begun and ended by write() itself
            )
            _sqlite_pragmas(self._inline_writer, None, busy_timeout_ms=0)
            self.send_contexts = VersionedCache(self._send_context_version)
        else:
            # READ COMMITTED whatever the server's default: the policy counters are read after their
            # advisory locks and must see what the transaction that held them committed.
            self.writer = create_async_engine(url, pool_size=20, max_overflow=0, isolation_level="READ COMMITTED")
            _ping_when_idle(self.writer.sync_engine)
            connect = asyncpg_connect_arguments(self.writer.url)
            self._direct = DirectReads(connect)
            # Behind a pooler in transaction mode (pgbouncer: the URL's prepared_statement_cache_size=0)
            # a LISTEN stays on a server connection that goes back to the pool: nothing is kept there.
            if connect.get("statement_cache_size") != 0:
                self._listened = ListenedCache(connect, SEND_CONTEXT_CHANNEL)
                self.send_contexts = self._listened
                event.listen(self.writer.sync_engine, "after_execute", self._note_send_context_change)
        # PostgreSQL reads in autocommit: one round trip per query instead of BEGIN/query/ROLLBACK.
        self._autocommit_reader = self.writer.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """A read transaction. The database being unreachable or unable to serve is a 503
        (``ServiceUnavailable``), not a bug."""
        try:
            if self.inline_reader is not None:
                # One long-lived connection serves every inline read of this process: reads run on
                # the event loop thread and finish without yielding, so they never overlap.
                inline = self._inline_read_connection()
                try:
                    yield InlineConnection(inline)
                finally:
                    inline.rollback()
                return
            async with self._autocommit_reader.connect() as conn:
                yield conn
        except Exception as exc:
            unavailable = self._unavailable(exc, writing=False)
            if unavailable is None:
                raise
            raise unavailable from exc

    async def fetch(self, query: PreparedRead, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The rows of one hot read, as dicts (errors as ``read()``'s)."""
        if self._direct is None:
            async with self.read() as conn:
                result = await conn.execute(query.statement, params)
                keys = query.keys
                return [dict(zip(keys, row, strict=True)) for row in result.all()]
        try:
            return await self._direct.fetch(query, params)
        except Exception as exc:
            unavailable = self._unavailable(exc, writing=False)
            if unavailable is None:
                raise
            raise unavailable from exc

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        """The request's one write transaction. A write the database refuses for a reason of its
        own (disk full, read-only, unreachable) is a 503 and marks writes as failing
        (``writes_failing``, which ``/health/ready`` reports) until a probe write works again."""
        try:
            if self._inline_writer is None:
                changing: Connection | None = None
                try:
                    async with self.writer.begin() as conn:
                        changing = conn.sync_connection
                        yield conn
                finally:
                    # after the commit: a send that reads its context from now on reads it anew
                    if changing is not None and changing in self._changing_send_contexts:
                        self._changing_send_contexts.discard(changing)
                        if self._listened is not None:
                            self._listened.forget()
                return
            async with self._write_lock():
                connection = await self._begin_immediate()
                driver = connection.connection.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                try:
                    yield InlineConnection(connection)
                    driver.execute("COMMIT")
                finally:
                    if driver.in_transaction:  # the block raised, or COMMIT failed
                        driver.execute("ROLLBACK")
                    connection.rollback()  # ends SQLAlchemy's own bookkeeping; nothing at the driver
        except Exception as exc:
            unavailable = self._unavailable(exc, writing=True)
            if unavailable is None:
                raise
            raise unavailable from exc

    def _note_send_context_change(self, conn: Connection, statement: Any, *_args: Any) -> None:
        """SQLAlchemy's ``after_execute``: a statement that may change a table send contexts are read
        from marks its transaction (``write()`` then forgets them once it commits)."""
        if isinstance(statement, UpdateBase):
            changing = getattr(statement.table, "name", None) in SEND_CONTEXT_TABLES
        else:  # SQL as text (``text()``, ``exec_driver_sql``): anything but a SELECT naming one of them
            sql = statement.text if isinstance(statement, TextClause) else statement
            changing = (
                isinstance(sql, str)
                and not sql.lstrip().upper().startswith("SELECT")
                and any(table in sql for table in SEND_CONTEXT_TABLES)
            )
        if changing:
            self._changing_send_contexts.add(conn)

    def _unavailable(self, exc: Exception, *, writing: bool) -> ServiceUnavailable | None:
        """The 503 for a database error that means the database cannot serve (None for any other
        error); a failed write also marks writes as failing."""
        reason = storage_failure(exc)
        if reason is None:
            return None
        if writing:
            if self.writes_failing is None:
                log.error("database_writes_failing", reason=reason, error=type(exc).__name__)
            self.writes_failing = reason
        return ServiceUnavailable(
            f"The database cannot serve this request right now: {reason}. Nothing was changed; try again later."
        )

    async def probe_write(self) -> None:
        """A real write that changes nothing; when it works, writes are no longer marked as failing.
        (Only a probe clears the mark: a write transaction that happened to write nothing proves
        nothing.) ``/health/ready`` runs it while writes are marked as failing."""
        async with self.write() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        if self.writes_failing is not None:
            log.warning("database_writes_recovered", reason=self.writes_failing)
            self.writes_failing = None

    def _write_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    async def _begin_immediate(self) -> Connection:
        """The write connection inside ``BEGIN IMMEDIATE``, waiting (without blocking the event loop)
        while another process holds SQLite's write lock."""
        assert self._inline_writer is not None
        if self._inline_write is None or self._inline_write.closed:
            self._inline_write = self._inline_writer.connect()
        driver = self._inline_write.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
        pause = 0.001
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return self._inline_write
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    def check_sqlite_opens(self) -> None:
        """Open (creating it if need be) and close the SQLite file; raises OperationalError if it cannot."""
        assert self.inline_reader is not None
        with self.inline_reader.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def _inline_read_connection(self) -> Connection:
        assert self.inline_reader is not None
        if self._inline is None or self._inline.closed:
            self._inline = self.inline_reader.connect()
        return self._inline

    def _send_context_version(self) -> int | None:
        """SQLite: the version of the send contexts' tables now (``versioned_cache``), read in
        autocommit on the inline read connection; None when it cannot be read."""
        try:
            driver = self._inline_read_connection().connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            row = driver.execute(SEND_CONTEXT_VERSION_SQL).fetchone()
        except (sqlite3.Error, SQLAlchemyError):
            return None
        return int(row[0]) if row is not None else None

    async def dispose(self) -> None:
        if self._listened is not None:
            await self._listened.close()
        if self._direct is not None:
            await self._direct.close()
        await self.writer.dispose()
        for connection in (self._inline, self._inline_write):
            if connection is not None:
                connection.close()
        self._inline = self._inline_write = None
        for engine in (self.inline_reader, self._inline_writer):
            if engine is not None:
                engine.dispose()
