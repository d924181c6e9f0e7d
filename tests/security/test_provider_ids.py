"""A custom gateway answers whatever it likes as the message's id. The record of a message that
went out must still be written on both databases (else the try is lost and the message sent again):
the worker stores the id without NUL and cut to its column's 128 characters
(``delivery_worker.provider_id``); CR/LF and non-ASCII are kept as they are."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from phone_delivery.domain.notifications import SENDING, SENT
from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.tables import attempts, notifications
from phone_delivery.worker.delivery_worker import PROVIDER_ID_MAX, _finish_records, provider_id
from tests.integration.test_worker_records import _attempt, _notification, _sent_record

HOSTILE = "ü\r\nSM\x00" + "9" * 5000


async def _record_with_sid(url: str, sid: str) -> dict[str, Any]:
    database = Database(url)
    await upgrade_to_head(database)
    try:
        async with database.write() as conn:
            await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
            await conn.execute(insert(notifications), [_notification("n1", SENDING, "w1")])
            await conn.execute(insert(attempts), [_attempt("n1")])
        record = _sent_record("n1")
        assert record.sent is not None
        record.sent["provider_message_id"] = sid
        record.attempt["provider_message_id"] = sid
        async with database.write() as conn:
            results = await _finish_records(conn, [record])
        async with database.read() as conn:
            row = (await conn.execute(select(notifications))).one()
            attempt = (await conn.execute(select(attempts))).one()
        return {"results": results, "status": row.status, "sid": row.provider_message_id, "attempt": attempt}
    finally:
        await database.dispose()


def test_a_gateways_hostile_message_id_is_recorded(database_url: str) -> None:
    stored = provider_id(HOSTILE)
    assert stored is not None and len(stored) == PROVIDER_ID_MAX and "\x00" not in stored
    assert stored.startswith("ü\r\nSM9")
    found = asyncio.run(_record_with_sid(database_url, stored))
    assert found["results"] == ["decided"]
    assert (found["status"], found["sid"], found["attempt"].provider_message_id) == (SENT, stored, stored)


def test_postgresql_refuses_the_raw_id(database_url: str) -> None:
    """Why the id is cleaned: as it came, PostgreSQL fails the whole record."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite stores any text of any length")
    with pytest.raises(DBAPIError):
        asyncio.run(_record_with_sid(database_url, HOSTILE))


def test_nothing_left_is_no_id() -> None:
    assert provider_id("\x00\x00") is None
    assert provider_id(None) is None
    assert provider_id("SM123") == "SM123"
