"""A small in-process cache whose entries expire, bounded in size (emptied when full).

Used where a value is cheap to keep and costly to get again: the caller's roles, resolved senders,
OAuth2 tokens of custom providers. Time is ``time.monotonic()``.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._entries: dict[K, tuple[V, float]] = {}

    def get(self, key: K) -> V | None:
        """The value, if it is there and has not expired."""
        hit = self._entries.get(key)
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    def put(self, key: K, value: V, ttl: float) -> None:
        if len(self._entries) >= self._max_entries and key not in self._entries:
            self._entries.clear()
        self._entries[key] = (value, time.monotonic() + ttl)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
