"""Benchmark: requests/s of a sender read (GET .../phoneDeliverySettings/{id}) against a bare
Starlette endpoint returning the same JSON, measured in the same run; prints the ratio.

Usage: python -m bench.sender_read [--seconds 10] [--connections 32] [--database-url URL]
Needs wrk (apt-get install wrk). Everything listens on 127.0.0.1; every run stops by itself.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import httpx

from bench._servers import ROOT, bootstrap_and_serve, free_port, messaging_sender, python, service_env, start, stop, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration of each measurement")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    sandbox_port, service_port, bare_port = free_port(), free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = service_env(work, sandbox_url)
    if args.database_url:
        env["PHONE_DELIVERY_DATABASE_URL"] = args.database_url
    processes = []
    try:
        print("starting the sandbox and the service ...", flush=True)
        processes.append(
            start(python("-m", "phone_delivery", "sandbox", "--port", str(sandbox_port)), ready_url=f"{sandbox_url}/")
        )
        account = httpx.post(f"{sandbox_url}/_admin/accounts", json={"messagingServices": ["a", "b", "c"]}).json()
        server, api, headers, env_id = bootstrap_and_serve(env, service_port)
        processes.append(server)
        path = f"/v1/environments/{env_id}/notificationsSettings/phoneDeliverySettings"
        sender = messaging_sender(api, headers, env_id, account)
        body = httpx.get(f"{api}{path}/{sender['id']}", headers=headers).content
        (work / "body.json").write_bytes(body)
        processes.append(
            start(
                python(str(ROOT / "bench" / "_bare_app.py"), str(bare_port), str(work / "body.json")),
                ready_url=f"http://127.0.0.1:{bare_port}{path}/{sender['id']}",
            )
        )

        bare_url = f"http://127.0.0.1:{bare_port}{path}/{sender['id']}"
        ours_url = f"{api}{path}/{sender['id']}"
        print("warming up ...", flush=True)
        wrk(bare_url, 2, args.connections, headers)
        wrk(ours_url, 2, args.connections, headers)
        print(f"measuring {args.seconds}s each (bare, ours, bare, ours) ...", flush=True)
        bare, ours = [], []
        for _ in range(2):
            bare.append(wrk(bare_url, args.seconds, args.connections, headers))
            ours.append(wrk(ours_url, args.seconds, args.connections, headers))
        bare_rps, ours_rps = max(bare), max(ours)
        print(f"bare Starlette: {bare_rps:,.0f} req/s   (runs: {', '.join(f'{x:,.0f}' for x in bare)})")
        print(f"sender read:    {ours_rps:,.0f} req/s   (runs: {', '.join(f'{x:,.0f}' for x in ours)})")
        print(f"ratio: {ours_rps / bare_rps:.1%} of bare Starlette (budget: at least 25%)")
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
