"""The outbox and its attempts. Every query is scoped by environment, except the worker's claim,
which works across environments by design and only on rows it leases."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)

from phone_delivery.domain.notifications import (
    DELIVERED,
    IN_PROGRESS,
    OPEN_STATUSES,
    PINGONE_TWILIO,
    SENDING,
    SENT,
    UNDELIVERED,
    UNKNOWN,
)
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.prepared_read import PreparedRead
from phone_delivery.store.prepared_write import PreparedWrite, execute_many
from phone_delivery.store.tables import attempts, early_callbacks, notifications, senders

Row = dict[str, Any]
# Signed callbacks kept per notification while they cannot be attributed (one per try is the most
# Twilio sends that matter; the bound keeps a leaked auth token from filling the table).
EARLY_CALLBACKS_KEPT = 10
# Built once: executing them with parameters reuses the compiled statement (no per-call cache key).
# Open notifications, in the very words of the partial index ix_notifications_open (literals, not
# bound parameters, so that both databases' planners can use it).


def _status_in(statuses: tuple[str, ...]) -> Any:
    """``status IN (...)`` with the statuses as literals: a partial index's planner match needs them,
    and an executemany takes no expanding parameter."""
    return notifications.c.status.in_([literal_column(f"'{status}'") for status in statuses])


_OPEN = _status_in(OPEN_STATUSES)
# Statuses only a status callback sets: the worker's own record never steps back from them.
_REPORTED_FINAL = _status_in((DELIVERED, UNDELIVERED))
_INSERT_NOTIFICATION = notifications.insert()
_INSERT_ATTEMPT = PreparedWrite(attempts.insert(), [column.key for column in attempts.columns])
# An attempt's outcome: what a try learned, by the attempt's id.
_FINISHED_COLUMNS = ("outcome", "provider", "provider_message_id", "error_code", "error_message", "finished_at")
_FINISH_ATTEMPT = PreparedWrite(
    update(attempts).where(attempts.c.id == bindparam("attempt_id")), _FINISHED_COLUMNS, ("attempt_id",)
)
_UPDATE_OWNED = update(notifications).where(
    notifications.c.id == bindparam("notification_id"), notifications.c.lease_owner == bindparam("worker")
)
# A status callback may already have said DELIVERED/UNDELIVERED: never step back to SENT.
_MARK_SENT = _UPDATE_OWNED.values(status=case((_REPORTED_FINAL, notifications.c.status), else_=SENT))
# Any other outcome (retry, next sender, failed) only while the notification is still SENDING.
_UPDATE_OWNED_WHILE_SENDING = _UPDATE_OWNED.where(notifications.c.status == SENDING)


def _one_of(column: Any, name: str, array: bool) -> Any:
    """``column`` is one of the list bound as ``name``: on PostgreSQL one array parameter
    (``= ANY``), so that the statement is prepared once whatever the list's length; elsewhere an
    expanding ``IN``."""
    if array:
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


@functools.cache
def _take_early_callbacks(array: bool) -> Any:
    return (
        delete(early_callbacks)
        .where(_one_of(early_callbacks.c.notification_id, "notification_ids", array))
        .returning(*early_callbacks.c)
    )


@functools.cache
def _lost_attempts(array: bool) -> Any:
    """The notifications of a list that have an attempt still IN_PROGRESS."""
    return select(attempts.c.notification_id).where(
        _one_of(attempts.c.notification_id, "ids", array), attempts.c.outcome == IN_PROGRESS
    )


@functools.cache
def _mark_unknown(array: bool) -> Any:
    return (
        update(attempts)
        .where(_one_of(attempts.c.notification_id, "ids", array), attempts.c.outcome == IN_PROGRESS)
        .values(
            outcome=UNKNOWN,
            finished_at=bindparam("now"),
            error_message="The worker stopped after calling the provider; the message may have been sent.",
        )
    )


@functools.cache
def _owned(array: bool) -> Any:
    """The notifications of a list that a worker still holds, locked in id order (PostgreSQL;
    SQLite's write transaction is the only writer and has no FOR UPDATE)."""
    return (
        select(notifications.c.id)
        .where(_one_of(notifications.c.id, "ids", array), notifications.c.lease_owner == bindparam("worker"))
        .order_by(notifications.c.id)
        .with_for_update()
    )


# What a sent try sets, beyond its status: the columns that differ per try, and those it clears.
_SENT_COLUMNS = ("sender_id", "provider", "provider_message_id", "tries_at_position", "updated_at")
_SENT_CLEARS = ("lease_owner", "lease_expires_at", "next_attempt_at", "error_code", "error_message")


@functools.cache
def _mark_sent_arrays() -> Any:
    """PostgreSQL: ``mark_sent_owned_many`` in one statement. The rows this worker still holds are
    locked in id order first (``_owned``, as a materialised CTE), then updated from one
    array per column (``unnest``), whatever their number: no statement per row."""
    owned = _owned(True).cte("owned").prefix_with("MATERIALIZED")
    types = {"tries_at_position": ARRAY(Integer), "updated_at": ARRAY(BigInteger)}
    sent = (
        func.unnest(
            bindparam("ids", type_=ARRAY(String)),
            *(bindparam(column, type_=types.get(column, ARRAY(String))) for column in _SENT_COLUMNS),
        )
        .table_valued("id", *_SENT_COLUMNS, name="sent")
        .render_derived()
    )
    return (
        update(notifications)
        .values(
            status=case((_REPORTED_FINAL, notifications.c.status), else_=SENT),
            **{column: sent.c[column] for column in _SENT_COLUMNS},
            **dict.fromkeys(_SENT_CLEARS),
        )
        .where(notifications.c.id == owned.c.id, sent.c.id == owned.c.id)
        .returning(notifications.c.id)
    )


_RELEASE_OWNED_FINAL = _UPDATE_OWNED.where(_REPORTED_FINAL).values(
    lease_owner=None, lease_expires_at=None, next_attempt_at=None, updated_at=bindparam("now")
)


@functools.cache
def _due_statement(skip_locked: bool) -> Any:
    """The ids of the notifications due now, oldest due first (built once per database kind). A
    statement of its own: inside an UPDATE's ``IN (...)`` PostgreSQL's planner may run a
    ``LIMIT ... FOR UPDATE SKIP LOCKED`` subquery more than once and lease more than the batch."""
    c = notifications.c
    due = (
        select(c.id)
        .where(
            _OPEN,
            c.next_attempt_at <= bindparam("now"),
            or_(c.lease_expires_at.is_(None), c.lease_expires_at < bindparam("now")),
        )
        .order_by(c.next_attempt_at)
        .limit(bindparam("batch"))
    )
    return due.with_for_update(skip_locked=True) if skip_locked else due


# PostgreSQL, for the rest of the claim's transaction: find the due notifications by walking
# ix_notifications_open in order, whatever the statistics say. While a table grows faster than
# autovacuum analyzes it (a burst into a new database), the planner believes a handful of rows are
# open and reads every due one with a bitmap scan, then sorts them for the LIMIT: 12 ms a claim at a
# backlog of 12,000, which made the claim loop the worker's bound (docs/benchmarks.md). The ordered
# index scan stops after ``batch`` rows it can lock at any backlog.
_INDEX_ORDER_ONLY = text(
    "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)"
)


@functools.cache
def _lease(array: bool) -> Any:
    """Leases the notifications selected and answers them."""
    return (
        update(notifications)
        .where(_one_of(notifications.c.id, "ids", array))
        .values(
            lease_owner=bindparam("worker"),
            lease_expires_at=bindparam("until"),
            status=SENDING,
            updated_at=bindparam("now"),
        )
        .returning(*notifications.c)
    )


@dataclass(frozen=True)
class Content:
    message: str
    otp: str | None


def seal(cipher: SecretCipher, message: str, otp: str | None) -> str:
    return cipher.encrypt(json.dumps({"message": message, "otp": otp}).encode())


def unseal(cipher: SecretCipher, ciphertext: str) -> Content:
    data = json.loads(cipher.decrypt(ciphertext))
    return Content(str(data["message"]), data.get("otp"))


# What api/notifications.notification_json shows of a notification.
_LISTED = tuple(
    notifications.c[name]
    for name in (
        "id",
        "environment_id",
        "delivery_method",
        "to_number",
        "status",
        "locale",
        "user_id",
        "provider",
        "sender_id",
        "provider_message_id",
        "error_code",
        "error_message",
        "created_at",
        "updated_at",
    )
)


@functools.cache
def _page_read(filters: frozenset[str], platform_sender: bool) -> PreparedRead:
    """The listing's query for one combination of filters, built and compiled once (every value is
    a bound parameter, so there are at most a few hundred combinations)."""
    return PreparedRead(
        _page_statement(filters, platform_sender, statuses_array=False),
        _page_statement(filters, platform_sender, statuses_array=True),
    )


def _page_statement(filters: frozenset[str], platform_sender: bool, statuses_array: bool) -> Select[Any]:
    c = notifications.c
    query = select(*_LISTED).where(c.environment_id == bindparam("environment_id"))
    if "statuses" in filters:
        query = query.where(_one_of(c.status, "statuses", statuses_array))
    if "to" in filters:
        query = query.where(c.to_number == bindparam("to"))
    if platform_sender:
        query = query.where(c.provider == PINGONE_TWILIO)
    if "sender" in filters:
        query = query.where(c.sender_id == bindparam("sender"))
    if "delivery_method" in filters:
        query = query.where(c.delivery_method == bindparam("delivery_method"))
    if "since" in filters:
        query = query.where(c.created_at >= bindparam("since"))
    if "until" in filters:
        query = query.where(c.created_at < bindparam("until"))
    if "after_at" in filters:
        query = query.where(
            or_(
                c.created_at < bindparam("after_at"),
                and_(c.created_at == bindparam("after_at"), c.id < bindparam("after_id")),
            )
        )
    return query.order_by(c.created_at.desc(), c.id.desc()).limit(bindparam("limit"))


async def read_page(
    database: Database,
    environment_id: str,
    limit: int,
    after: tuple[int, str] | None,
    statuses: list[str] | None,
    since: int | None,
    until: int | None,
    to: str | None = None,
    sender: str | None = None,
    delivery_method: str | None = None,
) -> list[Row]:
    """One page of the listing, newest first, after the ``after`` key (``Database.fetch``);
    ``sender`` is a sender id or ``PINGONE_TWILIO``. The columns a listing shows only (not the
    sealed content, the chain or the lease)."""
    params: dict[str, Any] = {"environment_id": environment_id, "limit": limit}
    if statuses:
        params["statuses"] = statuses
    if to is not None:
        params["to"] = to
    if sender is not None and sender != PINGONE_TWILIO:
        params["sender"] = sender
    if delivery_method is not None:
        params["delivery_method"] = delivery_method
    if since is not None:
        params["since"] = since
    if until is not None:
        params["until"] = until
    if after is not None:
        params["after_at"], params["after_id"] = after
    return await database.fetch(_page_read(frozenset(params), sender == PINGONE_TWILIO), params)


def _is_sent_try(values: dict[str, Any]) -> bool:
    """Whether ``values`` are exactly what ``_mark_sent_arrays`` writes."""
    return values.keys() == {*_SENT_COLUMNS, *_SENT_CLEARS} and all(values[c] is None for c in _SENT_CLEARS)


def _arrays(conn: Conn) -> bool:
    """Whether lists are bound as one array parameter (PostgreSQL) on this connection."""
    return bool(conn.dialect.name == "postgresql")


class NotificationRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def insert(self, values: dict[str, Any] | list[dict[str, Any]]) -> None:
        """One notification, or many in one statement (executemany)."""
        await self.conn.execute(_INSERT_NOTIFICATION, values)

    async def delete(self, environment_id: str, notification_id: str) -> None:
        """Take out a notification of this transaction that the policy refused (nothing else refers
        to it yet)."""
        await self.conn.execute(
            delete(notifications).where(
                notifications.c.environment_id == environment_id, notifications.c.id == notification_id
            )
        )

    async def get(self, environment_id: str, notification_id: str, lock: bool = False) -> Row | None:
        """The notification; with ``lock``, its row stays locked until the write transaction ends
        (PostgreSQL; SQLite's write transaction is the only writer anyway)."""
        query = select(notifications).where(
            notifications.c.environment_id == environment_id, notifications.c.id == notification_id
        )
        row = (await self.conn.execute(query.with_for_update() if lock else query)).first()
        return dict(row._mapping) if row else None

    async def by_idempotency_key(self, environment_id: str, key: str) -> Row | None:
        row = (
            await self.conn.execute(
                select(notifications).where(
                    notifications.c.environment_id == environment_id, notifications.c.idempotency_key == key
                )
            )
        ).first()
        return dict(row._mapping) if row else None

    async def forget_idempotency_key(self, environment_id: str, key: str) -> None:
        await self.conn.execute(
            update(notifications)
            .where(notifications.c.environment_id == environment_id, notifications.c.idempotency_key == key)
            .values(idempotency_key=None)
        )

    async def attempts(self, notification_id: str) -> list[Row]:
        query = (
            select(attempts)
            .where(attempts.c.notification_id == notification_id)
            .order_by(attempts.c.started_at, attempts.c.id)
        )
        return [dict(r._mapping) for r in await self.conn.execute(query)]

    async def sender_names(self, environment_id: str, sender_ids: set[str]) -> dict[str, str]:
        """The names of those of ``sender_ids`` that are still senders of the environment."""
        if not sender_ids:
            return {}
        query = select(senders.c.id, senders.c.name).where(
            senders.c.environment_id == environment_id, senders.c.id.in_(sorted(sender_ids))
        )
        return {r.id: r.name for r in await self.conn.execute(query) if r.name}

    async def attempt_count(self, notification_id: str) -> int:
        query = select(func.count()).select_from(attempts).where(attempts.c.notification_id == notification_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def keep_early_callback(self, notification_id: str, values: dict[str, Any]) -> bool:
        """Keep a callback the worker cannot attribute yet (see ``early_callbacks``); the first one per
        MessageSid, and at most ``EARLY_CALLBACKS_KEPT`` per notification. True when kept."""
        kept = (
            (
                await self.conn.execute(
                    select(early_callbacks.c.provider_message_id).where(
                        early_callbacks.c.notification_id == notification_id
                    )
                )
            )
            .scalars()
            .all()
        )
        if values["provider_message_id"] in kept or len(kept) >= EARLY_CALLBACKS_KEPT:
            return False
        await self.conn.execute(early_callbacks.insert().values(notification_id=notification_id, **values))
        return True

    async def take_early_callbacks(self, notification_ids: list[str]) -> dict[str, list[Row]]:
        """Every kept callback of these notifications, by notification, taken out (one statement for a
        batch of records; the worker then counts the one that names the sid of its try)."""
        if not notification_ids:
            return {}
        taken: dict[str, list[Row]] = {}
        query = _take_early_callbacks(_arrays(self.conn))
        for r in await self.conn.execute(query, {"notification_ids": notification_ids}):
            taken.setdefault(r.notification_id, []).append(dict(r._mapping))
        return taken

    async def claim(self, worker: str, now: int, lease_ms: int, batch: int, skip_locked: bool) -> list[Row]:
        """Lease up to ``batch`` due notifications, in two statements. On PostgreSQL concurrent
        claimers skip each other's locked rows; on SQLite the caller's write transaction is the single
        writer."""
        due = {"now": now, "batch": batch}
        if skip_locked:
            await self.conn.execute(_INDEX_ORDER_ONLY)
        ids = [r[0] for r in await self.conn.execute(_due_statement(skip_locked), due)]
        if not ids:
            return []
        lease = {"ids": ids, "worker": worker, "now": now, "until": now + lease_ms}
        return [dict(r._mapping) for r in await self.conn.execute(_lease(_arrays(self.conn)), lease)]

    async def mark_lost_attempts(self, notification_ids: list[str], now: int) -> list[str]:
        """Attempts left IN_PROGRESS by a worker that died: their outcome is unknown. Returns the
        notifications that had one."""
        array = _arrays(self.conn)
        found = await self.conn.execute(_lost_attempts(array), {"ids": notification_ids})
        lost = [str(r[0]) for r in found]
        if lost:
            await self.conn.execute(_mark_unknown(array), {"ids": lost, "now": now})
        return lost

    async def insert_attempts(self, rows: list[dict[str, Any]]) -> None:
        """Many attempts in one statement (executemany), each with every column."""
        await execute_many(self.conn, _INSERT_ATTEMPT, rows)

    async def finish_attempts(self, rows: list[dict[str, Any]]) -> None:
        """Record the outcome of many attempts in one statement (executemany); each row holds
        ``attempt_id`` and the columns of ``_FINISHED_COLUMNS``."""
        await execute_many(self.conn, _FINISH_ATTEMPT, rows)

    async def update_owned_while_sending(self, notification_id: str, worker: str, values: dict[str, Any]) -> bool:
        """Apply ``values`` if this worker still holds the lease and no callback made the status final."""
        params = {**values, "notification_id": notification_id, "worker": worker}
        return bool((await self.conn.execute(_UPDATE_OWNED_WHILE_SENDING, params)).rowcount)

    async def release_owned_final(self, notification_id: str, worker: str, now: int) -> bool:
        """Let go of a notification this worker holds whose status a callback made final meanwhile."""
        params = {"notification_id": notification_id, "worker": worker, "now": now}
        return bool((await self.conn.execute(_RELEASE_OWNED_FINAL, params)).rowcount)

    async def mark_sent_owned_many(self, worker: str, sends: dict[str, dict[str, Any]]) -> set[str]:
        """Status SENT (unless a status callback already said DELIVERED/UNDELIVERED) and each one's
        values (id -> values, each with the same keys), for those of these notifications this worker
        still holds the lease of: on PostgreSQL in one statement (``_mark_sent_arrays``, for the
        values of a sent try), elsewhere in two: those locked until the transaction ends, then one
        executemany. Returns the ids that were updated."""
        if _arrays(self.conn) and all(_is_sent_try(values) for values in sends.values()):
            ids = sorted(sends)
            params: dict[str, Any] = {"ids": ids, "worker": worker}
            for column in _SENT_COLUMNS:
                params[column] = [sends[i][column] for i in ids]
            return {str(r[0]) for r in await self.conn.execute(_mark_sent_arrays(), params)}
        found = await self.conn.execute(_owned(_arrays(self.conn)), {"ids": sorted(sends), "worker": worker})
        owned = {str(r[0]) for r in found}
        if owned:
            rows = [{**sends[i], "notification_id": i, "worker": worker} for i in sorted(owned)]
            await self.conn.execute(_MARK_SENT, rows)
        return owned

    async def renew_leases(self, notification_ids: list[str], worker: str, until: int) -> int:
        """Extend the leases this worker still holds on these notifications; returns how many."""
        result = await self.conn.execute(
            update(notifications)
            .where(notifications.c.id.in_(notification_ids), notifications.c.lease_owner == worker)
            .values(lease_expires_at=until)
        )
        return int(result.rowcount)

    async def update_status_if(
        self, environment_id: str, notification_id: str, statuses: tuple[str, ...], values: dict[str, Any]
    ) -> bool:
        """Apply ``values`` only while the notification's status is one of ``statuses``."""
        result = await self.conn.execute(
            update(notifications)
            .where(
                notifications.c.environment_id == environment_id,
                notifications.c.id == notification_id,
                notifications.c.status.in_(statuses),
            )
            .values(**values)
        )
        return bool(result.rowcount)

    async def queue_stats(self, now: int) -> tuple[int, int]:
        """(open notifications, age in ms of the oldest)."""
        row = (await self.conn.execute(select(func.count(), func.min(notifications.c.created_at)).where(_OPEN))).first()
        if row is None:
            return 0, 0
        values: tuple[Any, ...] = tuple(row)
        count, oldest = values[0], values[1]
        return int(count or 0), (now - int(oldest)) if oldest else 0
