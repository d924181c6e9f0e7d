"""Ids of the rows written at every send (notifications, attempts, activities): UUID version 7.

The first 48 bits are the Unix time in milliseconds, the rest random (RFC 9562, section 5.7), so ids
made close together sort close together and an insert touches the right edge of the primary key's
index instead of a random page of it: on a table of millions of rows, random (version 4) keys spread
each group commit's writes over pages all over the index. The ids stay valid UUIDs of the canonical
form (docs/compatibility.md); everything else (senders, policies, applications) keeps version 4.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62


def time_ordered_id(now_ms: int | None = None) -> str:
    """A new UUID version 7: ``now_ms`` (default: now) in the top 48 bits, then 74 random bits."""
    at = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    random_bits = int.from_bytes(os.urandom(10))
    rand_a = random_bits >> 68  # 12 bits
    rand_b = random_bits & ((1 << 62) - 1)
    value = ((at & ((1 << 48) - 1)) << 80) | _VERSION_7 | (rand_a << 64) | _VARIANT | rand_b
    return str(uuid.UUID(int=value))
