"""Benchmark: the event-loop stall of a grown database, with the worker running.

A service database gets ``--notifications`` delivered notifications, each with one attempt and one
activity, bulk-loaded straight into our tables (valid ciphertexts, sealed with the service's own
key), into one environment of ``--environments``. Then `phone-delivery serve` runs with its worker,
and a client reads one sender, one request after another, for ``--seconds``: the longest answer is
the longest the event loop stood still (on SQLite, reads run on it), compared with the same on an
empty database in the same run. The worker's queue statistics run every ~5 s and its claim every
poll; without an index of the open notifications both scanned the whole table.

Usage: python -m bench.growth [--notifications 1000000] [--environments 10000] [--seconds 20]
       [--database-url URL] [--smoke]
Issue 12's target: no stall over 25 ms with the worker running.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from bench._servers import free_port, messaging_sender, python, serve_bootstrapped, service_env, start, stop
from bench.policy_checks import postgres_database
from phone_delivery.store.crypto import open_cipher
from phone_delivery.store.notifications_repo import seal
from phone_delivery.store.tables import activities, attempts, environments, notifications

CHUNK = 10_000


def load(url: str, data_dir: Path, env_id: str, count: int, extra_environments: int) -> float:
    """Bulk-load ``count`` delivered notifications (with an attempt and an activity each) and
    ``extra_environments`` environments; seconds it took."""
    return asyncio.run(_load(url, data_dir, env_id, count, extra_environments))


async def _load(url: str, data_dir: Path, env_id: str, count: int, extra_environments: int) -> float:
    started = time.monotonic()
    sealed = seal(open_cipher(None, data_dir / "secret-keys.json"), "Your code is 123456", "123456")
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
    for start_at in range(0, count, CHUNK):
        batch = range(start_at, min(count, start_at + CHUNK))
        made = [(str(uuid.uuid4()), now + i) for i in batch]
        async with engine.begin() as conn:
            await conn.execute(insert(notifications), [_notification(n, env_id, sealed, t) for n, t in made])
            await conn.execute(insert(attempts), [_attempt(n, t) for n, t in made])
            await conn.execute(insert(activities), [_activity(n, env_id, t) for n, t in made])
        if batch.stop % 100_000 == 0 or batch.stop == count:
            print(f"  loaded {batch.stop:,} of {count:,} notifications", flush=True)
    await engine.dispose()
    return time.monotonic() - started


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
        "id": str(uuid.uuid4()),
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
        "id": str(uuid.uuid4()),
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


def measure(args: argparse.Namespace, sandbox: str, account: dict[str, Any], grown: bool, label: str) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix=f"pd-bench-growth-{label}-"))
    env = service_env(work, sandbox)
    url = f"sqlite+aiosqlite:///{work / 'phone-delivery.db'}"
    if args.database_url:
        url = args.database_url.replace("{n}", label)
        postgres_database(url, "drop")
        postgres_database(url, "create")
    env["PHONE_DELIVERY_DATABASE_URL"] = url
    port = free_port()
    server, api, headers, env_id, _ = serve_bootstrapped(env, port)
    try:
        sender = messaging_sender(api, headers, env_id, account)
        if grown:
            stop([server])
            print(
                f"loading {args.notifications:,} notifications and {args.environments:,} environments ...", flush=True
            )
            took = load(url, work, env_id, args.notifications, args.environments)
            print(f"  loaded in {took:.0f} s", flush=True)
            server = start(
                python("-m", "phone_delivery", "serve", "--port", str(port)), env=env, ready_url=f"{api}/health/live"
            )
        target = f"{api}/v1/environments/{env_id}/notificationsSettings/phoneDeliverySettings/{sender['id']}"
        stalls(target, headers, 2)  # warm-up
        return stalls(target, headers, args.seconds)
    finally:
        stop([server])
        if args.database_url:
            postgres_database(url, "drop")


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if len(ordered) >= 100 else ordered[-1]
    median = statistics.median(times)
    return f"{len(times):,} requests, median {median:.1f} ms, p99 {p99:.1f} ms, longest {ordered[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=1_000_000, help="delivered notifications loaded")
    parser.add_argument("--environments", type=int, default=10_000, help="environments loaded besides the one")
    parser.add_argument("--seconds", type=float, default=20, help="how long the client reads, per database")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: SQLite files; for PostgreSQL a URL ending in a database name with {n}, created fresh "
        "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/pd_growth_{n})",
    )
    parser.add_argument("--smoke", action="store_true", help="2,000 notifications, 10 environments, 2 s")
    args = parser.parse_args()
    if args.smoke:
        args.notifications, args.environments, args.seconds = 2_000, 10, 2
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    processes = [start(python("-m", "phone_delivery", "sandbox", "--port", str(sandbox_port)), ready_url=f"{sandbox}/")]
    try:
        account = httpx.post(f"{sandbox}/_admin/accounts", json={"messagingServices": ["bench"]}).json()
        empty = measure(args, sandbox, account, grown=False, label="empty")
        print(f"empty database: {summary(empty)}", flush=True)
        grown = measure(args, sandbox, account, grown=True, label="grown")
        print(f"grown database: {summary(grown)}", flush=True)
        print(f"median ratio grown/empty: {statistics.median(empty) / statistics.median(grown):.0%} of the empty rate")
        print("target: no stall over 25 ms with the worker running")
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
