"""The send contexts a process keeps on PostgreSQL (``Database.send_contexts``): read once, then
forgotten at once after a change this process commits, as soon as the notification of a change
made by another session arrives, and never kept while the cache does not listen (its connection
lost, a read begun before a change, another event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.sql import util as sql_util

from phone_delivery.store import listened_cache, policies_repo
from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.notification_settings_repo import NotificationSettingsRepository
from phone_delivery.store.policies_repo import SendContext, read_send_context
from phone_delivery.store.tables import SEND_CONTEXT_CHANNEL, SEND_CONTEXT_TABLES
from tests.conftest import PostgresDatabase, drop_postgres_database, make_postgres_database, require_postgres

ENV = "e"
BOUND_SECONDS = 5.0


@pytest.fixture
def postgres() -> Iterator[PostgresDatabase]:
    require_postgres()
    db = make_postgres_database()
    try:
        yield db
    finally:
        drop_postgres_database(db)


class Counted:
    """The database's one-statement reads, counted (each is a send context read from the database)."""

    def __init__(self, database: Database, after_first: Callable[[], None] | None = None) -> None:
        self.reads = 0
        self._fetch = database.fetch
        self._after_first = after_first
        database.fetch = self  # type: ignore[method-assign]

    async def __call__(self, query: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        rows = await self._fetch(query, params)
        self.reads += 1
        if self.reads == 1 and self._after_first is not None:
            self._after_first()
        return rows


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> float:
    """Seconds until ``check`` holds (polled), failing after ``BOUND_SECONDS``."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < BOUND_SECONDS, f"not within {BOUND_SECONDS} s: {what}"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def _listening(database: Database) -> None:
    async def check() -> bool:
        await read_send_context(database, ENV, None)  # a use starts the listening
        assert database.send_contexts is not None
        return database.send_contexts.listening

    await _until(check, "the cache listens")
    database.send_contexts.forget()  # nothing kept yet, whether the last read came before or after


async def _context(database: Database) -> SendContext:
    context = await read_send_context(database, ENV, None)
    assert context is not None
    return context


async def _set_chain_here(database: Database, chain: list[str]) -> None:
    settings = {
        "deliveryMode": "ALL",
        "smsProvidersFallbackChain": chain,
        "whitelist": [],
        "from": None,
        "replyTo": None,
    }
    async with database.write() as conn:
        await NotificationSettingsRepository(conn).put(ENV, "s", settings, 1)


async def _set_chain_elsewhere(dsn: str, chain: list[str]) -> None:
    """The change another process would make: its own session, raw SQL."""
    other = await asyncpg.connect(dsn)
    try:
        await other.execute(
            "UPDATE notification_settings SET sms_providers_fallback_chain = $1::json WHERE environment_id = $2",
            "[" + ", ".join(f'"{entry}"' for entry in chain) + "]",
            ENV,
        )
    finally:
        await other.close()


async def _prepared(url: str) -> Database:
    database = Database(url)
    await upgrade_to_head(database)
    async with database.write() as conn:
        await conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
    await _set_chain_here(database, ["first"])
    return database


def test_a_context_is_read_once_and_forgotten_at_a_change_this_process_commits(postgres: PostgresDatabase) -> None:
    async def scenario() -> None:
        database = await _prepared(postgres.url)
        try:
            await _listening(database)
            counted = Counted(database)
            first = [await _context(database) for _ in range(20)]
            assert counted.reads == 1, "the context was not kept"
            assert {c.fallback_chain for c in first} == {("first",)}
            # the notifications are held back, as a slow network between here and the database
            # could: this process's own change is seen at once all the same
            cache = database.send_contexts
            assert cache is not None and cache._listener is not None
            await cache._listener.remove_listener(SEND_CONTEXT_CHANNEL, cache._notified)
            await _set_chain_here(database, ["second"])
            assert (await _context(database)).fallback_chain == ("second",)
            assert counted.reads == 2
        finally:
            await database.dispose()

    asyncio.run(scenario())


def test_a_change_another_session_commits_is_seen_when_its_notification_arrives(postgres: PostgresDatabase) -> None:
    async def scenario() -> float:
        database = await _prepared(postgres.url)
        try:
            await _listening(database)
            assert (await _context(database)).fallback_chain == ("first",)
            counted = Counted(database)
            await _context(database)
            assert counted.reads == 0, "the context was not kept"
            await _set_chain_elsewhere(postgres.dsn, ["elsewhere"])

            async def seen() -> bool:
                return (await _context(database)).fallback_chain == ("elsewhere",)

            return await _until(seen, "the other session's change is seen")
        finally:
            await database.dispose()

    assert asyncio.run(scenario()) < 1.0


def test_nothing_is_kept_while_the_listening_connection_is_lost(postgres: PostgresDatabase) -> None:
    async def scenario() -> None:
        database = await _prepared(postgres.url)
        cache = database.send_contexts
        assert cache is not None
        try:
            await _listening(database)
            assert (await _context(database)).fallback_chain == ("first",)
            admin = await asyncpg.connect(postgres.dsn)
            try:
                ended = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            finally:
                await admin.close()
            assert ended == 1

            async def lost() -> bool:
                await asyncio.sleep(0)
                return not cache.listening

            await _until(lost, "the loss is noticed")
            # a change made while nobody listens: its notification is lost, what was kept is not used
            await _set_chain_elsewhere(postgres.dsn, ["while lost"])
            assert (await _context(database)).fallback_chain == ("while lost",)
            await _listening(database)  # listening again, at a later use
            counted = Counted(database)
            await _context(database)
            await _context(database)
            assert counted.reads == 1, "the context is not kept again"
            await _set_chain_elsewhere(postgres.dsn, ["after"])

            async def seen() -> bool:
                return (await _context(database)).fallback_chain == ("after",)

            await _until(seen, "a change is seen after listening again")
        finally:
            await database.dispose()

    asyncio.run(scenario())


def test_a_read_begun_before_a_notification_is_not_kept(postgres: PostgresDatabase) -> None:
    async def scenario() -> int:
        database = await _prepared(postgres.url)
        cache = database.send_contexts
        assert cache is not None
        try:
            await _listening(database)
            # the notification of a change arrives while the first read is on its way back
            counted = Counted(database, after_first=cache.forget)
            await _context(database)
            await _context(database)
            await _context(database)
            return counted.reads
        finally:
            await database.dispose()

    assert asyncio.run(scenario()) == 2


def test_a_new_event_loop_listens_anew(postgres: PostgresDatabase) -> None:
    """A ``Database`` used on one loop, then another (as ``asyncio.run`` twice does): the listener of
    the first is dropped, nothing it kept is used, and the second keeps and forgets as the first did."""
    database = asyncio.run(_prepared(postgres.url))

    async def first() -> None:
        await _listening(database)
        assert (await _context(database)).fallback_chain == ("first",)

    async def second() -> int:
        try:
            await _set_chain_elsewhere(postgres.dsn, ["second loop"])
            # no loop listened between the change and this read: what the first loop kept is gone
            assert (await _context(database)).fallback_chain == ("second loop",)
            await _listening(database)
            counted = Counted(database)
            await _context(database)
            await _context(database)
            return counted.reads
        finally:
            await database.dispose()

    asyncio.run(first())
    assert asyncio.run(second()) == 1


def test_every_table_a_context_is_read_from_notifies_its_changes(postgres: PostgresDatabase) -> None:
    """The triggers cover exactly the tables the send context query reads (a table added to the
    query without one would be kept past its changes made elsewhere)."""
    read = {
        table.name
        for query in (policies_repo._CONTEXT_DEFAULT, policies_repo._CONTEXT_BY_ID)
        for table in sql_util.find_tables(query.statement, include_joins=False)
    }
    assert read == set(SEND_CONTEXT_TABLES)

    async def triggers() -> set[str]:
        database = Database(postgres.url)
        try:
            await upgrade_to_head(database)
        finally:
            await database.dispose()
        conn = await asyncpg.connect(postgres.dsn)
        try:
            rows = await conn.fetch(
                "SELECT tgrelid::regclass::text AS name FROM pg_trigger WHERE tgname LIKE '%_send_context_changed'"
            )
        finally:
            await conn.close()
        return {r["name"] for r in rows}

    assert asyncio.run(triggers()) == set(SEND_CONTEXT_TABLES)


async def _listen_backends(dsn: str) -> int:
    admin = await asyncpg.connect(dsn)
    try:
        return int(
            await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        )
    finally:
        await admin.close()


def test_a_change_made_here_as_sql_text_is_seen_at_once(postgres: PostgresDatabase) -> None:
    async def scenario() -> tuple[str, ...]:
        database = await _prepared(postgres.url)
        cache = database.send_contexts
        try:
            await _listening(database)
            assert cache is not None and cache._listener is not None
            await _context(database)
            await cache._listener.remove_listener(SEND_CONTEXT_CHANNEL, cache._notified)  # held back
            async with database.write() as conn:
                await conn.execute(
                    text("UPDATE notification_settings SET sms_providers_fallback_chain = '[\"as text\"]'")
                )
            return (await _context(database)).fallback_chain
        finally:
            await database.dispose()

    assert asyncio.run(scenario()) == ("as text",)


def test_dispose_stops_listening_for_good(postgres: PostgresDatabase) -> None:
    async def scenario() -> tuple[int, int, object]:
        database = await _prepared(postgres.url)
        cache = database.send_contexts
        assert cache is not None
        await _listening(database)
        listening = await _listen_backends(postgres.dsn)
        await database.dispose()
        after = cache.get((ENV, None))  # a use after dispose starts nothing
        await asyncio.sleep(0.3)
        return listening, await _listen_backends(postgres.dsn), after

    assert asyncio.run(scenario()) == (1, 0, None)


class FreezingRelay:
    """A TCP relay in front of PostgreSQL that can stop passing bytes without closing anything: a
    connection the network dropped without a word."""

    def __init__(self) -> None:
        self.frozen = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", 5432)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                if self.frozen.is_set():
                    await asyncio.Event().wait()  # holds the bytes, and the connection, forever
                sink.write(data)
                await sink.drain()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer), return_exceptions=True)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()


def test_a_listening_connection_that_goes_silent_is_given_up(
    postgres: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listened_cache, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(listened_cache, "HEARTBEAT_TIMEOUT_SECONDS", 0.3)

    async def scenario() -> float:
        relay = FreezingRelay()
        await relay.start()
        database = await _prepared(postgres.url.replace(":5432/", f":{relay.port}/"))
        cache = database.send_contexts
        assert cache is not None
        try:
            await _listening(database)
            relay.frozen.set()
            started = time.monotonic()
            while cache.listening:
                assert time.monotonic() - started < BOUND_SECONDS, "a silent listener is still trusted"
                await asyncio.sleep(0.05)
            return time.monotonic() - started
        finally:
            await asyncio.wait_for(cache.close(), BOUND_SECONDS)  # does not wait on the silent connection
            database.send_contexts = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(database.dispose(), 1)
            await relay.close()

    assert asyncio.run(scenario()) < 2.0


def test_behind_a_transaction_pooler_nothing_is_kept() -> None:
    """``prepared_statement_cache_size=0`` is how a URL says pgbouncer in transaction mode, where a
    LISTEN cannot hear anything."""
    database = Database("postgresql+asyncpg://postgres@127.0.0.1:6432/db?prepared_statement_cache_size=0")
    assert database.send_contexts is None
    assert Database("postgresql+asyncpg://postgres@127.0.0.1:5432/db").send_contexts is not None
