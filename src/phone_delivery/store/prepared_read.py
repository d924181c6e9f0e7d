"""Reads of the hottest requests, straight on the driver.

A ``PreparedRead`` is one SELECT built once with named bound parameters. On SQLite it runs inline
like every other read. On PostgreSQL it runs on a small asyncpg pool of its own (``DirectReads``),
as the SQL text SQLAlchemy compiled for it once: asyncpg prepares it on each connection the first
time and reuses it. This skips what SQLAlchemy's async engine adds to every statement (a greenlet
switch, pool checkout and check-in events, cursor and result set-up), about 150 us a read on the
2-core bench machine, a fifth of a whole sender read (``docs/benchmarks.md``).

Only single statements that read committed data belong here (each runs in autocommit, as the
engine's reads do); anything inside a transaction goes through ``Database.read()``/``write()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Select
from sqlalchemy.engine import URL

if TYPE_CHECKING:  # imported when a PostgreSQL database is opened: SQLite starts without them
    import asyncpg
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg


@cache
def postgres_dialect() -> PGDialect_asyncpg:
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    return PGDialect_asyncpg()  # type: ignore[no-untyped-call]


# What SQLAlchemy's URL may carry for its own asyncpg adapter, which asyncpg itself does not take.
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback")

# Connections of the direct pool of each process (the engine keeps its own 20 for everything else).
DIRECT_POOL_SIZE = 8
# Longest wait for a free connection, and for one statement: then the read is a 503, as the
# engine's pool_timeout makes it (a connection dropped without a word would otherwise hold its
# request until the kernel gives up on the socket).
DIRECT_TIMEOUT_SECONDS = 30.0


class PreparedRead:
    """A SELECT with named bound parameters, compiled for asyncpg once. ``postgres`` is the same
    query where PostgreSQL needs another form (``= ANY(array)`` for SQLite's expanding ``IN``, which
    would be compiled anew for each length); it must select the same columns."""

    def __init__(self, statement: Select[Any], postgres: Select[Any] | None = None) -> None:
        self.statement = statement
        self._postgres = statement if postgres is None else postgres
        columns = list(statement.selected_columns)
        self.keys = tuple(str(c.key) for c in columns)
        self.json_at = tuple(i for i, c in enumerate(columns) if isinstance(c.type, JSON))
        # the SQL text, and for each of its parameters in order: its name, or the value it was
        # built with (a constant of the statement, such as ``provider = 'PINGONE_TWILIO'``)
        self._sql: tuple[str, tuple[tuple[str, bool, Any], ...]] | None = None

    def sql_and_arguments(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL text for asyncpg (compiled at the first use) and its arguments in order."""
        if self._sql is None:
            compiled = self._postgres.compile(dialect=postgres_dialect())
            binds = [(name, compiled.binds[name]) for name in compiled.positiontup or ()]
            self._sql = (
                str(compiled),
                tuple((n, b.required, None if b.required else b.effective_value) for n, b in binds),
            )
        sql, order = self._sql
        return sql, [params[name] if required else value for name, required, value in order]

    def as_dict(self, record: Any) -> dict[str, Any]:
        values = list(record)
        for i in self.json_at:
            if isinstance(values[i], str):
                values[i] = json.loads(values[i])
        return dict(zip(self.keys, values, strict=True))


def asyncpg_connect_arguments(url: URL) -> dict[str, Any]:
    """asyncpg's keyword arguments for the URL the engine uses (host, port, user, password,
    database and any query options), as SQLAlchemy's own adapter would pass them."""
    _args, kwargs = postgres_dialect().create_connect_args(url)  # type: ignore[no-untyped-call]
    arguments = {k: v for k, v in kwargs.items() if k not in _SQLALCHEMY_ONLY}
    if "prepared_statement_cache_size" in kwargs:  # e.g. 0 behind pgbouncer in transaction mode
        arguments["statement_cache_size"] = int(kwargs["prepared_statement_cache_size"])
    return arguments


async def _nothing_to_reset(_conn: asyncpg.Connection) -> None:
    """Instead of asyncpg's reset of a connection given back to the pool (a round trip of
    ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``, 4% of a send's samples):
    these connections only ever run single SELECTs in autocommit, which leave no session state
    (asyncpg still rolls back a transaction left open, which none is)."""


class DirectReads:
    """The asyncpg pool of ``PreparedRead`` statements, opened at the first read of the event loop
    that uses it (a pool belongs to one loop; a ``Database`` serves one loop at a time)."""

    def __init__(self, connect: dict[str, Any]) -> None:
        self._connect = connect
        self._pool: asyncpg.Pool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[asyncpg.Pool] | None = None

    async def fetch(self, query: PreparedRead, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        pool = self._pool
        if pool is None or self._loop is not asyncio.get_running_loop():
            pool = await self._open()
        sql, arguments = query.sql_and_arguments(params)
        async with pool.acquire(timeout=DIRECT_TIMEOUT_SECONDS) as conn:
            records = await conn.fetch(sql, *arguments)
        return [query.as_dict(r) for r in records]

    async def _open(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._discard()
            self._loop = loop
        opening = self._opening
        if opening is None:  # one pool however many requests arrive while it opens
            opening = self._opening = asyncio.ensure_future(self._create())
        try:
            pool = await asyncio.shield(opening)
        except BaseException:
            if opening.done() and self._opening is opening:
                self._opening = None  # a failed open is tried again by the next read
            raise
        if self._opening is not opening:  # closed while it opened: the pool is not kept
            pool.terminate()
            raise OSError("the database connections were closed")
        self._pool = pool
        return pool

    async def _create(self) -> asyncpg.Pool:
        import asyncpg

        pool = await asyncpg.create_pool(
            min_size=0,
            max_size=DIRECT_POOL_SIZE,
            reset=_nothing_to_reset,  # asyncpg 0.30 and later
            command_timeout=DIRECT_TIMEOUT_SECONDS,
            **self._connect,
        )
        assert pool is not None
        return pool

    def _discard(self) -> None:
        if self._pool is not None:
            # its loop is gone or not ours: nothing can be awaited on it (and a closed loop refuses
            # even the callbacks of closing: its sockets go with the garbage)
            with contextlib.suppress(RuntimeError):
                self._pool.terminate()
        self._pool = None
        self._opening = None

    async def close(self) -> None:
        pool, self._pool, self._opening = self._pool, None, None
        if pool is not None:
            if self._loop is asyncio.get_running_loop():
                await pool.close()
            else:
                pool.terminate()
