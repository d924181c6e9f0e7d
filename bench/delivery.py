"""Benchmark: notifications per second end to end (API accept -> sandbox receipt) against the rate at
which the same sandbox accepts messages sent straight to it, measured in the same run; prints the ratio.

A second reference is measured in the same run: a bare relay (bench/_relay_app.py), a Starlette
endpoint that forwards each message to the sandbox with the service's own provider HTTP client, with
no validation, database or worker: the least work any pipeline in Python must do per message.

Usage: python -m bench.delivery [--seconds 10] [--connections 32] [--rounds 1] [--database-url URL]
       [--separate-worker] [--serve-workers N] [--worker-process auto|separate|shared]
Budget (issue 4): at least 70% of the sandbox's raw rate and at least 500 notifications/s on SQLite.
With --rounds N the bare relay and the pipeline are measured N times, alternating (the pipeline on
the same server each round), and the medians are compared: this machine is shared and noisy.
Load comes from wrk (apt-get install wrk), the same way for every measurement; every run is bounded
by --seconds plus a drain timeout, and everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench._servers import (
    ROOT,
    free_port,
    messaging_sender,
    python,
    serve_bootstrapped,
    service_env,
    start,
    stop,
    wrk_run,
)

# How often the drain is checked. Each check is a request the sandbox answers on the cores being
# measured, so it is cheap (one kept connection) and not too frequent; 20 ms is 0.1% of a 20 s drain.
DRAIN_POLL_SECONDS = 0.02


def wait_count(sandbox: str, expected: int, timeout: float) -> float:
    """When the sandbox has received ``expected`` messages. One client for the whole wait: a new
    httpx client per check (``httpx.get``) builds an SSL context each time, and that took 40% of a
    core from the pipeline it measures while the worker drained."""
    deadline = time.perf_counter() + timeout
    with httpx.Client(base_url=sandbox) as client:
        while time.perf_counter() < deadline:
            if client.get("/_admin/inbox/count").json()["total"] >= expected:
                return time.perf_counter()
            time.sleep(DRAIN_POLL_SECONDS)
    raise RuntimeError(f"the sandbox did not receive {expected} messages in {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration of each measurement")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (requests in flight)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--rounds", type=int, default=1, help="alternating relay and pipeline measurements")
    parser.add_argument("--worker-concurrency", type=int, default=64, help="PHONE_DELIVERY_WORKER_CONCURRENCY")
    parser.add_argument(
        "--separate-worker",
        action="store_true",
        help="run the worker as its own process (phone-delivery worker) instead of inside serve",
    )
    parser.add_argument(
        "--serve-workers",
        type=int,
        default=1,
        help="serve --workers N: N API processes, each with its own delivery worker unless --separate-worker",
    )
    parser.add_argument(
        "--worker-process",
        choices=("auto", "separate", "shared"),
        default="auto",
        help="PHONE_DELIVERY_WORKER_PROCESS: where serve (one API process) runs its worker",
    )
    parser.add_argument("--smoke", action="store_true", help="a second per measurement, two rounds (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds = 1, 2
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.serve_workers < 1:
        parser.error("--serve-workers must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="pd-bench-delivery-"))
    sandbox_port, service_port, relay_port = free_port(), free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    api = f"http://127.0.0.1:{service_port}"
    env = {
        **service_env(work, sandbox),
        "PHONE_DELIVERY_WORKER_CONCURRENCY": str(args.worker_concurrency),
        "PHONE_DELIVERY_WORKER_PROCESS": args.worker_process,
    }
    if args.database_url:
        env["PHONE_DELIVERY_DATABASE_URL"] = args.database_url
    processes = []
    try:
        processes.append(
            start(python("-m", "phone_delivery", "sandbox", "--port", str(sandbox_port)), ready_url=f"{sandbox}/")
        )
        account = httpx.post(f"{sandbox}/_admin/accounts", json={"messagingServices": ["bench"]}).json()
        service = account["messagingServices"][0]["sid"]
        raw_url = f"{sandbox}/twilio-api/2010-04-01/Accounts/{account['accountSid']}/Messages.json"
        basic = base64.b64encode(f"{account['accountSid']}:{account['authToken']}".encode()).decode()
        print(f"sandbox raw: {args.seconds}s of messages straight to Messages.json ...", flush=True)
        raw_rate, _ = wrk_run(
            raw_url,
            args.seconds,
            args.connections,
            {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            urlencode({"To": "+14155550100", "MessagingServiceSid": service, "Body": "raw"}),
        )

        def relay_round() -> float:
            relay = start(
                python(
                    str(ROOT / "bench" / "_relay_app.py"),
                    str(relay_port),
                    raw_url,
                    account["accountSid"],
                    account["authToken"],
                    service,
                ),
                ready_url=f"http://127.0.0.1:{relay_port}/",
            )
            try:
                print(
                    f"bare relay: {args.seconds}s of messages through a Starlette endpoint to the sandbox ...",
                    flush=True,
                )
                rate, _ = wrk_run(
                    f"http://127.0.0.1:{relay_port}/relay",
                    args.seconds,
                    args.connections,
                    {"Content-Type": "application/json"},
                    json.dumps({"to": "+14155550100", "message": "relayed"}),
                )
            finally:
                stop([relay])  # frees its core for the pipeline
            return rate

        relay_rates = [relay_round()]
        serve_env = {**env, "PHONE_DELIVERY_WORKER_ENABLED": "false"} if args.separate_worker else env
        server, api, headers, env_id, _ = serve_bootstrapped(
            env, service_port, serve_env, ("--workers", str(args.serve_workers))
        )
        processes.append(server)
        if args.separate_worker:
            processes.append(start(python("-m", "phone_delivery", "worker"), env=env))
        sender = messaging_sender(api, headers, env_id, account)
        httpx.put(
            f"{api}/v1/environments/{env_id}/notificationsSettings",
            headers=headers,
            json={"smsProvidersFallbackChain": [sender["id"]]},
        ).raise_for_status()
        body = json.dumps({"deliveryMethod": "SMS", "to": "+14155552671", "message": "Your code is 123456"})

        def pipeline_round() -> tuple[float, float, int, float]:
            already = httpx.get(f"{sandbox}/_admin/inbox/count").json()["total"]
            print(f"pipeline: {args.seconds}s of notifications through the API, the outbox, the worker ...", flush=True)
            started = time.perf_counter()
            accept_rate, accepted = wrk_run(
                f"{api}/v1/environments/{env_id}/notifications",
                args.seconds,
                args.connections,
                {**headers, "Content-Type": "application/json"},
                body,
            )
            finished = wait_count(sandbox, already + accepted, timeout=300)
            return accepted / (finished - started), accept_rate, accepted, finished - started - args.seconds

        rounds = [pipeline_round()]
        for _ in range(args.rounds - 1):
            relay_rates.append(relay_round())
            rounds.append(pipeline_round())
        for index, (relay_rate, (rate, accept_rate, accepted, drained)) in enumerate(
            zip(relay_rates, rounds, strict=True), 1
        ):
            print(
                f"round {index}: bare relay {relay_rate:,.0f}/s, pipeline {rate:,.0f}/s ({rate / relay_rate:.0%}), "
                f"{accepted} notifications, accepting alone {accept_rate:,.0f}/s, drained {drained:.1f}s after the load"
            )
        relay_rate = statistics.median(relay_rates)
        pipeline_rate = statistics.median(rate for rate, *_ in rounds)
        what = f"median of {args.rounds} rounds" if args.rounds > 1 else "one round"
        print(f"sandbox raw rate:   {raw_rate:,.0f} messages/s")
        print(f"bare relay rate:    {relay_rate:,.0f} messages/s ({relay_rate / raw_rate:.0%} of raw; {what})")
        print(f"pipeline rate:      {pipeline_rate:,.0f} notifications/s end to end ({what})")
        # with rounds, the ratio of the medians (the rounds' own ratios are printed above)
        print(
            f"ratio: {pipeline_rate / raw_rate:.0%} of the sandbox's raw rate (budget: at least 70%, and 500/s "
            f"on SQLite); {pipeline_rate / relay_rate:.0%} of the bare relay"
        )
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
