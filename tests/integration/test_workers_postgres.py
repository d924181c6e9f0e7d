"""Separate `phone-delivery worker` processes on PostgreSQL: killed with SIGKILL during 1,000 sends
nothing is lost; two at once never send a notification twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from phone_delivery.app import create_app
from tests.conftest import drop_postgres_database, make_postgres_database, require_postgres
from tests.integration.test_delivery import chain, messaging_sender
from tests.support import Api, SandboxAdmin, bootstrap, free_port, serving, settings_for

COUNT = 1000
FINAL = ("SENT", "DELIVERED", "UNDELIVERED", "FAILED")


@contextmanager
def delivery_stack(sandbox: SandboxAdmin, tmp_path: Path, database_url: str) -> Iterator[dict[str, Any]]:
    """An API without a worker of its own, an environment whose chain is one Messaging Service sender
    of a fresh sandbox account; workers are started as separate processes by the tests."""
    port = free_port()
    settings = settings_for(
        tmp_path, database_url, sandbox, public_base_url=f"http://127.0.0.1:{port}", worker_enabled=False
    )
    creds = bootstrap(settings)
    with serving(create_app(settings), port=port) as server:
        api = Api(server.url, creds)
        env = api.new_environment("workers")
        sender, account = messaging_sender(api, env, sandbox)
        chain(api, env, sender["id"])
        yield {
            "api": api,
            "env": env,
            "settings": settings,
            "db": SimpleNamespace(url=database_url),
            "sandbox": sandbox,
            "tmp": tmp_path,
            "account": account,
        }


def slow_sends(setup: dict[str, Any], latency_ms: int) -> None:
    """From now on the sandbox answers this stack's account's messages after ``latency_ms``."""
    fault = {
        "count": 100000,
        "latencyMs": latency_ms,
        "pathContains": "/Messages",
        "accountSid": setup["account"]["accountSid"],
    }
    assert setup["sandbox"].http.post("/_admin/faults", json=fault).status_code == 201


@pytest.fixture
def pg_setup(sandbox: SandboxAdmin, tmp_path: Path) -> Iterator[dict[str, Any]]:
    require_postgres()
    db = make_postgres_database()
    try:
        with delivery_stack(sandbox, tmp_path, db.url) as setup:
            yield setup
    finally:
        drop_postgres_database(db)


def accept_many(api: Api, env: str, prefix: str) -> dict[str, str]:
    """COUNT notifications, each to its own number; returns id -> number."""
    return accept_to(api, env, [f"+1415{prefix}{i:04d}" for i in range(COUNT)])


def accept_to(api: Api, env: str, numbers: list[str]) -> dict[str, str]:
    """A notification to each of ``numbers``, eight at a time; returns id -> number."""

    def one(number: str) -> tuple[str, str]:
        response = api.post(
            f"/v1/environments/{env}/notifications",
            json={"deliveryMethod": "SMS", "to": number, "message": f"code for {number}"},
        )
        assert response.status_code == 202, response.text
        return response.json()["id"], number

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(one, numbers))


def start_worker(setup: dict[str, Any], lease: float, callbacks: bool = True) -> subprocess.Popen[bytes]:
    """A ``phone-delivery worker`` process. Without ``callbacks`` it asks Twilio for no status
    callbacks (no public base URL), so that its messages stay SENT: the sandbox and the API run in
    this test process, and a thousand sends bring two thousand callbacks to it."""
    s = setup["settings"]
    env = {
        **os.environ,
        "PHONE_DELIVERY_DATA_DIR": str(setup["tmp"]),
        "PHONE_DELIVERY_DATABASE_URL": setup["db"].url,
        **({"PHONE_DELIVERY_PUBLIC_BASE_URL": s.public_base_url} if callbacks else {}),
        "PHONE_DELIVERY_TWILIO_API_BASE_URL": s.twilio_api_base_url,
        "PHONE_DELIVERY_TWILIO_MESSAGING_BASE_URL": s.twilio_messaging_base_url,
        "PHONE_DELIVERY_LEASE_SECONDS": str(lease),
        "PHONE_DELIVERY_WORKER_POLL_SECONDS": "0.05",
        "PHONE_DELIVERY_RETRY_BASE_SECONDS": "0.02",
        "PHONE_DELIVERY_RETRY_MAX_SECONDS": "0.1",
        "PHONE_DELIVERY_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_all_final(setup: dict[str, Any], ids: dict[str, str], seconds: float) -> dict[str, dict[str, Any]]:
    import asyncio

    from sqlalchemy import select

    from phone_delivery.store.database import Database
    from phone_delivery.store.tables import attempts, notifications

    async def snapshot() -> tuple[list[Any], list[Any]]:
        database = Database(setup["db"].url)
        try:
            async with database.read() as conn:
                rows = list(await conn.execute(select(notifications.c.id, notifications.c.status)))
                tries = list(await conn.execute(select(attempts.c.notification_id, attempts.c.outcome)))
        finally:
            await database.dispose()
        return rows, tries

    deadline = time.monotonic() + seconds
    while True:
        rows, tries = asyncio.run(snapshot())
        status = {r[0]: r[1] for r in rows}
        if all(status.get(i) in FINAL for i in ids) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    outcomes: dict[str, list[str]] = {}
    for notification_id, outcome in tries:
        outcomes.setdefault(notification_id, []).append(outcome)
    return {i: {"status": status.get(i), "outcomes": outcomes.get(i, [])} for i in ids}


def sends_in_flight(setup: dict[str, Any], pid: int) -> int:
    """Attempts the worker process ``pid`` has recorded as IN_PROGRESS (provider called, no answer yet)."""
    import asyncio

    from sqlalchemy import func, select

    from phone_delivery.store.database import Database
    from phone_delivery.store.tables import attempts

    async def count() -> int:
        database = Database(setup["db"].url)
        try:
            async with database.read() as conn:
                query = select(func.count()).where(
                    attempts.c.outcome == "IN_PROGRESS", attempts.c.worker.like(f"%:{pid}:%")
                )
                return int((await conn.execute(query)).scalar_one())
        finally:
            await database.dispose()

    return asyncio.run(count())


def sends_by_worker_process(setup: dict[str, Any]) -> dict[str, int]:
    """Attempts per worker process id."""
    import asyncio

    from sqlalchemy import select

    from phone_delivery.store.database import Database
    from phone_delivery.store.tables import attempts

    async def names() -> list[str]:
        database = Database(setup["db"].url)
        try:
            async with database.read() as conn:
                return [str(r[0]) for r in await conn.execute(select(attempts.c.worker))]
        finally:
            await database.dispose()

    return dict(Counter(name.split(":")[1] for name in asyncio.run(names())))


def kill_mid_send(setup: dict[str, Any], worker: subprocess.Popen[bytes], rng: random.Random) -> None:
    """SIGKILL the worker at a random moment while it has sends in flight."""
    deadline = time.monotonic() + 60
    while sends_in_flight(setup, worker.pid) == 0:
        assert time.monotonic() < deadline, "the worker never started sending"
        time.sleep(0.02)
    time.sleep(rng.uniform(0, 0.3))
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)


def deliveries(sandbox: SandboxAdmin) -> Counter[str]:
    """Every message in the sandbox's inbox, by recipient (the inbox API pages by 1,000 at most)."""
    counted: Counter[str] = Counter()
    page: str | None = "/_admin/inbox?limit=1000"
    while page:
        answer = sandbox.http.get(page).json()
        counted.update(m["to"] for m in answer["messages"])
        page = answer["next"]
    return counted


@pytest.mark.slow
def test_sigkilled_worker_loses_nothing(pg_setup: dict[str, Any]) -> None:
    ids = accept_many(pg_setup["api"], pg_setup["env"], "200")
    slow_sends(pg_setup, 150)  # so that each kill finds sends in flight
    rng = random.Random(20261127)
    kills = 0
    worker = start_worker(pg_setup, lease=2, callbacks=False)
    try:
        for _ in range(10):  # bounded: ten kills mid-send, each followed by a restart
            kill_mid_send(pg_setup, worker, rng)
            kills += 1
            worker = start_worker(pg_setup, lease=2, callbacks=False)
        result = wait_all_final(pg_setup, ids, seconds=240)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert kills == 10
    unknown = sum("UNKNOWN" in r["outcomes"] for r in result.values())
    print(f"after {kills} SIGKILLs: {unknown} notifications had an attempt with unknown outcome")
    assert unknown >= kills  # every kill cut sends short: the test really kills mid-send
    not_final = [i for i, r in result.items() if r["status"] not in FINAL]
    assert not not_final, f"{len(not_final)} notifications never finished"
    assert all(r["status"] == "SENT" for r in result.values())  # no callbacks asked for
    received = deliveries(pg_setup["sandbox"])
    for notification_id, number in ids.items():
        outcomes = result[notification_id]["outcomes"]
        assert received[number] >= 1, (number, outcomes)
        if received[number] > 1:  # a duplicate only where an attempt's outcome was recorded as unknown
            assert "UNKNOWN" in outcomes, (number, received[number], outcomes)


@pytest.mark.slow
def test_two_workers_never_send_twice(pg_setup: dict[str, Any]) -> None:
    ids = accept_many(pg_setup["api"], pg_setup["env"], "300")
    # Sends take 50 ms, so the two workers (started ~1 s apart at most) overlap for the whole run
    # instead of the first one draining the queue alone.
    slow_sends(pg_setup, 50)
    workers = [start_worker(pg_setup, lease=30, callbacks=False) for _ in range(2)]
    try:
        result = wait_all_final(pg_setup, ids, seconds=240)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    assert all(r["status"] == "SENT" for r in result.values())  # no callbacks asked for
    assert all(r["outcomes"] == ["SENT"] for r in result.values())
    received = deliveries(pg_setup["sandbox"])
    assert all(received[number] == 1 for number in ids.values())
    shares = sends_by_worker_process(pg_setup)
    print(f"sends per worker process: {shares}")
    assert len(shares) == 2 and min(shares.values()) >= 100  # both really sent, side by side
