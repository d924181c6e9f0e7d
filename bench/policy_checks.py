"""Benchmark: the cost of notification policy checks on the accept path. `phone-delivery serve` with
the worker off (so only the accept path runs), three configurations measured alternately in the same
run with the same wrk load (POST .../notifications, one fixed body):

- none:     the environment's default policy as created (no limits), the baseline;
- pingone:  a country limit, a USER quota (never reached), a routing condition for the country;
- all:      the same plus the beyond-PingOne rules (number types, per-number hourly cap, prefix
            velocity; the fixed destination counts once in its prefix).

Cooldowns are left out: every request goes to the same number, so a cooldown would refuse them and
the measurement would be of refusals. Prints each rate and the ratio to the baseline (issue 11's
budget: the accept rate falls by at most 20%).

Each measurement runs on a server of its own with a fresh database (on PostgreSQL, checkpointed
after its creation), configurations alternating, after 200 warm-up requests.

With one user (the default) every send takes the same quota counter row: the worst case, where on
PostgreSQL the parallel group-commit batches queue on that row's lock; ``--users N`` spreads the
sends over N users.

Usage: python -m bench.policy_checks [--seconds 5] [--rounds 3] [--connections 32] [--users 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench._servers import bootstrap_and_serve, free_port, messaging_sender, python, service_env, start, stop, wrk_run

BODY = json.dumps(
    {"deliveryMethod": "SMS", "to": "+14155552671", "message": "Your code is 123456", "user": {"id": "bench-user"}}
)


def pingone_rules(sender_id: str) -> dict[str, Any]:
    return {
        "quotas": [{"type": "USER", "deliveryMethods": ["SMS", "Voice"], "total": 2_000_000_000}],
        "countryLimit": {"type": "ALLOWED", "countries": ["US", "CA", "DE", "FR"]},
        "providerConfiguration": {
            "conditions": [
                {"deliveryMethods": ["SMS"], "countries": ["US"], "fallbackChain": [{"id": sender_id}]},
                {"fallbackChain": [{"id": "PINGONE_TWILIO"}]},
            ]
        },
    }


FRAUD = {
    "numberTypes": {"enabled": True},
    "numberHourlyCap": {"enabled": True, "limit": 10_000},
    "prefixVelocity": {"enabled": True, "distinctNumbers": 1000},
}


def new_default_policy(api: str, headers: dict[str, str], env_id: str, name: str, rules: dict[str, Any]) -> None:
    """A new policy, made the default: new counters (the per-number hourly cap stays under its limit)."""
    httpx.post(
        f"{api}/v1/environments/{env_id}/notificationsPolicies",
        headers=headers,
        json={"name": name, "default": True, **rules},
    ).raise_for_status()


# --users N: every request names one of N users (user.id u0 ... u{N-1}, in turn).
VARIED = """counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"deliveryMethod": "SMS", "to": "+14155552671", "message": "Your code is 123456", "user": {"id": "u%d"}}',
    counter % USERS)
  return wrk.format("POST", nil, nil, body)
end
"""


def wrk_users(url: str, seconds: int, connections: int, headers: dict[str, str], users: int) -> tuple[float, int]:
    """(requests per second, requests) by wrk, each request for the next of ``users`` users; fails on
    any non-2xx answer."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(VARIED.replace("USERS", str(users)))
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", handle.name]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    os.unlink(handle.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"{url} answered errors during the run:\n{out}")
    rate, total = re.search(r"Requests/sec:\s+([\d.]+)", out), re.search(r"(\d+) requests in", out)
    if not rate or not total:
        raise RuntimeError(out)
    return float(rate.group(1)), int(total.group(1))


WARM_UP = 200  # requests before each measurement, to another number (the hourly cap's count stays clear)


def warm_up(target: str, headers: dict[str, str]) -> None:
    """Connection pools, caches and compiled statements ready before wrk starts."""
    body = {"deliveryMethod": "SMS", "to": "+14155552672", "message": "warm-up", "user": {"id": "warm-up"}}
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(WARM_UP):
            client.post(target, json=body).raise_for_status()


def postgres_database(url: str, verb: str) -> None:
    """CREATE or DROP the database named by the last path segment of ``url`` (postgresql+asyncpg)."""
    import asyncpg

    server, name = url.replace("postgresql+asyncpg://", "postgresql://", 1).rsplit("/", 1)
    statement = f'CREATE DATABASE "{name}"' if verb == "create" else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

    async def run() -> None:
        conn = await asyncpg.connect(f"{server}/postgres", timeout=10)
        try:
            await conn.execute(statement)
            if verb == "create":
                # CREATE DATABASE's own checkpoint would otherwise be written during the measurement
                await conn.execute("CHECKPOINT")
        finally:
            await conn.close()

    asyncio.run(run())


def measure(config: str, args: argparse.Namespace, sandbox: str, account: dict[str, Any], round_number: int) -> float:
    """Accepts per second of one configuration, on a server of its own with a fresh database (the
    outbox grows by thousands of rows per measurement; a shared one would favour what runs first)."""
    work = Path(tempfile.mkdtemp(prefix=f"pd-bench-policy-{config}-"))
    env = service_env(work, sandbox)
    fresh = None
    if args.database_url:
        url = args.database_url.replace("{n}", f"{config}_{round_number}_{os.getpid()}")
        if "{n}" in args.database_url:
            postgres_database(url, "create")
            fresh = url
        env["PHONE_DELIVERY_DATABASE_URL"] = url
    server, api, headers, env_id = bootstrap_and_serve(
        env, free_port(), {**env, "PHONE_DELIVERY_WORKER_ENABLED": "false"}
    )
    try:
        sender = messaging_sender(api, headers, env_id, account)["id"]
        httpx.put(
            f"{api}/v1/environments/{env_id}/notificationsSettings",
            headers=headers,
            json={"smsProvidersFallbackChain": [sender]},
        ).raise_for_status()
        if config == "pingone":
            new_default_policy(api, headers, env_id, "pingone", pingone_rules(sender))
        elif config == "all":
            new_default_policy(api, headers, env_id, "all", {**pingone_rules(sender), "fraudProtection": FRAUD})
        # wrk_run fails on any non-2xx answer: every request measured was accepted
        target, load_headers = (
            f"{api}/v1/environments/{env_id}/notifications",
            {**headers, "Content-Type": "application/json"},
        )
        warm_up(target, load_headers)
        if args.users > 1:
            rate, accepted = wrk_users(target, args.seconds, args.connections, load_headers, args.users)
        else:
            rate, accepted = wrk_run(target, args.seconds, args.connections, load_headers, BODY)
    finally:
        stop([server])
        if fresh is not None:
            postgres_database(fresh, "drop")
    print(f"round {round_number + 1}, {config:8}: {rate:,.0f} accepts/s ({accepted} requests)", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each configuration, alternating")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (requests in flight)")
    parser.add_argument(
        "--users", type=int, default=1, help="requests for this many users in turn (1: one user, the hottest counter)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file per measurement; for PostgreSQL a URL ending in a database name "
        "with {n}, created fresh for each measurement (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/pd_bench_{n})",
    )
    args = parser.parse_args()
    sandbox_port = free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    processes = [start(python("-m", "phone_delivery", "sandbox", "--port", str(sandbox_port)), ready_url=f"{sandbox}/")]
    try:
        account = httpx.post(f"{sandbox}/_admin/accounts", json={"messagingServices": ["bench"]}).json()
        rates: dict[str, list[float]] = {"none": [], "pingone": [], "all": []}
        for round_number in range(args.rounds):
            for config in rates:
                rates[config].append(measure(config, args, sandbox, account, round_number))
        baseline = statistics.median(rates["none"])
        for config, measured in rates.items():
            median = statistics.median(measured)
            print(f"{config:8} median {median:,.0f} accepts/s: {median / baseline:.0%} of the baseline")
        print("budget: the accept rate falls by at most 20% (pingone and all at least 80% of none)")
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
