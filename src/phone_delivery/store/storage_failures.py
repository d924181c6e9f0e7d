"""Which database errors mean "the database cannot serve now" (disk full, read-only, unreachable,
shutting down) rather than a bug, and how to say so to a client and an operator.

Such an error becomes a 503 (``ServiceUnavailable``) with a clear message, and a failing write
marks the database's writes as failing until one succeeds (``/health/ready`` reports it).
"""

from __future__ import annotations

import socket
import sqlite3
import ssl

from sqlalchemy import exc as sa_exc

# SQLite primary result codes (extended codes carry them in the low byte).
_SQLITE = {
    sqlite3.SQLITE_FULL: "the disk holding the SQLite database is full",
    sqlite3.SQLITE_IOERR: "the SQLite database could not be written or read (I/O error)",
    sqlite3.SQLITE_READONLY: "the SQLite database is read-only",
    sqlite3.SQLITE_CANTOPEN: "the SQLite database file cannot be opened",
    sqlite3.SQLITE_BUSY: "another process has held the SQLite database's write lock for too long",
    sqlite3.SQLITE_NOTADB: "the SQLite database file is not a database",
    sqlite3.SQLITE_CORRUPT: "the SQLite database file is damaged",
}
# PostgreSQL SQLSTATE classes and codes.
_POSTGRES_CLASSES = {
    "08": "the connection to PostgreSQL failed",
    "53": "PostgreSQL is out of resources (disk space, memory or connections)",
    "57": "PostgreSQL is shutting down or not accepting connections",
    "58": "PostgreSQL could not read or write its files",
}
# In those classes but the statement's own doing, not the server's state.
_NOT_STORAGE = frozenset({"57014"})  # query_canceled (a statement timeout)
_POSTGRES_CODES = {
    "53100": "PostgreSQL's disk is full",
    "25006": "the PostgreSQL server is read-only (a standby)",
}


def storage_failure(error: BaseException) -> str | None:
    """Why the database cannot serve, when ``error`` is the database driver's and says so; None for
    any other error (ours, or a provider's: they are never blamed on the database)."""
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return "the database cannot be reached"
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return "the connection to the database was lost"
        return _driver_reason(error.orig) or _driver_reason(error.orig.__cause__ if error.orig else None)
    if isinstance(error, sqlite3.Error):
        return _driver_reason(error)
    # Only errors raised inside Database.read()/write() come here, where no provider is called (a
    # provider's resolver errors are HostNotFound, its connection errors httpx's).
    if isinstance(error, socket.gaierror):  # opening a connection: the database's host name
        return "the database's host name cannot be resolved"
    if isinstance(error, ssl.SSLCertVerificationError):  # a configuration to fix, said as such
        return "the database's TLS certificate could not be verified (check the URL's sslmode and CA)"
    if isinstance(error, ssl.SSLError):  # opening a connection with sslmode: the TLS handshake
        return "the TLS connection to the database failed"
    if isinstance(error, OSError) and error.__class__.__module__ in ("builtins", "asyncio.exceptions"):
        # Opening a connection: the drivers raise the socket's own error (refused, timed out).
        return "the database cannot be reached"
    if not type(error).__module__.startswith("asyncpg"):
        return None
    if type(error).__name__ == "InterfaceError" and str(error).startswith(("pool is closing", "pool is closed")):
        return "the database connections are closing (the server is stopping)"  # a request during shutdown
    return _driver_reason(error)


def _driver_reason(error: BaseException | None) -> str | None:
    if error is None:
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code & 0xFF)
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str) and len(state) == 5 and state not in _NOT_STORAGE:
        return _POSTGRES_CODES.get(state) or _POSTGRES_CLASSES.get(state[:2])
    return None
