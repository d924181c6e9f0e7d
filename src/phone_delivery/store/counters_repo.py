"""The send path's counters (``notification_counters``): read under lock and written back in the
transaction that writes the notifications (``PolicyGate.lock``), a few statements per group
commit whatever the number of sends.

No check-then-act: every row a transaction reads it holds until commit. On PostgreSQL ``lock``
first takes a transaction-level advisory lock for every row name, all in one sorted order (two
transactions locking the same rows never wait for each other in opposite orders), which also covers
rows that do not exist yet; SQLite writes one transaction at a time (``BEGIN IMMEDIATE`` between
processes). The worker deletes rows two days after their last use (``delete_older_than``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, text, tuple_

from phone_delivery.domain.counter_ledger import CounterRow
from phone_delivery.domain.policy_usage import QuotaCounts
from phone_delivery.store.database import Conn
from phone_delivery.store.tables import notification_counters as counters

Key = tuple[str, str]  # (environment id, counter key)

# One statement: the array is unnested in its (sorted) order, so the locks are taken in that order.
_ADVISORY_LOCKS = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")


def lock_id(environment_id: str, key: str) -> int:
    """A signed 64-bit advisory lock id for a row (a collision only serialises two sends)."""
    name = f"{environment_id}:{key}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


# The rows of a transaction's sends are read and written in one statement each whatever their
# number, their values passed as one parameter (a JSON array on SQLite, arrays on PostgreSQL): an
# expanding IN or an executemany costs SQLAlchemy work per row on the send path.
_READ = {
    "sqlite": text(
        "SELECT c.environment_id, c.counter_key, c.window_start, c.count, c.last_at, c.blocked_until"
        " FROM json_each(:keys) AS k JOIN notification_counters AS c"
        " ON c.environment_id = json_extract(k.value, '$[0]') AND c.counter_key = json_extract(k.value, '$[1]')"
    ),
    "postgresql": text(
        "SELECT c.environment_id, c.counter_key, c.window_start, c.count, c.last_at, c.blocked_until"
        " FROM unnest(CAST(:envs AS text[]), CAST(:keys AS text[])) AS k(env, key)"
        " JOIN notification_counters AS c ON c.environment_id = k.env AND c.counter_key = k.key"
    ),
}
_STORE = {
    # "WHERE true": SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT
    "sqlite": text(
        "INSERT INTO notification_counters (environment_id, counter_key, window_start, count, last_at, blocked_until)"
        " SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),"
        " json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]')"
        " FROM json_each(:rows) WHERE true"
        " ON CONFLICT (environment_id, counter_key) DO UPDATE SET window_start = excluded.window_start,"
        " count = excluded.count, last_at = excluded.last_at, blocked_until = excluded.blocked_until"
    ),
    "postgresql": text(
        "INSERT INTO notification_counters (environment_id, counter_key, window_start, count, last_at, blocked_until)"
        " SELECT * FROM unnest(CAST(:envs AS text[]), CAST(:keys AS text[]), CAST(:windows AS bigint[]),"
        " CAST(:counts AS integer[]), CAST(:lasts AS bigint[]), CAST(:blocked AS bigint[]))"
        " ON CONFLICT (environment_id, counter_key) DO UPDATE SET window_start = excluded.window_start,"
        " count = excluded.count, last_at = excluded.last_at, blocked_until = excluded.blocked_until"
    ),
}


def _starts_with(prefix: str) -> Any:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return counters.c.counter_key.like(escaped + "%", escape="\\")


def _counter_row(row: Any) -> CounterRow:
    """A row of ``_READ`` (environment_id, counter_key, window_start, count, last_at, blocked_until)."""
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
            params: dict[str, Any] = {"envs": [env for env, _ in wanted], "keys": [key for _, key in wanted]}
        else:
            params = {"keys": json.dumps(wanted)}
        result: Any = await self.conn.execute(_READ[self._dialect], params)
        return {(row[0], row[1]): _counter_row(row) for row in result}

    async def store(self, rows: dict[Key, CounterRow]) -> None:
        """Write back the rows a transaction changed (locked by ``lock``)."""
        if not rows:
            return
        items = sorted(rows.items())
        if self._dialect == "postgresql":
            params: dict[str, Any] = {
                "envs": [env for (env, _), _ in items],
                "keys": [key for (_, key), _ in items],
                "windows": [row.window_start for _, row in items],
                "counts": [row.count for _, row in items],
                "lasts": [row.last_at for _, row in items],
                "blocked": [row.blocked_until for _, row in items],
            }
        else:
            params = {
                "rows": json.dumps(
                    [
                        [env, key, row.window_start, row.count, row.last_at, row.blocked_until]
                        for (env, key), row in items
                    ]
                )
            }
        await self.conn.execute(_STORE[self._dialect], params)

    async def quota_use(
        self, environment_id: str, prefix: str, kinds: Iterable[str], window_start: int, limit: int, top: int
    ) -> QuotaCounts:
        """A USER quota's rows in the window starting at ``window_start``: keys ``prefix`` + one of
        ``kinds`` + the subject (the subjects returned start with the kind)."""
        in_window = and_(
            counters.c.environment_id == environment_id,
            or_(*(_starts_with(prefix + kind) for kind in kinds)),
            counters.c.window_start == window_start,
            counters.c.count > 0,
        )
        totals = select(
            func.count(),
            func.coalesce(func.sum(counters.c.count), 0),
            func.coalesce(func.sum(case((counters.c.count >= limit, 1), else_=0)), 0),
        ).where(in_window)
        subjects, used, at_limit = (await self.conn.execute(totals)).one()
        most = (
            select(counters.c.counter_key, counters.c.count)
            .where(in_window)
            .order_by(counters.c.count.desc(), counters.c.counter_key)
            .limit(top)
        )
        result: Any = await self.conn.execute(most)
        rows = [(str(key)[len(prefix) :], int(count)) for key, count in result]
        return QuotaCounts(int(subjects), int(used), int(at_limit), rows)

    async def used(self, environment_id: str, key: str, window_start: int) -> int:
        """Units of ``key`` taken in the window starting at ``window_start`` (0: none, or an older window)."""
        query = select(counters.c.count).where(
            counters.c.environment_id == environment_id,
            counters.c.counter_key == key,
            counters.c.window_start == window_start,
        )
        return int((await self.conn.execute(query)).scalar() or 0)

    async def blocks(
        self, environment_id: str, prefixes: Iterable[str], now: int, limit: int
    ) -> tuple[int, list[tuple[str, int]]]:
        """(how many, the ``limit`` latest to end) of the rows under ``prefixes`` blocked after ``now``."""
        blocked = and_(
            counters.c.environment_id == environment_id,
            counters.c.blocked_until > now,
            or_(*(_starts_with(prefix) for prefix in prefixes)),
        )
        total = (await self.conn.execute(select(func.count()).where(blocked))).scalar_one()
        query = (
            select(counters.c.counter_key, counters.c.blocked_until)
            .where(blocked)
            .order_by(counters.c.blocked_until.desc(), counters.c.counter_key)
            .limit(limit)
        )
        result: Any = await self.conn.execute(query)
        return int(total), [(str(key), int(until)) for key, until in result]

    async def delete_older_than(self, cutoff: int, limit: int) -> int:
        """Delete up to ``limit`` rows nothing reads any more: last touched before ``cutoff`` and not
        blocked after it (such a row reads like no row for every rule). How many went."""
        stale = and_(
            counters.c.last_at < cutoff,
            or_(counters.c.blocked_until.is_(None), counters.c.blocked_until < cutoff),
        )
        some = select(counters.c.environment_id, counters.c.counter_key).where(stale).limit(limit)
        if self._dialect == "postgresql":
            # rows another transaction is writing now are skipped (they are not stale); the DELETE's own
            # condition is checked again on any row that changed meanwhile
            some = some.with_for_update(skip_locked=True)
        doomed = tuple_(counters.c.environment_id, counters.c.counter_key).in_(some)
        result = await self.conn.execute(delete(counters).where(doomed, stale))
        return int(getattr(result, "rowcount", 0) or 0)
