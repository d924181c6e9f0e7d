"""The hottest many-row writes, straight on the transaction's driver connection (PostgreSQL).

A ``PreparedWrite`` is one INSERT or UPDATE run for many rows that all have the same keys (an
executemany): the activities of a group commit, the attempts a claim opens and a settle finishes.
On PostgreSQL, inside a transaction SQLAlchemy has begun, it runs as the SQL text SQLAlchemy
compiled for it once, with asyncpg's own ``executemany``, in that same transaction. That skips what
SQLAlchemy adds to each row (building and processing its parameters: about 15 us a row, more than
asyncpg's own work; ``docs/benchmarks.md``). Anywhere else (SQLite, a transaction not begun yet on
the driver, rows whose keys differ) it runs through SQLAlchemy as before.

Only columns whose values asyncpg takes as they are belong here (text and integers: no JSON or
other processed types), and only statements whose errors nobody needs as SQLAlchemy's: the
driver's own errors propagate (an ``IntegrityError`` handler around them would not see a
``UniqueViolationError``), and ``storage_failures`` reads those too. Whether the transaction is open
is asked of asyncpg (``is_in_transaction``, the server's own status) as well as of SQLAlchemy's
adapter, whose bookkeeping differs between its versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase

from phone_delivery.store.database import Conn
from phone_delivery.store.prepared_read import postgres_dialect


class PreparedWrite:
    """``statement`` with the SET or VALUES columns of ``columns``; each row's keys are those
    columns and the statement's own bound names (a WHERE's). Compiled for asyncpg at the first use
    on PostgreSQL (SQLite never imports its dialect)."""

    def __init__(self, statement: UpdateBase, columns: Sequence[str], where: Sequence[str] = ()) -> None:
        self.statement = statement
        self.columns = tuple(columns)
        self.parameters = frozenset((*columns, *where))
        self._compiled: tuple[str, tuple[str, ...]] | None = None

    def sql_and_arguments(self, rows: Sequence[dict[str, Any]]) -> tuple[str, list[tuple[Any, ...]]]:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=postgres_dialect(), column_keys=list(self.columns))
            order = tuple(compiled.positiontup or ())
            if set(order) != self.parameters:
                raise ValueError(f"the statement binds {sorted(order)}, not {sorted(self.parameters)}")
            self._compiled = (str(compiled), order)
        sql, order = self._compiled
        return sql, [tuple(row[name] for name in order) for row in rows]


async def execute_many(conn: Conn, write: PreparedWrite, rows: Sequence[dict[str, Any]]) -> None:
    """Run ``write`` for each row, in ``conn``'s transaction."""
    if not rows:
        return
    driver = await _begun_driver(conn)
    if driver is None or any(row.keys() != write.parameters for row in rows):
        await conn.execute(write.statement, list(rows))
        return
    sql, arguments = write.sql_and_arguments(rows)
    await driver.executemany(sql, arguments)


async def _begun_driver(conn: Conn) -> Any:
    """The asyncpg connection under ``conn`` when SQLAlchemy's transaction is open on it (its adapter
    begins one at the first statement); None otherwise."""
    if not isinstance(conn, AsyncConnection) or conn.dialect.name != "postgresql":
        return None
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    # Both must say so: asyncpg that the server is in a transaction, SQLAlchemy's adapter that it is
    # its own (the one it commits or rolls back; 2.0 and 2.1 name it ``_transaction``, 2.0 may set it
    # before BEGIN has run, which asyncpg then denies). Should a later SQLAlchemy rename it, every
    # write takes SQLAlchemy's path: slower, never outside the transaction (test_prepared_write).
    if driver is None or not driver.is_in_transaction():
        return None
    if getattr(raw.dbapi_connection, "_transaction", None) is None:
        return None
    return driver
