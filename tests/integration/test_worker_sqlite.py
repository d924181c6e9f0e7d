"""A separate `phone-delivery worker` process beside the API on one SQLite file: the two processes
take turns on SQLite's write lock (each waits without blocking its event loop), and every
notification is sent exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_workers_postgres import (
    FINAL,
    accept_many,
    deliveries,
    delivery_stack,
    start_worker,
    wait_all_final,
)
from tests.support import SandboxAdmin


@pytest.fixture
def sqlite_setup(sandbox: SandboxAdmin, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with delivery_stack(sandbox, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'phone-delivery.db'}") as setup:
        yield setup


@pytest.mark.slow
def test_a_separate_worker_on_sqlite_sends_each_notification_once(sqlite_setup: dict[str, Any]) -> None:
    setup = sqlite_setup
    worker = start_worker(setup, lease=30)  # accepting and sending overlap: both processes write
    try:
        ids = accept_many(setup["api"], setup["env"], "400")
        result = wait_all_final(setup, ids, seconds=120)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert all(r["status"] in FINAL for r in result.values())
    assert all(r["outcomes"] == ["SENT"] for r in result.values())
    received = deliveries(setup["sandbox"])
    assert all(received[number] == 1 for number in ids.values())
