"""`phone-delivery serve --workers 2`: two API processes on one port, each with its delivery worker,
on SQLite and PostgreSQL. Sends taken by either process go out once each, both workers send, and
SIGTERM to the supervisor stops both processes cleanly."""

from __future__ import annotations

import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_graceful_shutdown import GONE_OUT, serve, setup, snapshot
from tests.integration.test_workers_postgres import deliveries, sends_by_worker_process, slow_sends

__all__ = ["setup"]  # the fixture, shared with the graceful shutdown tests

SENDS = 200


def children(pid: int) -> set[int]:
    """The API processes: children of the supervisor that run Python (uvicorn spawns them)."""
    found = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
            found.add(int(child))
    return found


def test_two_processes_share_the_port_and_the_sends(setup: dict[str, Any], tmp_path: Path) -> None:
    slow_sends(setup, 100)  # each worker has sends in flight at once, so both claim
    log = tmp_path / "serve.log"
    process, base = serve(setup, log, arguments=["--workers", "2"], worker_concurrency="16")
    try:
        deadline = time.monotonic() + 30
        while len(children(process.pid)) < 2:
            assert time.monotonic() < deadline, "two API processes did not start"
            time.sleep(0.1)
        pids = children(process.pid)
        exchange = random.randrange(200, 1000)  # the sandbox's inbox is the session's: numbers of our own
        numbers = [f"+1630{exchange}{i:04d}" for i in range(SENDS)]
        token = setup["api"].token

        def send(number: str) -> str:  # a connection each, so both processes take some
            response = httpx.post(
                f"{base}/v1/environments/{setup['env']}/notifications",
                json={"deliveryMethod": "SMS", "to": number, "message": "m"},
                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            )
            assert response.status_code == 202, response.text
            return str(response.json()["id"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(send, numbers))
        deadline = time.monotonic() + 60
        while not {snapshot(setup["db"].url)[0][i] for i in ids} <= set(GONE_OUT):
            assert time.monotonic() < deadline, "not all sent"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    _, outcomes = snapshot(setup["db"].url)
    assert all(outcomes[i] == ["SENT"] for i in ids)
    received = deliveries(setup["sandbox"])
    assert [received[n] for n in numbers] == [1] * SENDS
    workers = {int(pid) for pid in sends_by_worker_process(setup)}
    assert workers == pids, (workers, pids)  # each process's worker sent some
    text = log.read_text()
    assert "Traceback" not in text
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
