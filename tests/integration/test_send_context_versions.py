"""The send contexts a process keeps on SQLite (``Database.send_contexts``, ``versioned_cache``):
read once, then read anew at the first use after any change, whether this process, another
connection or another tool made it, and never kept as current when the read began before a change
or when the version cannot be read."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from phone_delivery.store.database import Database
from phone_delivery.store.policies_repo import read_send_context
from phone_delivery.store.tables import SEND_CONTEXT_TABLES
from phone_delivery.store.versioned_cache import VersionedCache
from tests.integration.test_send_context_kept import ENV, Counted, _context, _prepared, _set_chain_here

CHANGES = ("INSERT", "UPDATE", "DELETE")


def _file(tmp_path: Path) -> Path:
    return tmp_path / "versions.db"


async def _sqlite(tmp_path: Path) -> Database:
    return await _prepared(f"sqlite+aiosqlite:///{_file(tmp_path)}")


def _elsewhere(tmp_path: Path, sql: str, *params: object) -> None:
    """What another process or the sqlite3 shell would do: its own connection, raw SQL."""
    other = sqlite3.connect(_file(tmp_path))
    try:
        other.execute("PRAGMA foreign_keys=ON")
        other.execute(sql, params)
        other.commit()
    finally:
        other.close()


def _run(tmp_path: Path, scenario: Callable[[Database], object]) -> None:
    async def main() -> None:
        database = await _sqlite(tmp_path)
        try:
            await scenario(database)  # type: ignore[misc]
        finally:
            await database.dispose()

    asyncio.run(main())


def test_a_context_is_read_once_and_anew_after_a_change_this_process_commits(tmp_path: Path) -> None:
    async def scenario(database: Database) -> None:
        counted = Counted(database)
        first = [await _context(database) for _ in range(20)]
        assert counted.reads == 1, "the context was not kept"
        assert {c.fallback_chain for c in first} == {("first",)}
        await _set_chain_here(database, ["second"])
        assert (await _context(database)).fallback_chain == ("second",)
        assert counted.reads == 2
        assert database.send_contexts is not None and database.send_contexts.hits == 19

    _run(tmp_path, scenario)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("UPDATE notification_settings SET sms_providers_fallback_chain = '[\"shell\"]'", ("shell",)),
        ("DELETE FROM notification_settings", ()),
        ("INSERT INTO notification_policies VALUES ('p', 'e', 'n', 1, '{}', 1, 1)", ("first",)),
    ],
)
def test_a_change_another_connection_commits_is_seen_at_the_next_use(
    tmp_path: Path, change: str, expected: tuple[str, ...]
) -> None:
    async def scenario(database: Database) -> None:
        counted = Counted(database)
        before = await _context(database)
        assert (await _context(database)) is before and counted.reads == 1
        _elsewhere(tmp_path, change)
        after = await _context(database)
        assert counted.reads == 2, "a context kept from before another connection's change was used"
        assert after.fallback_chain == expected
        if change.startswith("INSERT"):  # the new default policy applies at once
            assert after.policy_id == "p"

    _run(tmp_path, scenario)


def test_a_change_rolled_back_moves_nothing(tmp_path: Path) -> None:
    """The triggers write in the changing transaction: a change that never commits (another
    process's failed request, a crash mid-way) leaves the version, and what is kept, as they were."""

    async def scenario(database: Database) -> None:
        assert database.send_contexts is not None
        counted = Counted(database)
        await _context(database)
        before = database.send_contexts.begin()
        other = sqlite3.connect(_file(tmp_path))
        try:
            other.execute("UPDATE notification_settings SET sms_providers_fallback_chain = '[\"never\"]'")
            other.rollback()
        finally:
            other.close()
        assert database.send_contexts.begin() == before
        assert (await _context(database)).fallback_chain == ("first",)
        assert counted.reads == 1

    _run(tmp_path, scenario)


def test_a_deleted_environment_sends_no_more(tmp_path: Path) -> None:
    async def scenario(database: Database) -> None:
        assert await read_send_context(database, ENV, None) is not None
        _elsewhere(tmp_path, "DELETE FROM environments WHERE id = ?", ENV)
        assert await read_send_context(database, ENV, None) is None

    _run(tmp_path, scenario)


def test_a_read_that_began_before_a_change_is_not_kept_as_current(tmp_path: Path) -> None:
    """The change commits between the first read and its keeping: what that read found is kept
    under the version before the change, so the next use reads again."""

    async def scenario(database: Database) -> None:
        change = "UPDATE notification_settings SET sms_providers_fallback_chain = '[\"late\"]'"
        counted = Counted(database, after_first=lambda: _elsewhere(tmp_path, change))
        assert (await _context(database)).fallback_chain == ("first",)
        assert (await _context(database)).fallback_chain == ("late",)
        assert counted.reads == 2

    _run(tmp_path, scenario)


def test_without_the_version_row_nothing_is_kept_and_sends_and_changes_still_work(tmp_path: Path) -> None:
    """Deleting the row is how keeping is turned off (the table must stay: its triggers write to
    it); every send then reads its context, and a change still commits."""

    async def scenario(database: Database) -> None:
        _elsewhere(tmp_path, "DELETE FROM send_context_versions")
        counted = Counted(database)
        assert {(await _context(database)).fallback_chain for _ in range(3)} == {("first",)}
        assert counted.reads == 3
        await _set_chain_here(database, ["changed"])
        assert (await _context(database)).fallback_chain == ("changed",)

    _run(tmp_path, scenario)


def test_every_table_a_context_is_read_from_has_its_three_triggers(tmp_path: Path) -> None:
    """A later migration that rebuilds one of these tables (alembic's batch mode on SQLite copies,
    drops and renames it) drops its triggers without a word: it must create them again."""

    async def scenario(database: Database) -> None:
        other = sqlite3.connect(_file(tmp_path))
        try:
            rows = other.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        finally:
            other.close()
        found = {(table, change) for table, sql in rows for change in CHANGES if f"AFTER {change} ON" in sql}
        assert found == {(table, change) for table in SEND_CONTEXT_TABLES for change in CHANGES}

    _run(tmp_path, scenario)


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO environments VALUES ('e2', 'n', NULL, 'SANDBOX', 'NA', 1, 1)",
        "UPDATE environments SET name = 'renamed'",
        "DELETE FROM environments WHERE id = 'bare'",
        "UPDATE notification_settings SET whitelist = '[]'",
        "DELETE FROM notification_settings",
        "INSERT INTO notification_policies VALUES ('p2', 'e', 'n2', 0, '{}', 1, 1)",
        "UPDATE notification_policies SET name = 'renamed'",
        "DELETE FROM notification_policies",
    ],
)
def test_every_kind_of_change_moves_the_version(tmp_path: Path, change: str) -> None:
    async def scenario(database: Database) -> None:
        assert database.send_contexts is not None
        # an environment with nothing else (its delete cascades to no other table's trigger), a policy
        _elsewhere(tmp_path, "INSERT INTO environments VALUES ('bare', 'n', NULL, 'SANDBOX', 'NA', 1, 1)")
        _elsewhere(tmp_path, "INSERT INTO notification_policies VALUES ('p', 'e', 'n', 0, '{}', 1, 1)")
        before = database.send_contexts.begin()
        assert before is not None
        _elsewhere(tmp_path, change)
        after = database.send_contexts.begin()
        assert after is not None and after > before

    _run(tmp_path, scenario)


def test_a_value_answers_only_under_its_version() -> None:
    version = [1]
    cache: VersionedCache[str, str] = VersionedCache(lambda: version[0])
    token = cache.begin()
    cache.keep("k", "v", token)
    assert cache.get("k", cache.begin()) == "v"
    version[0] = 2
    assert cache.get("k", cache.begin()) is None
    cache.keep("k", "unread", None)  # no version, nothing kept
    assert cache.get("k", None) is None
    assert (cache.hits, cache.misses) == (1, 2)
