"""Which errors mean the database cannot serve (503), and which are anything else (ours, a provider's)."""

from __future__ import annotations

import socket
import sqlite3
import ssl
from typing import Any

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from phone_delivery.providers.address_guard import DestinationRefused, HostNotFound
from phone_delivery.store.storage_failures import storage_failure


def sqlite_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("sqlite says no")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


def wrapped(orig: BaseException) -> sa_exc.DBAPIError:
    return sa_exc.OperationalError("INSERT ...", {}, orig)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (sqlite_error(sqlite3.SQLITE_FULL), "full"),
        (sqlite_error(sqlite3.SQLITE_IOERR | (4 << 8)), "I/O"),  # an extended code (SQLITE_IOERR_WRITE-like)
        (sqlite_error(sqlite3.SQLITE_READONLY), "read-only"),
        (wrapped(sqlite_error(sqlite3.SQLITE_FULL)), "full"),
        (wrapped(asyncpg.exceptions.DiskFullError("could not extend file")), "disk is full"),
        (wrapped(asyncpg.exceptions.AdminShutdownError("terminating")), "shutting down"),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), "shutting down"),
        (ConnectionRefusedError(111, "Connection refused"), "reached"),
        (sa_exc.TimeoutError("pool"), "reached"),
        (socket.gaierror(-2, "Name or service not known"), "host name"),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS"),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), "certificate could not be verified"),
        (asyncpg.exceptions.InterfaceError("pool is closing"), "closing"),  # the direct reads' pool at shutdown
    ],
)
def test_the_database_cannot_serve(error: BaseException, words: str) -> None:
    assert words in (storage_failure(error) or ""), storage_failure(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        KeyError("x"),
        HostNotFound("a provider's host"),  # never blamed on the database
        DestinationRefused("a provider's address"),
        sqlite_error(sqlite3.SQLITE_CONSTRAINT),
        wrapped(asyncpg.exceptions.QueryCanceledError("statement timeout")),  # 57014: the statement's own doing
        wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress"),  # ours
    ],
)
def test_anything_else_is_not_database_trouble(error: BaseException) -> None:
    assert storage_failure(error) is None


def test_a_database_host_that_does_not_resolve_is_a_503_not_a_500(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver raises the resolver's own socket.gaierror (it was a 500 with a traceback)."""
    import asyncio

    from phone_delivery.domain.errors import ServiceUnavailable
    from phone_delivery.store.database import Database

    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "db.unresolvable.test":  # answered here: no query leaves the machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    async def run() -> None:
        database = Database("postgresql+asyncpg://postgres@db.unresolvable.test:5432/x")
        try:
            for use in (database.read, database.write):
                with pytest.raises(ServiceUnavailable) as raised:
                    async with use():
                        pass
                assert "host name cannot be resolved" in raised.value.message
            assert database.writes_failing is not None  # /health/ready says so
        finally:
            await database.dispose()

    asyncio.run(run())
