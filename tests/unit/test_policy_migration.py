"""0005 gives every environment that existed before it its default notification policy, on SQLite and
PostgreSQL, and the policy it gives is the one a new environment gets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from phone_delivery.domain.policies import DEFAULT_POLICY_NAME, default_rules
from phone_delivery.store.database import Database
from phone_delivery.store.migrate import alembic_config
from tests.conftest import drop_postgres_database, make_postgres_database, require_postgres


def _to(revision: str) -> Any:
    def run(sync_connection: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)

    return run


async def _migrate_with_environments(url: str) -> list[dict[str, Any]]:
    database = Database(url)
    try:
        async with database.writer.begin() as conn:
            await conn.run_sync(_to("0004"))
            for env in ("e1", "e2"):
                await conn.execute(
                    text("INSERT INTO environments VALUES (:id, 'n', NULL, 'SANDBOX', 'NA', 1, 1)"), {"id": env}
                )
        async with database.writer.begin() as conn:
            await conn.run_sync(_to("head"))
        async with database.writer.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT environment_id, name, is_default, rules FROM notification_policies ORDER BY environment_id"
                )
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await database.dispose()


def _check(rows: list[dict[str, Any]]) -> None:
    assert [(r["environment_id"], r["name"], bool(r["is_default"])) for r in rows] == [
        ("e1", DEFAULT_POLICY_NAME, True),
        ("e2", DEFAULT_POLICY_NAME, True),
    ]
    for row in rows:
        rules = row["rules"] if isinstance(row["rules"], dict) else json.loads(row["rules"])
        assert rules == default_rules()


def test_existing_environments_get_a_default_policy_on_sqlite(tmp_path: Any) -> None:
    _check(asyncio.run(_migrate_with_environments(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")))


def test_existing_environments_get_a_default_policy_on_postgresql() -> None:
    require_postgres()
    pg = make_postgres_database()
    try:
        _check(asyncio.run(_migrate_with_environments(pg.url)))
    finally:
        drop_postgres_database(pg)


def test_one_default_per_environment_is_enforced_by_the_database(tmp_path: Any) -> None:
    async def run() -> None:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
        try:
            async with database.writer.begin() as conn:
                await conn.run_sync(_to("head"))
                await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
                insert = "INSERT INTO notification_policies VALUES (:id, 'e', :name, 1, '{}', 1, 1)"
                await conn.execute(text(insert), {"id": "p1", "name": "a"})
            with pytest.raises(Exception, match="UNIQUE"):
                async with database.writer.begin() as conn:
                    await conn.execute(text(insert), {"id": "p2", "name": "b"})
        finally:
            await database.dispose()

    asyncio.run(run())
