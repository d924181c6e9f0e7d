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

Each measurement runs on a server of its own with a fresh database, configurations alternating.

Usage: python -m bench.policy_checks [--seconds 5] [--rounds 3] [--connections 32] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench._servers import bootstrap_and_serve, free_port, messaging_sender, python, start, stop, wrk_run

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


def measure(config: str, args: argparse.Namespace, sandbox: str, account: dict[str, Any], round_number: int) -> float:
    """Accepts per second of one configuration, on a server of its own with a fresh database (the
    outbox grows by thousands of rows per measurement; a shared one would favour what runs first)."""
    work = Path(tempfile.mkdtemp(prefix=f"pd-bench-policy-{config}-"))
    env = {
        "PHONE_DELIVERY_DATA_DIR": str(work),
        "PHONE_DELIVERY_TWILIO_MESSAGING_BASE_URL": f"{sandbox}/twilio-messaging",
        "PHONE_DELIVERY_TWILIO_API_BASE_URL": f"{sandbox}/twilio-api",
        "PHONE_DELIVERY_LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        env["PHONE_DELIVERY_DATABASE_URL"] = args.database_url.replace("{n}", f"{config}_{round_number}")
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
        rate, accepted = wrk_run(
            f"{api}/v1/environments/{env_id}/notifications",
            args.seconds,
            args.connections,
            {**headers, "Content-Type": "application/json"},
            BODY,
        )
    finally:
        stop([server])
    print(f"round {round_number + 1}, {config:8}: {rate:,.0f} accepts/s ({accepted} requests)", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each configuration, alternating")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (requests in flight)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file per measurement; for PostgreSQL a URL whose {n} names a fresh database",
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
