"""Values read from SQLite, kept in this process only while the version they were read under holds.

SQLite cannot notify. Instead, triggers (migration 0008) add one to a single row,
``send_context_versions``, in the very transaction that changes a table a kept value is read from,
whichever connection, process or tool makes the change (the ``sqlite3`` shell too; only dropping
the triggers escapes them). Before each use the cache reads that version (``begin()``: one row by
its primary key, far cheaper than the value's own query) and answers only with a value kept under
the same version. So a change is seen by the next use after its commit, in every process; a value
whose read began before a change is kept under the older version and never answers again.

A version that cannot be read (its row deleted, which is how keeping is turned off; the file
unreadable) keeps nothing: every use reads its value anew, and the database's own error comes from
that read. The table itself must stay: the triggers write to it, and every change of those tables
would fail without it. A migration that rebuilds one of those tables (alembic's batch mode on
SQLite) drops its triggers and must create them again (``test_send_context_versions`` checks that
all nine are there). Each value is kept ``KEEP_SECONDS`` at most, as on PostgreSQL
(``listened_cache``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from phone_delivery.expiring_cache import ExpiringCache
from phone_delivery.store.listened_cache import KEEP_SECONDS

K = TypeVar("K")
V = TypeVar("V")


class VersionedCache(Generic[K, V]):
    def __init__(self, read_version: Callable[[], int | None], max_entries: int = 10_000) -> None:
        self._read_version = read_version
        self._entries: ExpiringCache[K, tuple[int, V]] = ExpiringCache(max_entries)
        self.hits = 0  # gets answered with a kept value, and not (both only count up)
        self.misses = 0

    def begin(self) -> int | None:
        """The version now: take it before a use, pass it to ``get`` and ``keep``."""
        return self._read_version()

    def get(self, key: K, version: int | None) -> V | None:
        """The value kept under ``version``; None when there is none."""
        found = self._entries.get(key) if version is not None else None
        if found is None or found[0] != version:
            self.misses += 1
            return None
        self.hits += 1
        return found[1]

    def keep(self, key: K, value: V, version: int | None) -> None:
        """Keep a value read after ``version`` was taken (a later version makes it answer no more)."""
        if version is not None:
            self._entries.put(key, (version, value), KEEP_SECONDS)
