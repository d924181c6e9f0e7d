"""The send path's counters (``notification_counters``): read under lock and written back in the
transaction that writes the notifications (``PolicyGate.settle``), a few statements per group
commit whatever the number of sends.

No check-then-act: every row a transaction reads it holds until commit. On PostgreSQL ``lock``
first takes a transaction-level advisory lock for every row name, all in one sorted order (two
transactions locking the same rows never wait for each other in opposite orders), which also covers
rows that do not exist yet; SQLite writes one transaction at a time (``BEGIN IMMEDIATE`` between
processes). Rows are kept until their day is over (``delete_older_than``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from phone_delivery.domain.counter_ledger import CounterRow
from phone_delivery.store.database import Conn
from phone_delivery.store.tables import notification_counters as counters

Key = tuple[str, str]  # (environment id, counter key)

# One statement: the array is unnested in its (sorted) order, so the locks are taken in that order.
_ADVISORY_LOCKS = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")


def lock_id(environment_id: str, key: str) -> int:
    """A signed 64-bit advisory lock id for a row (a collision only serialises two sends)."""
    name = f"{environment_id}:{key}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


def _store(dialect: Any) -> Any:
    stmt = dialect.insert(counters).values(
        environment_id=bindparam("environment_id"),
        counter_key=bindparam("counter_key"),
        window_start=bindparam("window_start"),
        count=bindparam("count"),
        last_at=bindparam("last_at"),
        blocked_until=bindparam("blocked_until"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[counters.c.environment_id, counters.c.counter_key],
        set_={
            "window_start": stmt.excluded.window_start,
            "count": stmt.excluded.count,
            "last_at": stmt.excluded.last_at,
            "blocked_until": stmt.excluded.blocked_until,
        },
    )


# Built once per dialect: the send path only binds parameters.
_STORE = {"sqlite": _store(sqlite), "postgresql": _store(postgresql)}
_COLUMNS = (
    counters.c.environment_id,
    counters.c.counter_key,
    counters.c.window_start,
    counters.c.count,
    counters.c.last_at,
    counters.c.blocked_until,
)

# Built once: the send path only binds the (environment id, counter key) pairs.
_LOCKED_ROWS = select(*_COLUMNS).where(
    tuple_(counters.c.environment_id, counters.c.counter_key).in_(bindparam("keys", expanding=True))
)


def _counter_row(row: Any) -> CounterRow:
    """A row selected with ``_COLUMNS``."""
    return CounterRow(int(row[2]), int(row[3]), int(row[4]), row[5])


class CounterRepository:
    def __init__(self, conn: Conn, dialect: str) -> None:
        self.conn = conn
        self._dialect = dialect

    async def lock(self, keys: Iterable[Key]) -> dict[Key, CounterRow]:
        """The rows of ``keys`` that exist, held until this transaction ends (rows that do not exist
        yet too, on PostgreSQL, through their advisory locks)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        if self._dialect == "postgresql":
            ids = sorted({lock_id(env, key) for env, key in wanted})
            await self.conn.execute(_ADVISORY_LOCKS, {"keys": ids})
        result: Any = await self.conn.execute(_LOCKED_ROWS, {"keys": wanted})
        return {(row[0], row[1]): _counter_row(row) for row in result}

    async def store(self, rows: dict[Key, CounterRow]) -> None:
        """Write back the rows a transaction changed (locked by ``lock``)."""
        if not rows:
            return
        params = [
            {
                "environment_id": env,
                "counter_key": key,
                "window_start": row.window_start,
                "count": row.count,
                "last_at": row.last_at,
                "blocked_until": row.blocked_until,
            }
            for (env, key), row in sorted(rows.items())
        ]
        await self.conn.execute(_STORE[self._dialect], params)

    async def read(self, environment_id: str, prefix: str) -> list[tuple[str, CounterRow]]:
        """The rows of one environment whose key starts with ``prefix`` (not locked)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(*_COLUMNS)
            .where(
                counters.c.environment_id == environment_id,
                counters.c.counter_key.like(escaped + "%", escape="\\"),
            )
            .order_by(counters.c.counter_key)
        )
        result: Any = await self.conn.execute(query)
        return [(row[1], _counter_row(row)) for row in result]

    async def delete_older_than(self, cutoff: int) -> int:
        """Delete rows nothing reads any more: last touched before ``cutoff`` and not blocked after it."""
        stale = and_(
            counters.c.last_at < cutoff,
            or_(counters.c.blocked_until.is_(None), counters.c.blocked_until < cutoff),
        )
        result = await self.conn.execute(delete(counters).where(stale))
        return int(result.rowcount or 0)
