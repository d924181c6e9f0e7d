"""Time in epoch milliseconds and PingOne's timestamp format."""

from __future__ import annotations

import time
from functools import lru_cache


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@lru_cache(maxsize=8192)  # the same createdAt/updatedAt are formatted again on every read of a row
def iso_ms(epoch_ms: int) -> str:
    """2026-01-26T09:04:18.916Z"""
    seconds, millis = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
