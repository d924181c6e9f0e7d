"""What a process keeps of the send contexts it read (``Database.send_contexts``): one shape for
both databases. PostgreSQL's ``listened_cache`` forgets at every notification of a change; SQLite's
``versioned_cache`` answers only under the version a change moves."""

from __future__ import annotations

from typing import Protocol, TypeVar

K = TypeVar("K", contravariant=True)
V = TypeVar("V")


class KeptValues(Protocol[K, V]):
    hits: int  # gets answered with a kept value, and not
    misses: int

    def begin(self) -> int | None:
        """Taken before a use; passed to ``get`` and, after a read, to ``keep``."""
        ...

    def get(self, key: K, token: int | None) -> V | None: ...

    def keep(self, key: K, value: V, token: int | None) -> None: ...
