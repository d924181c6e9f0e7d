"""Benchmark: seconds from ``phone-delivery dev`` being spawned to answering /health/ready,
against a bare uvicorn + Starlette app spawned the same way in the same run; prints the ratio.

Usage: python -m bench.startup [--runs 5]
Budget: dev mode ready in under 2 seconds on this machine (issue 12; it was 3 before).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench._servers import ROOT, free_port, python


def time_to_ready(args: list[str], url: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 30
        while time.perf_counter() < deadline:
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.01)
        raise RuntimeError(f"{args} not ready after 30 s")
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="starts of each kind")
    args = parser.parse_args()
    body = Path(tempfile.mkdtemp(prefix="pd-startup-")) / "body.json"
    body.write_text("{}")
    bare, dev = [], []
    for run in range(args.runs):
        port = free_port()
        bare.append(
            time_to_ready(
                python(str(ROOT / "bench" / "_bare_app.py"), str(port), str(body)),
                f"http://127.0.0.1:{port}/v1/environments/e/notificationsSettings/phoneDeliverySettings/s",
            )
        )
        port = free_port()
        data_dir = tempfile.mkdtemp(prefix="pd-startup-dev-")
        dev.append(
            time_to_ready(
                python("-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", data_dir),
                f"http://127.0.0.1:{port}/health/ready",
            )
        )
        print(f"run {run + 1}: bare {bare[-1]:.2f}s, dev (fresh data dir) {dev[-1]:.2f}s", flush=True)
    b, d = statistics.median(bare), statistics.median(dev)
    print(
        f"median: bare uvicorn+Starlette {b:.2f}s, phone-delivery dev {d:.2f}s; ratio {d / b:.2f}x (budget: dev < 2 s)"
    )


if __name__ == "__main__":
    main()
