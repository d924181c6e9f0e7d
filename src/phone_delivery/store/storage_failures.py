"""Which database errors mean "the database cannot serve now" (disk full, read-only, unreachable,
shutting down) rather than a bug, and how to say so to a client and an operator.

Such an error becomes a 503 (``ServiceUnavailable``) with a clear message, and a failing write
marks the database's writes as failing until one succeeds (``/health/ready`` reports it).
"""

from __future__ import annotations

import sqlite3

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
_POSTGRES_CODES = {
    "53100": "PostgreSQL's disk is full",
    "25006": "the PostgreSQL server is read-only (a standby)",
}


def storage_failure(error: BaseException) -> str | None:
    """Why the database cannot serve, when ``error`` says so; None for any other error."""
    inner: BaseException | None = error
    while inner is not None:
        code = getattr(inner, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE:
            return _SQLITE[code & 0xFF]
        state = getattr(inner, "sqlstate", None)
        if isinstance(state, str) and len(state) == 5:
            return _POSTGRES_CODES.get(state) or _POSTGRES_CLASSES.get(state[:2])
        if isinstance(inner, OSError | sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return "the database cannot be reached"
        inner = getattr(inner, "orig", None) or inner.__cause__
    return None
