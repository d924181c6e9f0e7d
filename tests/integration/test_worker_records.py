"""A group commit's records of sent tries (``delivery_worker._finish_records``), on both databases:
a notification this worker no longer holds is "lost" and left exactly as the other worker has it;
a status a callback made final stands; a kept callback naming the try's sid counts; the attempts'
outcomes and the activities are written for the others only."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, insert, select, text

from phone_delivery.delivery.service import notification_activity
from phone_delivery.domain.notifications import DELIVERED, IN_PROGRESS, SENDING, SENT, SUCCEEDED
from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.tables import activities, attempts, early_callbacks, notifications
from phone_delivery.worker.delivery_worker import _finish_records, _Record

NOW = 1_000_000


def _notification(name: str, status: str, owner: str) -> dict[str, Any]:
    return {
        "id": name,
        "environment_id": "e",
        "delivery_method": "SMS",
        "to_number": "+14155552671",
        "content_ciphertext": "x",
        "status": status,
        "chain": ["s"],
        "chain_position": 0,
        "tries_at_position": 0,
        "next_attempt_at": 1,
        "lease_owner": owner,
        "lease_expires_at": NOW + 30_000,
        "created_at": 1,
        "updated_at": 1,
    }


def _attempt(name: str) -> dict[str, Any]:
    return {
        "id": f"a-{name}",
        "notification_id": name,
        "sender_id": "s",
        "provider": None,
        "outcome": IN_PROGRESS,
        "worker": "w1",
        "started_at": NOW - 10,
    }


def _sent_record(name: str) -> _Record:
    sid = f"SM-{name}"
    values = {
        "updated_at": NOW,
        "lease_owner": None,
        "lease_expires_at": None,
        "sender_id": "s",
        "provider": "TWILIO",
        "provider_message_id": sid,
        "next_attempt_at": None,
        "tries_at_position": 1,
        "error_code": None,
        "error_message": None,
    }
    attempt = {
        "attempt_id": f"a-{name}",
        "outcome": SUCCEEDED,
        "provider": "TWILIO",
        "provider_message_id": sid,
        "error_code": None,
        "error_message": None,
        "finished_at": NOW,
    }
    activity = notification_activity("e", name, "UPDATED", "Notification sent via s.", None, NOW)
    return _Record("e", name, attempt, activity, SENT, SENT, sid, NOW, values, "w1")


async def _scenario(url: str) -> dict[str, Any]:
    database = Database(url)
    await upgrade_to_head(database)
    try:
        async with database.write() as conn:
            await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
            await conn.execute(
                insert(notifications),
                [
                    _notification("n1", SENDING, "w1"),
                    _notification("n2", DELIVERED, "w1"),  # a callback came before the worker's record
                    _notification("n3", SENDING, "w2"),  # taken over by another worker
                    _notification("n4", SENDING, "w1"),
                ],
            )
            await conn.execute(insert(attempts), [_attempt(name) for name in ("n1", "n2", "n3", "n4")])
            kept = {"provider_state": "delivered", "error_code": None, "error_message": None, "received_at": NOW}
            await conn.execute(
                insert(early_callbacks),
                [
                    {"notification_id": "n4", "provider_message_id": "SM-n4", **kept},
                    {"notification_id": "n4", "provider_message_id": "SM-earlier", **kept},
                    {"notification_id": "n3", "provider_message_id": "SM-n3", **kept},
                ],
            )
        engine = database.writer.sync_engine if not database.sqlite else database._inline_writer
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        async with database.write() as conn:
            results = await _finish_records(conn, [_sent_record(name) for name in ("n1", "n2", "n3", "n4")])
        async with database.read() as conn:
            rows = {r.id: r for r in await conn.execute(select(notifications))}
            outcomes = {r.notification_id: r.outcome for r in await conn.execute(select(attempts))}
            descriptions = sorted((r.resource_id, r.description) for r in await conn.execute(select(activities)))
            left = sorted(
                (r.notification_id, r.provider_message_id) for r in await conn.execute(select(early_callbacks))
            )
        touching = [sql for sql in statements if "notifications" in sql and "notification_attempts" not in sql]
        return {
            "results": results,
            "rows": rows,
            "outcomes": outcomes,
            "activities": descriptions,
            "left": left,
            "statements": touching,
            "postgresql": not database.sqlite,
        }
    finally:
        await database.dispose()


def test_records_of_sent_tries_in_one_batch(database_url: str) -> None:
    found = asyncio.run(_scenario(database_url))
    assert found["results"] == ["decided", "decided", "lost", "decided"]
    rows = found["rows"]
    assert (rows["n1"].status, rows["n1"].provider_message_id, rows["n1"].lease_owner) == (SENT, "SM-n1", None)
    n1 = rows["n1"]
    assert (n1.sender_id, n1.provider, n1.tries_at_position, n1.updated_at) == ("s", "TWILIO", 1, NOW)
    assert (n1.lease_expires_at, n1.next_attempt_at, n1.error_code, n1.error_message) == (None, None, None, None)
    assert (rows["n2"].status, rows["n2"].lease_owner) == (DELIVERED, None)  # final stays final
    assert (rows["n3"].status, rows["n3"].lease_owner, rows["n3"].provider_message_id) == (SENDING, "w2", None)
    assert rows["n4"].status == DELIVERED  # the kept callback named this try's sid
    assert found["outcomes"] == {"n1": SUCCEEDED, "n2": SUCCEEDED, "n3": IN_PROGRESS, "n4": SUCCEEDED}
    assert found["activities"] == [
        ("n1", "Notification sent via s."),
        ("n2", "Notification sent via s."),
        ("n4", "Notification sent via s."),
        ("n4", "Provider reported delivered."),
    ]
    # every kept callback of n4 is gone (the one of an earlier try too); the lost n3 keeps its own
    assert found["left"] == [("n3", "SM-n3")]
    if found["postgresql"]:  # the sent tries' notifications in one statement, from one array per column
        first, *others = found["statements"]  # the others: the kept callback's, applied to n4
        assert first.startswith("WITH owned AS MATERIALIZED"), found["statements"]
        assert not any("FOR UPDATE" in sql or "lease_owner = " in sql for sql in others), others
