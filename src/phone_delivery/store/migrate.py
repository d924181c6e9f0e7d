"""Alembic, configured in code: ``upgrade_to_head`` runs at start and from ``phone-delivery migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from phone_delivery.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(sync_connection: Any) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync_connection
    command.upgrade(config, "head")


def _current(sync_connection: Any) -> str | None:
    return MigrationContext.configure(sync_connection).get_current_revision()


async def upgrade_to_head(database: Database) -> None:
    if database.sqlite:
        # A file that cannot be opened fails here, in this thread. Through aiosqlite it would fail
        # too, but aiosqlite then posts its thread's stop to a loop that asyncio.run may have closed
        # ("Exception in thread ..." with a traceback after our one-line error).
        database.check_sqlite_opens()
    async with database.writer.begin() as conn:
        await conn.run_sync(_upgrade)
    if database.sqlite:
        # On SQLite this engine serves migrations only: let its connection (and aiosqlite's thread) go.
        await database.writer.dispose()


async def current_revision(database: Database) -> str | None:
    async with database.writer.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
