"""The expiring cache behind the role, sender and OAuth2 token caches."""

from __future__ import annotations

import pytest

from phone_delivery import expiring_cache
from phone_delivery.expiring_cache import ExpiringCache


def test_entries_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(expiring_cache.time, "monotonic", lambda: now[0])
    cache: ExpiringCache[str, int] = ExpiringCache()
    cache.put("a", 1, ttl=5)
    assert cache.get("a") == 1
    now[0] = 105.0
    assert cache.get("a") is None
    assert cache.get("missing") is None


def test_a_full_cache_starts_over_and_pop_forgets() -> None:
    cache: ExpiringCache[int, int] = ExpiringCache(max_entries=3)
    for key in range(3):
        cache.put(key, key, ttl=60)
    cache.put(1, 10, ttl=60)  # replacing a key never empties the cache
    assert [cache.get(k) for k in range(3)] == [0, 10, 2]
    cache.put(3, 3, ttl=60)
    assert [cache.get(k) for k in range(4)] == [None, None, None, 3]
    cache.pop(3)
    assert cache.get(3) is None
