"""The direct reads' asyncpg pool (``store/prepared_read.py``): what it connects with (the engine's
own URL, SQLAlchemy's adapter options translated or left out), and how it is opened and closed."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url

from phone_delivery.store.prepared_read import DirectReads, asyncpg_connect_arguments


def test_the_engine_url_becomes_asyncpg_arguments() -> None:
    url = make_url("postgresql+asyncpg://pd:s3cr%40t@db.internal:6432/phone?prepared_statement_cache_size=0")
    arguments = asyncpg_connect_arguments(url)
    assert arguments == {
        "host": "db.internal",
        "port": 6432,
        "user": "pd",
        "password": "s3cr@t",
        "database": "phone",
        "statement_cache_size": 0,  # behind pgbouncer in transaction mode: no named statements either
    }


def test_without_options_only_the_address_and_login() -> None:
    arguments = asyncpg_connect_arguments(make_url("postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    assert arguments == {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}


class FakePool:
    def __init__(self) -> None:
        self.terminated = False

    def terminate(self) -> None:
        self.terminated = True

    async def close(self) -> None:
        self.terminated = True


def test_the_pool_opens_once_for_reads_that_arrive_together_and_a_failed_open_is_tried_again() -> None:
    async def scenario() -> tuple[int, FakePool, list[object]]:
        reads = DirectReads({})
        created: list[FakePool] = []
        gate = asyncio.Event()
        refusals = [ConnectionRefusedError("refused")]  # the first open fails

        async def create() -> FakePool:
            await gate.wait()
            if refusals:
                raise refusals.pop()
            created.append(FakePool())
            return created[-1]

        reads._create = create  # type: ignore[method-assign]
        first = [asyncio.ensure_future(reads._open()) for _ in range(5)]
        await asyncio.sleep(0)
        gate.set()
        outcomes = await asyncio.gather(*first, return_exceptions=True)
        assert all(isinstance(o, ConnectionRefusedError) for o in outcomes)  # one open, failed, for all five
        again = await asyncio.gather(*(reads._open() for _ in range(5)))
        return len(created), created[0], list(again)

    count, pool, opened = asyncio.run(scenario())
    assert count == 1 and all(p is pool for p in opened)


def test_a_pool_that_opens_after_the_database_closed_is_not_kept() -> None:
    async def scenario() -> tuple[FakePool, DirectReads, BaseException | None]:
        reads = DirectReads({})
        gate = asyncio.Event()
        fake = FakePool()

        async def create() -> FakePool:
            await gate.wait()
            return fake

        reads._create = create  # type: ignore[method-assign]
        opening = asyncio.ensure_future(reads._open())
        await asyncio.sleep(0)
        await reads.close()  # the service shuts down while the first read waits for its pool
        gate.set()
        try:
            await opening
        except OSError as exc:  # a 503 for that read (store/storage_failures.py)
            return fake, reads, exc
        return fake, reads, None

    fake, reads, error = asyncio.run(scenario())
    assert isinstance(error, OSError) and fake.terminated and reads._pool is None
