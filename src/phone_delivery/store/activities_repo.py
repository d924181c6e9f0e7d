"""The audit trail read at GET /v1/environments/{envID}/activities."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from phone_delivery.domain.models import Activity
from phone_delivery.store.database import Conn
from phone_delivery.store.prepared_write import PreparedWrite, execute_many
from phone_delivery.store.tables import activities

_INSERT = activities.insert()
_INSERT_MANY = PreparedWrite(_INSERT, [column.key for column in activities.columns])


def _row(activity: Activity) -> dict[str, object]:
    """The activity's columns (its fields are all plain values: no deep copy as ``asdict`` makes)."""
    return dict(vars(activity))


class ActivityRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def insert(self, activity: Activity) -> None:
        await self.conn.execute(_INSERT, _row(activity))

    async def insert_many(self, items: list[Activity]) -> None:
        """Many activities in one statement (executemany)."""
        await execute_many(self.conn, _INSERT_MANY, [_row(activity) for activity in items])

    async def delete(self, activity_id: str) -> None:
        """Take out an activity of this transaction whose event was undone (a refused send's CREATED)."""
        await self.conn.execute(activities.delete().where(activities.c.id == activity_id))

    async def list(
        self,
        environment_id: str,
        limit: int,
        after: tuple[int, str] | None = None,
        action_type: str | None = None,
    ) -> list[Activity]:
        """Newest first; ``after`` is the (recorded_at, id) of the last row of the previous page."""
        query = select(activities).where(activities.c.environment_id == environment_id)
        if action_type:
            query = query.where(activities.c.action_type == action_type)
        if after is not None:
            at, last_id = after
            query = query.where(
                or_(
                    activities.c.recorded_at < at,
                    and_(activities.c.recorded_at == at, activities.c.id < last_id),
                )
            )
        query = query.order_by(activities.c.recorded_at.desc(), activities.c.id.desc()).limit(limit)
        return [Activity(**dict(r._mapping)) for r in await self.conn.execute(query)]
