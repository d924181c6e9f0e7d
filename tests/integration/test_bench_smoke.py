"""The on-demand benchmarks still run: a smoke run of each (a second per measurement, one round),
so that they cannot rot. Their numbers mean nothing here; docs/benchmarks.md has the real runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _smoke(module: str, *arguments: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
    result = subprocess.run(
        [sys.executable, "-m", module, "--smoke", *arguments],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _require_wrk() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is missing: .ci/run installs it")
        pytest.skip("wrk is not installed (apt-get install wrk)")


def test_bench_api_smoke_run() -> None:
    _require_wrk()
    stdout = _smoke("bench.api")
    for name in ("get one sender", "list 10 senders", "list notifications", "token", "send accept"):
        line = next((line for line in stdout.splitlines() if line.startswith(name)), None)
        assert line is not None and "of bare" in line, stdout


def test_bench_growth_smoke_run() -> None:
    _require_wrk()
    stdout = _smoke("bench.growth")
    assert "loaded 2,000 of 2,000 notifications" in stdout and "loaded 10 environments and 100 senders" in stdout
    for name in ("empty database:", "grown database:"):
        assert name in stdout, stdout
    for name in ("get one sender", "list 10 senders", "list notifications", "token", "send accept"):
        line = next((line for line in stdout.splitlines() if line.startswith(name)), None)
        assert line is not None and "of the empty rate" in line, stdout


def test_bench_api_with_two_processes_smoke_run() -> None:
    _require_wrk()
    stdout = _smoke("bench.api", "--workers", "2", "--only", "get one")
    assert "2 API process(es)" in stdout and "of bare" in stdout, stdout
    assert stdout.count("resident memory after the load") == 2, stdout  # one line per API process


def test_bench_delivery_smoke_run() -> None:
    _require_wrk()
    stdout = _smoke("bench.delivery")
    assert "round 1:" in stdout and "round 2:" in stdout, stdout
    assert "pipeline rate:" in stdout and "of the bare relay" in stdout and "median of 2 rounds" in stdout, stdout
