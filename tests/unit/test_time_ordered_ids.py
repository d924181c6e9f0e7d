"""Version 7 ids: valid canonical UUIDs, the creation time in the top 48 bits, random below."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from phone_delivery.api.deps import is_uuid
from phone_delivery.domain.ids import time_ordered_id


@given(st.integers(min_value=0, max_value=(1 << 48) - 1))
def test_a_version_7_uuid_holding_its_time(at: int) -> None:
    made = time_ordered_id(at)
    value = uuid.UUID(made)
    assert is_uuid(made) and str(value) == made
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert value.int >> 80 == at


def test_ids_of_later_milliseconds_sort_later_and_ids_differ() -> None:
    made = [time_ordered_id(1_700_000_000_000 + i) for i in range(1000)]
    assert made == sorted(made)
    same_ms = {time_ordered_id(1_700_000_000_000) for _ in range(1000)}
    assert len(same_ms) == 1000
