"""Bench helpers: run servers as separate processes on loopback, drive them with wrk."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str] | None = None, ready_url: str | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if ready_url:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    return process
            except httpx.HTTPError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError(f"{args} did not become ready")
    return process


def stop(processes: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    """Terminate every process, then wait for each."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=timeout)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str], body: str | None = None) -> float:
    """Requests per second measured by wrk (one thread); with ``body`` every request is that POST."""
    return wrk_run(url, seconds, connections, headers, body)[0]


def wrk_run(
    url: str, seconds: int, connections: int, headers: dict[str, str], body: str | None = None
) -> tuple[float, int]:
    """(requests per second, requests completed) measured by wrk."""
    measured = wrk_measure(url, seconds, connections, headers, body)
    return measured.rate, measured.requests


@dataclass(frozen=True)
class Measurement:
    rate: float  # requests per second
    requests: int
    p50_ms: float
    p99_ms: float


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(out: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    return float(found.group(1)) * _UNITS_MS[found.group(2)] if found else float("nan")


def wrk_measure(
    url: str, seconds: int, connections: int, headers: dict[str, str], body: str | None = None
) -> Measurement:
    """One wrk run (one thread, ``--latency``); with ``body`` every request is that POST. Fails on any
    non-2xx answer."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for this benchmark: apt-get install wrk")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    script = None
    if body is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n')
            script = handle.name
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    if script:
        os.unlink(script)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url} answered {non_2xx.group(1)} errors during the run:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not match or not total:
        raise RuntimeError(out)
    return Measurement(float(match.group(1)), int(total.group(1)), _latency(out, "50"), _latency(out, "99"))


ROOT = Path(__file__).resolve().parent.parent


def service_env(work: Path, sandbox: str) -> dict[str, str]:
    """The environment of a benchmarked service: its data folder, every Twilio call to the sandbox,
    warnings only in its log."""
    return {
        "PHONE_DELIVERY_DATA_DIR": str(work),
        "PHONE_DELIVERY_TWILIO_MESSAGING_BASE_URL": f"{sandbox}/twilio-messaging",
        "PHONE_DELIVERY_TWILIO_API_BASE_URL": f"{sandbox}/twilio-api",
        "PHONE_DELIVERY_LOG_LEVEL": "WARNING",
    }


def bootstrap_and_serve(
    env: dict[str, str], port: int, serve_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str, dict[str, str], str]:
    """Bootstrap a database, start `phone-delivery serve`, get a token, create an environment.

    Returns (process, api base, auth headers, environment id)."""
    process, api, headers, env_id, _ = serve_bootstrapped(env, port, serve_env)
    return process, api, headers, env_id


def serve_bootstrapped(
    env: dict[str, str], port: int, serve_env: dict[str, str] | None = None, serve_args: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], str, dict[str, str], str, dict[str, Any]]:
    """``bootstrap_and_serve``, and what `phone-delivery bootstrap` printed (the administrator's
    environmentId, clientId, clientSecret). ``serve_args`` go to `serve` (``--workers 2``)."""
    boot = json.loads(
        subprocess.run(
            python("-m", "phone_delivery", "bootstrap"),
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    api = f"http://127.0.0.1:{port}"
    process = start(
        python("-m", "phone_delivery", "serve", "--port", str(port), *serve_args),
        env=serve_env or env,
        ready_url=f"{api}/health/live",
    )
    token = httpx.post(
        f"{api}/{boot['environmentId']}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(boot["clientId"], boot["clientSecret"]),
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    env_id = httpx.post(f"{api}/v1/environments", json={"name": "bench"}, headers=headers).json()["id"]
    return process, api, headers, str(env_id), boot


def messaging_sender(api: str, headers: dict[str, str], env_id: str, account: dict[str, Any]) -> dict[str, Any]:
    """A CUSTOM_TWILIO_MESSAGING_SERVICE sender of the sandbox account, its first service selected."""
    senders = f"{api}/v1/environments/{env_id}/notificationsSettings/phoneDeliverySettings"
    sender = httpx.post(
        senders,
        headers=headers,
        json={
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            "name": "bench",
            "sid": account["accountSid"],
            "authToken": account["authToken"],
        },
    ).json()
    sender["messagingServices"][0]["selected"] = True
    response = httpx.put(
        f"{senders}/{sender['id']}", headers=headers, json={**sender, "authToken": account["authToken"]}
    )
    response.raise_for_status()
    return dict(response.json())
