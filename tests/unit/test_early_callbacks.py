"""Kept callbacks (see ``store.tables.early_callbacks``): the first per MessageSid, a bounded number
per notification, all gone once the worker takes them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.notifications_repo import EARLY_CALLBACKS_KEPT, NotificationRepository


def report(sid: str, state: str = "delivered") -> dict[str, object]:
    return {
        "provider_message_id": sid,
        "provider_state": state,
        "error_code": None,
        "error_message": None,
        "received_at": 1,
    }


async def _scenario(
    tmp_path: Path,
) -> tuple[list[bool], dict[str, list[dict[str, object]]], dict[str, list[dict[str, object]]], int]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cb.db'}")
    await upgrade_to_head(database)
    try:
        async with database.write() as conn:
            await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
            await conn.execute(
                text(
                    "INSERT INTO notifications (id, environment_id, delivery_method, to_number, content_ciphertext, "
                    "status, chain, chain_position, tries_at_position, created_at, updated_at) "
                    "VALUES ('n1', 'e', 'SMS', '+14155552671', 'x', 'SENDING', '[]', 0, 1, 1, 1)"
                )
            )
            repo = NotificationRepository(conn)
            kept = [await repo.keep_early_callback("n1", report("SMa", "delivered"))]
            kept.append(await repo.keep_early_callback("n1", report("SMa", "undelivered")))  # the first one stays
            kept += [await repo.keep_early_callback("n1", report(f"SM{i}")) for i in range(EARLY_CALLBACKS_KEPT)]
            taken = await repo.take_early_callbacks(["n1", "n2"])
            again = await repo.take_early_callbacks(["n1"])
            left = (await conn.execute(text("SELECT count(*) FROM early_callbacks"))).scalar_one()
        return kept, taken, again, int(left)
    finally:
        await database.dispose()


def test_kept_callbacks_are_bounded_first_wins_and_taken_once(tmp_path: Path) -> None:
    kept, taken, again, left = asyncio.run(_scenario(tmp_path))
    assert kept[:2] == [True, False]
    assert kept[2:].count(True) == EARLY_CALLBACKS_KEPT - 1 and kept[-1] is False  # the bound
    assert list(taken) == ["n1"] and len(taken["n1"]) == EARLY_CALLBACKS_KEPT
    first = next(callback for callback in taken["n1"] if callback["provider_message_id"] == "SMa")
    assert first["provider_state"] == "delivered"
    assert again == {} and left == 0
