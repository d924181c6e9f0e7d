"""The send path's counters (``notification_counters``): taken one unit at a time by an atomic
conditional upsert, in the transaction that writes the notification.

There is no check-then-act: the one statement inserts the row, or starts a new window, or adds one
while the count is under the limit, and says whether it did. On PostgreSQL the upsert holds the
row's lock until commit, so a concurrent taker of the same key waits and then sees the new count;
on SQLite writes are serialised (one writer per process on an asyncio lock, ``BEGIN IMMEDIATE``
between processes). A transaction that rolls back gives its units back with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from phone_delivery.domain.cooldowns import CooldownState
from phone_delivery.store.database import Conn
from phone_delivery.store.tables import notification_counters as counters


def _take(dialect: Any) -> Any:
    stmt = dialect.insert(counters).values(
        environment_id=bindparam("environment_id"),
        counter_key=bindparam("counter_key"),
        window_start=bindparam("window_start"),
        count=1,
        last_at=bindparam("now"),
        blocked_until=None,
    )
    new_window = counters.c.window_start != stmt.excluded.window_start
    return stmt.on_conflict_do_update(
        index_elements=[counters.c.environment_id, counters.c.counter_key],
        set_={
            "count": case((new_window, 1), else_=counters.c.count + 1),
            "window_start": stmt.excluded.window_start,
            "last_at": stmt.excluded.last_at,
        },
        where=or_(new_window, counters.c.count < bindparam("limit")),
    ).returning(counters.c.count)


def _ensure(dialect: Any) -> Any:
    return (
        dialect.insert(counters)
        .values(
            environment_id=bindparam("environment_id"),
            counter_key=bindparam("counter_key"),
            window_start=0,
            count=0,
            last_at=0,
            blocked_until=None,
        )
        .on_conflict_do_nothing(index_elements=[counters.c.environment_id, counters.c.counter_key])
    )


# Built once per dialect: the send path only binds parameters.
_TAKE = {"sqlite": _take(sqlite), "postgresql": _take(postgresql)}
_ENSURE = {"sqlite": _ensure(sqlite), "postgresql": _ensure(postgresql)}
_KEY = and_(counters.c.environment_id == bindparam("env"), counters.c.counter_key == bindparam("key"))
# FOR UPDATE on PostgreSQL (the row stays locked until commit); SQLite leaves it out, its writes are serial.
_LOCK = (
    select(counters.c.window_start, counters.c.count, counters.c.last_at, counters.c.blocked_until)
    .where(_KEY)
    .with_for_update()
)
_SET = (
    update(counters)
    .where(_KEY)
    .values(count=bindparam("count"), last_at=bindparam("last_at"), blocked_until=bindparam("blocked_until"))
)
# Updates bind other names than the columns' (SQLAlchemy reserves those for SET).
_GIVE_BACK = (
    update(counters)
    .where(
        counters.c.environment_id == bindparam("env"),
        counters.c.counter_key == bindparam("key"),
        counters.c.window_start == bindparam("window"),
        counters.c.count > 0,
    )
    .values(count=counters.c.count - 1)
)


class CounterRepository:
    def __init__(self, conn: Conn, dialect: str) -> None:
        self.conn = conn
        self._take = _TAKE[dialect]
        self._ensure = _ENSURE[dialect]

    async def take(self, environment_id: str, key: str, window_start: int, limit: int, now: int) -> bool:
        """One unit of ``key`` in the window starting at ``window_start``, if fewer than ``limit`` are
        taken; False (and nothing changed) when the limit is reached."""
        params = {
            "environment_id": environment_id,
            "counter_key": key,
            "window_start": window_start,
            "limit": limit,
            "now": now,
        }
        return (await self.conn.execute(self._take, params)).first() is not None

    async def give_back(self, environment_id: str, key: str, window_start: int) -> None:
        """Undo a ``take`` of this transaction (a later rule refused the send)."""
        await self.conn.execute(_GIVE_BACK, {"env": environment_id, "key": key, "window": window_start})

    async def lock_state(self, environment_id: str, key: str) -> CooldownState:
        """A cooldown series, its row created if need be and locked until this transaction ends."""
        await self.conn.execute(self._ensure, {"environment_id": environment_id, "counter_key": key})
        row = (await self.conn.execute(_LOCK, {"env": environment_id, "key": key})).one()._mapping
        return CooldownState(int(row["count"]), int(row["last_at"]), row["blocked_until"])

    async def lock_row(self, environment_id: str, key: str) -> tuple[int, int, int | None]:
        """(window_start, count, blocked_until) of a row, created if need be and locked until this
        transaction ends."""
        await self.conn.execute(self._ensure, {"environment_id": environment_id, "counter_key": key})
        row = (await self.conn.execute(_LOCK, {"env": environment_id, "key": key})).one()._mapping
        return int(row["window_start"]), int(row["count"]), row["blocked_until"]

    async def set_row(
        self, environment_id: str, key: str, window_start: int, count: int, now: int, blocked_until: int | None
    ) -> None:
        params = {
            "env": environment_id,
            "key": key,
            "window_start": window_start,
            "count": count,
            "last_at": now,
            "blocked_until": blocked_until,
        }
        await self.conn.execute(_SET, params)

    async def set_state(self, environment_id: str, key: str, state: CooldownState) -> None:
        params = {
            "env": environment_id,
            "key": key,
            "count": state.count,
            "last_at": state.last_at,
            "blocked_until": state.blocked_until,
        }
        await self.conn.execute(_SET, params)

    async def count(self, environment_id: str, key: str, window_start: int) -> int:
        query = select(counters.c.count).where(
            and_(
                counters.c.environment_id == environment_id,
                counters.c.counter_key == key,
                counters.c.window_start == window_start,
            )
        )
        return int((await self.conn.execute(query)).scalar() or 0)
