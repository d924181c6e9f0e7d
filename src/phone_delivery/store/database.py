"""Engines and transactions.

``read()`` opens a short read transaction; ``write()`` opens the request's one write transaction.

On SQLite writes go through aiosqlite and begin with ``BEGIN IMMEDIATE`` (one writer at a time,
waiting up to the busy timeout) so that a transaction which read first never fails when it later
writes. Reads run inline on the event loop with the standard ``sqlite3`` driver: in WAL mode a
reader never waits for a writer, and a primary-key read takes ~30 us inline against ~700 us for
aiosqlite's round trips to its thread. On PostgreSQL writes are ordinary asyncpg transactions and
reads run in autocommit (each statement its own snapshot), saving the BEGIN and ROLLBACK round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.base import Executable


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(engine: Engine, begin: str | None) -> None:
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
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if begin is not None:
        statement = begin

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(statement)


class InlineConnection:
    """A synchronous SQLAlchemy connection behind the one method repositories use."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | list[dict[str, Any]] | None = None
    ) -> CursorResult[Any]:
        return self._connection.execute(statement, parameters)


# What repositories receive: an async connection, or an inline one for SQLite reads.
Conn = AsyncConnection | InlineConnection


class Database:
    """Owns the engines of one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.inline_reader: Engine | None = None
        self._inline: Connection | None = None
        if self.sqlite:
            self.writer: AsyncEngine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=2)
            _sqlite_pragmas(self.writer.sync_engine, "BEGIN IMMEDIATE")
            sync_url = make_url(url).set(drivername="sqlite")
            self.inline_reader = create_engine(
                sync_url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=5
            )
            _sqlite_pragmas(self.inline_reader, None)
        else:
            self.writer = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        # PostgreSQL reads in autocommit: one round trip per query instead of BEGIN/query/ROLLBACK.
        self._autocommit_reader = self.writer.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        if self.inline_reader is not None:
            # One long-lived connection serves every inline read of this process: reads run on
            # the event loop thread and finish without yielding, so they never overlap.
            if self._inline is None or self._inline.closed:
                self._inline = self.inline_reader.connect()
            try:
                yield InlineConnection(self._inline)
            finally:
                self._inline.rollback()
            return
        async with self._autocommit_reader.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.writer.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        if self.inline_reader is not None:
            self.inline_reader.dispose()
