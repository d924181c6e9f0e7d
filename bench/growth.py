"""Benchmark: the API on a grown database against an empty one, with the worker running.

Two services run side by side, each with its worker, on databases of their own; each has one
environment set up as ``bench/api.py`` sets its own up (ten senders, 60 notifications), so every
answer has the same size on both. The grown one also gets, bulk-loaded straight into our tables
(valid ciphertexts, sealed with the service's own key): ``--environments`` more environments with
``--senders-per-environment`` senders each, and ``--notifications`` delivered notifications, each
with one attempt and one activity, in the measured environment (their ids made as the service makes
them, version 7 at each row's time; on PostgreSQL a ``VACUUM ANALYZE`` follows, as autovacuum would
have run on a database that grew over time). Then, for both, alternating:

- the longest stall: a client reads one sender, one request after another, for ``--seconds``; the
  longest answer is the longest the event loop stood still (on SQLite, reads run on it). The
  worker's claim and queue statistics run meanwhile (without an index of the open notifications
  both scanned the whole table);
- each endpoint of ``bench/api.py`` under wrk (``--rate-seconds`` each, ``--rounds``): the grown
  database's requests/s as a share of the empty one's.

Usage: python -m bench.growth [--notifications 1000000] [--environments 10000]
       [--senders-per-environment 10] [--seconds 20] [--rate-seconds 5] [--rounds 3]
       [--database-url URL] [--smoke]
Issue 12's targets: every endpoint at least 90% of its empty-database rate; no stall over 25 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from bench._servers import (
    Measurement,
    free_port,
    python,
    serve_bootstrapped,
    service_env,
    start,
    stop,
    wrk_measure,
)
from bench.api import endpoints, setup
from bench.policy_checks import postgres_database
from phone_delivery.domain.ids import time_ordered_id
from phone_delivery.store.crypto import open_cipher
from phone_delivery.store.notifications_repo import seal
from phone_delivery.store.tables import activities, attempts, environments, notifications, senders

CHUNK = 10_000
DRAIN_SECONDS = 300


def load(url: str, data_dir: Path, env_id: str, count: int, extra_environments: int, senders_each: int) -> float:
    """Bulk-load ``count`` delivered notifications (with an attempt and an activity each) and
    ``extra_environments`` environments of ``senders_each`` senders; seconds it took."""
    return asyncio.run(_load(url, data_dir, env_id, count, extra_environments, senders_each))


async def _load(url: str, data_dir: Path, env_id: str, count: int, extra_environments: int, senders_each: int) -> float:
    started = time.monotonic()
    cipher = open_cipher(None, data_dir / "secret-keys.json")
    sealed = seal(cipher, "Your code is 123456", "123456")
    secrets = cipher.encrypt_json({"authToken": "0123456789abcdef0123456789abcdef"})
    engine = create_async_engine(url)
    now = int(time.time() * 1000) - 86_400_000
    rows = [
        {
            "id": str(uuid.uuid4()),
            "name": f"grown {i}",
            "description": None,
            "type": "SANDBOX",
            "region": "NA",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(extra_environments)
    ]
    for start_at in range(0, len(rows), CHUNK):
        async with engine.begin() as conn:
            await conn.execute(insert(environments), rows[start_at : start_at + CHUNK])
    owned = [_sender(row["id"], index, secrets, now) for row in rows for index in range(senders_each)]
    for start_at in range(0, len(owned), CHUNK):
        async with engine.begin() as conn:
            await conn.execute(insert(senders), owned[start_at : start_at + CHUNK])
    print(f"  loaded {len(rows):,} environments and {len(owned):,} senders", flush=True)
    for start_at in range(0, count, CHUNK):
        batch = range(start_at, min(count, start_at + CHUNK))
        # ids as the service makes them (version 7, time first), at the time of each row
        made = [(time_ordered_id(now + i), now + i) for i in batch]
        async with engine.begin() as conn:
            await conn.execute(insert(notifications), [_notification(n, env_id, sealed, t) for n, t in made])
            await conn.execute(insert(attempts), [_attempt(n, t) for n, t in made])
            await conn.execute(insert(activities), [_activity(n, env_id, t) for n, t in made])
        if batch.stop % 100_000 == 0 or batch.stop == count:
            print(f"  loaded {batch.stop:,} of {count:,} notifications", flush=True)
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a database that grew over time: statistics that know the rows
        # are there (the planner's are of empty tables until then) and a visibility map. Done now
        # rather than in the middle of the measurements.
        print("  VACUUM ANALYZE ...", flush=True)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()
    return time.monotonic() - started


def _sender(env_id: str, index: int, secrets: str, at: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "environment_id": env_id,
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
        "name": f"grown {index}",
        "config": {"sid": "AC" + uuid.uuid4().hex, "selectedMessagingServiceSid": "MG" + uuid.uuid4().hex},
        "secrets_ciphertext": secrets,
        "created_at": at,
        "updated_at": at,
    }


def _notification(notification_id: str, env_id: str, sealed: str, at: int) -> dict[str, Any]:
    return {
        "id": notification_id,
        "environment_id": env_id,
        "delivery_method": "SMS",
        "to_number": "+14155552671",
        "country": "US",
        "content_ciphertext": sealed,
        "status": "DELIVERED",
        "chain": ["PINGONE_TWILIO"],
        "chain_position": 0,
        "tries_at_position": 1,
        "next_attempt_at": None,
        "provider": "PINGONE_TWILIO",
        "provider_message_id": f"SM{notification_id.replace('-', '')}",
        "created_at": at,
        "updated_at": at + 2000,
    }


def _attempt(notification_id: str, at: int) -> dict[str, Any]:
    return {
        "id": time_ordered_id(at),
        "notification_id": notification_id,
        "sender_id": "PINGONE_TWILIO",
        "provider": "PINGONE_TWILIO",
        "outcome": "SUCCEEDED",
        "provider_message_id": f"SM{notification_id.replace('-', '')}",
        "worker": "bench",
        "started_at": at,
        "finished_at": at + 300,
    }


def _activity(notification_id: str, env_id: str, at: int) -> dict[str, Any]:
    return {
        "id": time_ordered_id(at),
        "environment_id": env_id,
        "action_type": "NOTIFICATION.CREATED",
        "actor_type": "CLIENT",
        "actor_id": None,
        "actor_name": None,
        "resource_type": "NOTIFICATION",
        "resource_id": notification_id,
        "resource_name": None,
        "description": "SMS notification queued.",
        "recorded_at": at,
    }


def stalls(url: str, headers: dict[str, str], seconds: float) -> list[float]:
    """Milliseconds of each request, one after another, for ``seconds``."""
    times = []
    deadline = time.monotonic() + seconds
    with httpx.Client(headers=headers, timeout=30) as client:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
    return times


@dataclass
class Service:
    """A running service with its environment set up as bench/api.py sets its own up."""

    process: subprocess.Popen[bytes]
    api: str
    table: list[dict[str, Any]]
    url: str
    target: str
    headers: dict[str, str]


def prepare(args: argparse.Namespace, sandbox: str, account: dict[str, Any], grown: bool, label: str) -> Service:
    work = Path(tempfile.mkdtemp(prefix=f"pd-bench-growth-{label}-"))
    env = service_env(work, sandbox)
    url = f"sqlite+aiosqlite:///{work / 'phone-delivery.db'}"
    if args.database_url:
        url = args.database_url.replace("{n}", label)
        postgres_database(url, "drop")
        postgres_database(url, "create")
    env["PHONE_DELIVERY_DATABASE_URL"] = url
    port = free_port()
    server, api, headers, env_id, boot = serve_bootstrapped(env, port)
    sender_id = setup(api, headers, env_id, account)
    if grown:
        stop([server])
        print(
            f"loading {args.notifications:,} notifications, {args.environments:,} environments of "
            f"{args.senders_per_environment} senders ...",
            flush=True,
        )
        took = load(url, work, env_id, args.notifications, args.environments, args.senders_per_environment)
        print(f"  loaded in {took:.0f} s", flush=True)
        server = start(
            python("-m", "phone_delivery", "serve", "--port", str(port)), env=env, ready_url=f"{api}/health/live"
        )
    # the token endpoint's answer is a fresh token each time; sends are accepted and delivered
    table = endpoints(headers, env_id, sender_id, boot)
    target = f"{api}/v1/environments/{env_id}/notificationsSettings/phoneDeliverySettings/{sender_id}"
    return Service(server, api, table, url, target, headers)


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if len(ordered) >= 100 else ordered[-1]
    median = statistics.median(times)
    return f"{len(times):,} requests, median {median:.1f} ms, p99 {p99:.1f} ms, longest {ordered[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=1_000_000, help="delivered notifications loaded")
    parser.add_argument("--environments", type=int, default=10_000, help="environments loaded besides the one")
    parser.add_argument("--senders-per-environment", type=int, default=10, help="senders of each loaded environment")
    parser.add_argument("--seconds", type=float, default=20, help="how long the stall client reads, per database")
    parser.add_argument("--rate-seconds", type=int, default=5, help="wrk duration of each endpoint measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rate measurements of each database, alternating")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: SQLite files; for PostgreSQL a URL ending in a database name with {n}, created fresh "
        "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/pd_growth_{n})",
    )
    parser.add_argument("--smoke", action="store_true", help="2,000 notifications, 10 environments, seconds")
    args = parser.parse_args()
    if args.smoke:
        args.notifications, args.environments, args.seconds, args.rate_seconds, args.rounds = 2_000, 10, 2, 1, 1
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    processes = [start(python("-m", "phone_delivery", "sandbox", "--port", str(sandbox_port)), ready_url=f"{sandbox}/")]
    services: list[Service] = []
    try:
        account = httpx.post(f"{sandbox}/_admin/accounts", json={"messagingServices": ["bench"]}).json()
        services.append(prepare(args, sandbox, account, grown=False, label="empty"))
        services.append(prepare(args, sandbox, account, grown=True, label="grown"))
        empty, grown = services
        for service in services:
            stalls(service.target, service.headers, 2)  # warm-up
        times = {name: stalls(s.target, s.headers, args.seconds) for name, s in (("empty", empty), ("grown", grown))}
        print(f"empty database: {summary(times['empty'])}", flush=True)
        print(f"grown database: {summary(times['grown'])}", flush=True)
        delivered = Delivered(sandbox)
        for mine, theirs in zip(grown.table, empty.table, strict=True):
            ratios, rates = [], []
            for _ in range(args.rounds):
                base = delivered.after(_rate(args, empty.api, theirs), theirs)
                loaded = delivered.after(_rate(args, grown.api, mine), mine)
                ratios.append(loaded / base)
                rates.append((loaded, base))
            loaded, base = sorted(rates)[len(rates) // 2]
            print(
                f"{mine['name'].replace(' (worker off)', ''):31} grown {loaded:8,.0f}/s | empty {base:8,.0f}/s |"
                f" {statistics.median(ratios):6.1%}"
                " of the empty rate",
                flush=True,
            )
        print("targets: every endpoint at least 90% of its empty rate; no stall over 25 ms with the worker running")
    finally:
        stop([s.process for s in services])
        stop(processes)
        if args.database_url:
            for s in services:
                postgres_database(s.url, "drop")


def _rate(args: argparse.Namespace, base: str, endpoint: dict[str, Any]) -> Measurement:
    url = base + endpoint["path"] + endpoint.get("query", "")
    return wrk_measure(url, args.rate_seconds, 32, endpoint["headers"], endpoint.get("body"))


class Delivered:
    """Waits, after a measurement of sends, until the sandbox has every one of them: accepts outrun
    the worker, and a worker still delivering one side's sends would take the CPU from the next
    measurement (of the other side, then: the first round favoured whichever side went first)."""

    def __init__(self, sandbox: str) -> None:
        self._sandbox = sandbox
        self._expected = self._count()

    def _count(self) -> int:
        return int(httpx.get(f"{self._sandbox}/_admin/inbox/count").json()["total"])

    def after(self, measured: Measurement, endpoint: dict[str, Any]) -> float:
        if endpoint.get("body") is not None and endpoint["name"].startswith("send accept"):
            self._expected += measured.requests
            deadline = time.monotonic() + DRAIN_SECONDS
            while self._count() < self._expected:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the sends were not delivered within {DRAIN_SECONDS} s")
                time.sleep(0.05)
        return measured.rate


if __name__ == "__main__":
    main()
