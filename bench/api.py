"""Benchmark: the API's endpoints against a bare Starlette app answering the same bytes.

`phone-delivery serve` (worker off: only the API runs) and `bench/_fixed_app.py` (every answer
captured from the service first: same status, type and body) are driven by the same wrk load
(`wrk -t1 -cN -dS --latency`), each endpoint alternating bare / ours for ``--rounds`` rounds; the
median round's requests/s, p50 and p99 are printed with the ratio ours/bare. Endpoints:

- get one sender          GET  .../phoneDeliverySettings/{id}
- list 10 senders         GET  .../phoneDeliverySettings
- list notifications      GET  .../notifications?limit=50
- token                   POST /{envID}/as/token (client_credentials, HTTP Basic)
- send accept             POST .../notifications (the outbox grows; the worker is off)

``--smoke`` is a run of a second per measurement and one round (CI runs it, so the benchmark cannot
rot; its numbers mean nothing). Everything listens on 127.0.0.1; every run stops by itself.

Usage: python -m bench.api [--seconds 10] [--rounds 3] [--connections 32] [--database-url URL] [--smoke]
                          [--workers N] [--only NAME] [--py-spy DIR]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench._servers import (
    ROOT,
    Measurement,
    free_port,
    messaging_sender,
    python,
    serve_bootstrapped,
    service_env,
    start,
    stop,
    wrk_measure,
)
from bench.policy_checks import postgres_database

SEND = {"deliveryMethod": "SMS", "to": "+14155552671", "message": "Your code is 123456"}


def endpoints(headers: dict[str, str], env_id: str, sender_id: str, boot: dict[str, Any]) -> list[dict[str, Any]]:
    """The measured requests; the token one as the administrator of ``boot`` (its environment)."""
    basic = base64.b64encode(f"{boot['clientId']}:{boot['clientSecret']}".encode()).decode()
    senders = f"/v1/environments/{env_id}/notificationsSettings/phoneDeliverySettings"
    json_headers = {**headers, "Content-Type": "application/json"}
    form = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    return [
        {"name": "get one sender", "path": f"{senders}/{sender_id}", "headers": headers},
        {"name": "list 10 senders", "path": senders, "headers": headers},
        {
            "name": "list notifications (limit=50)",
            "path": f"/v1/environments/{env_id}/notifications",
            "query": "?limit=50",
            "headers": headers,
        },
        {
            "name": "token (client_credentials)",
            "path": f"/{boot['environmentId']}/as/token",
            "headers": form,
            "body": "grant_type=client_credentials",
        },
        {
            "name": "send accept (worker off)",
            "path": f"/v1/environments/{env_id}/notifications",
            "headers": json_headers,
            "body": json.dumps(SEND),
        },
    ]


def capture(api: str, endpoint: dict[str, Any]) -> dict[str, Any]:
    """What phone-delivery answers to one request of the endpoint: the bare app's answer."""
    url = api + endpoint["path"] + endpoint.get("query", "")
    if "body" in endpoint:
        response = httpx.post(url, content=endpoint["body"], headers=endpoint["headers"])
    else:
        response = httpx.get(url, headers=endpoint["headers"])
    if response.status_code >= 300:
        raise RuntimeError(f"{endpoint['name']}: {response.status_code} {response.text}")
    return {
        "status": response.status_code,
        "type": response.headers.get("content-type", "application/json").split(";")[0],
        "body": base64.b64encode(response.content).decode(),
    }


def measure(args: argparse.Namespace, base: str, endpoint: dict[str, Any]) -> Measurement:
    url = base + endpoint["path"] + endpoint.get("query", "")
    return wrk_measure(url, args.seconds, args.connections, endpoint["headers"], endpoint.get("body"))


@contextmanager
def profiled(folder: Path | None, pid: int, name: str, seconds: int) -> Iterator[None]:
    """With a folder, py-spy records process ``pid`` while the block runs (``{name}-{n}.txt``)."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    stem = name.split(" (")[0].replace(" ", "-")
    out = folder / f"{stem}-{len(list(folder.glob(stem + '-*.txt')))}.txt"
    recorder = subprocess.Popen(
        ["py-spy", "record", "-p", str(pid), "-r", "200", "-f", "raw", "-d", str(seconds), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 30)
        print(f"  profile: {out}", flush=True)


def resident_megabytes(pid: int) -> dict[int, float]:
    """VmRSS of the service: of each API process under `serve --workers N` (the supervisor's
    children), else of ``pid`` itself."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    pids = [int(child) for child in children if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text()]
    out = {}
    for process in pids or [pid]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out[process] = int(line.split()[1]) / 1024
    return out


def median_run(runs: list[Measurement]) -> Measurement:
    """The run with the median rate (its latencies are that run's)."""
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def setup(api: str, headers: dict[str, str], env_id: str, account: dict[str, Any]) -> str:
    """Ten senders (the first selected in the chain) and 60 queued notifications; the first sender's id."""
    sender = messaging_sender(api, headers, env_id, account)
    senders = f"{api}/v1/environments/{env_id}/notificationsSettings/phoneDeliverySettings"
    for index in range(9):
        httpx.post(
            senders,
            headers=headers,
            json={
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
                "name": f"bench {index}",
                "sid": account["accountSid"],
                "authToken": account["authToken"],
            },
        ).raise_for_status()
    httpx.put(
        f"{api}/v1/environments/{env_id}/notificationsSettings",
        headers=headers,
        json={"smsProvidersFallbackChain": [sender["id"]]},
    ).raise_for_status()
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(60):
            client.post(f"{api}/v1/environments/{env_id}/notifications", json=SEND).raise_for_status()
    return str(sender["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each side, alternating")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (requests in flight)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file; for PostgreSQL a URL ending in a database name, created fresh "
        "and dropped after (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/pd_bench_api)",
    )
    parser.add_argument("--smoke", action="store_true", help="one round of one second: does it run at all")
    parser.add_argument(
        "--workers", type=int, default=1, help="`serve --workers N`: API processes (the bare app keeps one)"
    )
    parser.add_argument("--only", default=None, help="measure only the endpoints whose name contains this")
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record a py-spy profile (raw, collapsed stacks) of the service during each of its measurements into DIR",
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds = 1, 1

    work = Path(tempfile.mkdtemp(prefix="pd-bench-api-"))
    sandbox_port, service_port, bare_port = free_port(), free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    env = service_env(work, sandbox)
    if args.database_url:
        postgres_database(args.database_url, "drop")
        postgres_database(args.database_url, "create")
        env["PHONE_DELIVERY_DATABASE_URL"] = args.database_url
    processes = []
    try:
        print("starting the sandbox and the service ...", flush=True)
        processes.append(
            start(python("-m", "phone_delivery", "sandbox", "--port", str(sandbox_port)), ready_url=f"{sandbox}/")
        )
        account = httpx.post(f"{sandbox}/_admin/accounts", json={"messagingServices": ["bench"]}).json()
        boot_env = {**env, "PHONE_DELIVERY_WORKER_ENABLED": "false"}
        server, api, headers, env_id, boot = serve_bootstrapped(
            env, service_port, boot_env, ("--workers", str(args.workers))
        )
        processes.append(server)
        sender_id = setup(api, headers, env_id, account)
        table = endpoints(headers, env_id, sender_id, boot)
        answers = {f"{'POST' if 'body' in e else 'GET'} {e['path']}": capture(api, e) for e in table}
        (work / "answers.json").write_text(json.dumps(answers))
        bare = f"http://127.0.0.1:{bare_port}"
        processes.append(
            start(
                python(str(ROOT / "bench" / "_fixed_app.py"), str(bare_port), str(work / "answers.json")),
                ready_url=f"{bare}{table[0]['path']}",
            )
        )
        print(
            f"{args.rounds} round(s) of {args.seconds} s per side and endpoint, {args.connections} connections,"
            f" {args.workers} API process(es)",
            flush=True,
        )
        rows = []
        for endpoint in table:
            if args.only and args.only not in endpoint["name"]:
                continue
            ours: list[Measurement] = []
            theirs: list[Measurement] = []
            for _ in range(args.rounds):
                theirs.append(measure(args, bare, endpoint))
                with profiled(args.py_spy, server.pid, endpoint["name"], args.seconds):
                    ours.append(measure(args, api, endpoint))
            mine, base = median_run(ours), median_run(theirs)
            ratios = [o.rate / t.rate for o, t in zip(ours, theirs, strict=True)]
            rows.append((endpoint["name"], mine, base, statistics.median(ratios)))
            print(
                f"{endpoint['name']:31} {mine.rate:8,.0f}/s p50 {mine.p50_ms:6.1f} ms p99 {mine.p99_ms:6.1f} ms"
                f" | bare {base.rate:8,.0f}/s p50 {base.p50_ms:5.1f} ms | {statistics.median(ratios):6.1%} of bare",
                flush=True,
            )
        for pid, megabytes in resident_megabytes(server.pid).items():
            print(f"resident memory after the load: {megabytes:.0f} MB (process {pid})", flush=True)
    finally:
        stop(processes)
        if args.database_url:
            postgres_database(args.database_url, "drop")


if __name__ == "__main__":
    main()
