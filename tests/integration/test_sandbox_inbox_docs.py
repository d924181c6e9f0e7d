"""The inbox examples of docs/sandbox.md run as written against `phone-delivery dev`: the pytest test
and the curl script each send an OTP through phone-delivery and read back the code that was sent."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli import free_port, wait_ready

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"


def inbox_section() -> str:
    text = DOC.read_text()
    start = text.index("## The inbox\n")
    return text[start : text.index("\n## ", start + 1)]


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`phone-delivery dev` with its data directory where the examples look: ./.phone-delivery."""
    work = tmp_path_factory.mktemp("inbox-docs")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", ".phone-delivery"],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield work
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_the_pytest_example_runs(dev: Path) -> None:
    [code] = re.findall(r"```python\n(.*?)```", inbox_section(), re.S)
    (dev / "test_inbox_example.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inbox_example.py"],
        cwd=dev,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_curl_example_runs(dev: Path) -> None:
    [script] = re.findall(r"```sh\n(.*?)```", inbox_section(), re.S)
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script], cwd=dev, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("got the code: 735102")
