"""Which errors mean the database cannot serve (503), and which are anything else (ours, a provider's)."""

from __future__ import annotations

import sqlite3

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
    ],
)
def test_anything_else_is_not_database_trouble(error: BaseException) -> None:
    assert storage_failure(error) is None
