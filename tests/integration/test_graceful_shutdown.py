"""SIGTERM to `phone-delivery serve` while 200 sends are in flight on a slow sandbox: the worker claims
nothing more, the 200 finish and are recorded, the rest stay QUEUED; a restart sends those. None is
lost, none sent twice, nothing is left IN_PROGRESS. A send that outlasts PHONE_DELIVERY_SHUTDOWN_SECONDS
does not hold the process: it is cancelled and keeps its lease, as after a crash. Both databases, and
both places of serve's worker (PHONE_DELIVERY_WORKER_PROCESS): on serve's event loop, and in the
process of its own that serve starts and stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from phone_delivery.store.database import Database
from phone_delivery.store.tables import attempts, notifications
from tests.integration.test_workers_postgres import (
    accept_to,
    deliveries,
    delivery_stack,
    sends_in_flight,
    slow_sends,
)
from tests.support import Api, SandboxAdmin, free_port

IN_FLIGHT = 200
QUEUED_BEHIND = 50
GONE_OUT = ("SENT", "DELIVERED")  # DELIVERED once the sandbox's status callback has come


@pytest.fixture
def setup(sandbox: SandboxAdmin, tmp_path: Path, database_url: str) -> Iterator[dict[str, Any]]:
    with delivery_stack(sandbox, tmp_path, database_url) as stack:
        yield stack


@pytest.fixture(params=["shared", "separate"])
def worker_process(request: pytest.FixtureRequest) -> str:
    """Where serve runs its delivery worker (PHONE_DELIVERY_WORKER_PROCESS)."""
    return str(request.param)


def worker_child(process: subprocess.Popen[bytes]) -> int | None:
    """The delivery worker's own process, when serve started one (``worker --link-fd``)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for child in children:
        with contextlib.suppress(FileNotFoundError):
            if "--link-fd" in Path(f"/proc/{child}/cmdline").read_text():
                return int(child)
    return None


def worker_pid(process: subprocess.Popen[bytes]) -> int:
    """The process whose worker sends: serve's own, or the worker process it started."""
    return worker_child(process) or process.pid


def serve(
    setup: dict[str, Any], log: Path, arguments: tuple[str, ...] | list[str] = (), **extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`phone-delivery serve` (API and worker) on the stack's database, ready; ``extra`` settings."""
    s = setup["settings"]
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
    env = {
        **clean,
        "PHONE_DELIVERY_DATA_DIR": str(setup["tmp"]),
        "PHONE_DELIVERY_DATABASE_URL": setup["db"].url,
        "PHONE_DELIVERY_PUBLIC_BASE_URL": s.public_base_url,
        "PHONE_DELIVERY_TWILIO_API_BASE_URL": s.twilio_api_base_url,
        "PHONE_DELIVERY_TWILIO_MESSAGING_BASE_URL": s.twilio_messaging_base_url,
        "PHONE_DELIVERY_WORKER_CONCURRENCY": str(IN_FLIGHT),
        "PHONE_DELIVERY_WORKER_POLL_SECONDS": "0.05",
        "PHONE_DELIVERY_LOG_LEVEL": "INFO",
        "PHONE_DELIVERY_LOG_FORMAT": "json",
        **{f"PHONE_DELIVERY_{k.upper()}": v for k, v in extra.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "serve", "--port", str(port), *arguments],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "serve did not become ready"
        time.sleep(0.05)


def accept(api: Api, env: str, count: int) -> dict[str, str]:
    """``count`` notifications, each to a number of its own; id -> number."""
    exchange = random.randrange(200, 1000)
    return accept_to(api, env, [f"+1629{exchange}{i:04d}" for i in range(count)])


def snapshot(url: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every notification's status, and its attempts' outcomes."""

    async def read() -> tuple[list[Any], list[Any]]:
        database = Database(url)
        try:
            async with database.read() as conn:
                rows = list(await conn.execute(select(notifications.c.id, notifications.c.status)))
                tries = list(await conn.execute(select(attempts.c.notification_id, attempts.c.outcome)))
        finally:
            await database.dispose()
        return rows, tries

    rows, tries = asyncio.run(read())
    outcomes: dict[str, list[str]] = {}
    for notification_id, outcome in tries:
        outcomes.setdefault(notification_id, []).append(outcome)
    return {r[0]: r[1] for r in rows}, outcomes


def wait_in_flight(setup: dict[str, Any], process: subprocess.Popen[bytes], count: int) -> None:
    deadline = time.monotonic() + 60
    while sends_in_flight(setup, worker_pid(process)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} sends in flight"
        time.sleep(0.05)


@contextmanager
def held_request(base: str, env: str, token: str) -> Iterator[Callable[[], int]]:
    """A send whose body has not all arrived; calling what it yields sends the rest (``{}``, which
    is no notification) and returns the answer's status."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST /v1/environments/{env}/notifications HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{"
    )
    sock.sendall(head.encode())

    def finish() -> int:
        sock.sendall(b"}")
        return int(sock.recv(65536).split(b" ")[1])

    try:
        yield finish
    finally:
        sock.close()


def stop(process: subprocess.Popen[bytes], seconds: float) -> float:
    """SIGTERM; how long the process took to exit (it must within ``seconds``)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=seconds)
    return time.monotonic() - started


def test_sigterm_finishes_the_sends_in_flight_and_claims_no_more(
    setup: dict[str, Any], tmp_path: Path, worker_process: str
) -> None:
    ids = accept(setup["api"], setup["env"], IN_FLIGHT + QUEUED_BEHIND)
    slow_sends(setup, 2500)
    log = tmp_path / "serve.log"
    process, base = serve(setup, log, worker_process=worker_process)
    child = worker_child(process)
    assert (child is not None) == (worker_process == "separate")
    # A request still arriving holds uvicorn's shutdown (it waits for open requests) past the end of
    # the 200 sends: a worker that stopped claiming only then would claim the 50 meanwhile. (Opened
    # first: uvicorn closes at once a connection whose request it has not begun to read.)
    with held_request(base, setup["env"], setup["api"].token) as finish:
        wait_in_flight(setup, process, IN_FLIGHT)
        time.sleep(0.3)  # the provider calls are under way (the sandbox holds each for 2.5 s)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while sum(s in GONE_OUT for s in snapshot(setup["db"].url)[0].values()) < IN_FLIGHT:
            assert time.monotonic() < deadline, "the sends in flight did not finish"
            time.sleep(0.1)
        time.sleep(1.5)  # the worker's slots are free; the server is still up
        assert process.poll() is None, log.read_text()[-4000:]
        assert finish() == 400  # the held request is answered after SIGTERM: its body was no notification
    process.wait(timeout=30)
    took = time.monotonic() - started
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    assert child is None or not Path(f"/proc/{child}").exists()  # serve waited for its worker

    status, outcomes = snapshot(setup["db"].url)
    assert set(status) == set(ids)  # none lost
    gone = [i for i in ids if status[i] in GONE_OUT]
    assert (len(gone), len(ids) - len(gone)) == (IN_FLIGHT, QUEUED_BEHIND), (status, took)
    assert {status[i] for i in ids} - set(GONE_OUT) == {"QUEUED"}  # nothing SENDING, nothing FAILED
    assert all(outcomes[i] == ["SENT"] for i in gone)
    assert not [i for i, o in outcomes.items() if status[i] == "QUEUED" and o]  # never claimed
    received = deliveries(setup["sandbox"])
    assert sorted(received[ids[i]] for i in ids) == [0] * QUEUED_BEHIND + [1] * IN_FLIGHT
    text = log.read_text()
    assert "worker_finishing_sends" in text and "shutdown_deadline_passed" not in text
    assert "Traceback" not in text

    process, _ = serve(setup, log, worker_process=worker_process)  # the QUEUED ones go out once, after the restart
    try:
        deadline = time.monotonic() + 60
        while not set(snapshot(setup["db"].url)[0].values()) <= set(GONE_OUT):
            assert time.monotonic() < deadline, "the queued notifications were not sent after the restart"
            time.sleep(0.2)
    finally:
        stop(process, seconds=30)
    _, outcomes = snapshot(setup["db"].url)
    assert all(o == ["SENT"] for o in outcomes.values()) and len(outcomes) == len(ids)
    received = deliveries(setup["sandbox"])
    assert [received[number] for number in ids.values()] == [1] * len(ids)  # none sent twice


def test_a_send_longer_than_the_deadline_does_not_hold_the_process(
    setup: dict[str, Any], tmp_path: Path, worker_process: str
) -> None:
    ids = accept(setup["api"], setup["env"], 5)
    slow_sends(setup, 20_000)
    log = tmp_path / "serve.log"
    # the lease (60 s) and the provider timeout (30 s) are far longer than the deadline; every slot
    # taken, so the worker waits for a send to end when the stop comes
    process, _ = serve(
        setup,
        log,
        shutdown_seconds="1",
        provider_timeout_seconds="30",
        lease_seconds="60",
        worker_concurrency=str(len(ids)),
        worker_process=worker_process,
    )
    try:
        wait_in_flight(setup, process, len(ids))
        took = stop(process, seconds=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert took < 10, took
    text = log.read_text()
    assert "shutdown_deadline_passed" in text and "Traceback" not in text
    assert all(i in text for i in ids)  # the log names the sends it left in flight
    status, outcomes = snapshot(setup["db"].url)
    # left as after a crash: leased, the attempt open; after the lease another worker takes over
    assert set(status.values()) == {"SENDING"}
    assert all(o == ["IN_PROGRESS"] for o in outcomes.values())
