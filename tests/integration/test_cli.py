"""The command line: --help everywhere, bootstrap, serve's refusal, and dev mode end to end."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from phone_delivery.worker.worker_process import cores_available

COMMANDS = [[], ["serve"], ["dev"], ["worker"], ["bootstrap"], ["migrate"], ["keys"], ["keys", "rotate"], ["sandbox"]]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "phone_delivery", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_bootstrap_once_and_serve_refuses_empty_database(tmp_path: Path) -> None:
    serve = run_cli("serve", "--data-dir", str(tmp_path), "--port", "1")
    assert serve.returncode == 1
    assert "phone-delivery bootstrap" in serve.stderr

    first = run_cli("bootstrap", "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    creds = json.loads(first.stdout)
    assert {"environmentId", "clientId", "clientSecret"} <= set(creds)
    assert "Next steps" in first.stderr and creds["tokenPath"] in first.stderr  # what to do with them
    assert creds["clientSecret"] not in first.stderr
    second = run_cli("bootstrap", "--data-dir", str(tmp_path))
    assert second.returncode == 1
    assert "already exists" in second.stderr
    assert creds["clientSecret"] not in second.stdout + second.stderr

    migrate = run_cli("migrate", "--data-dir", str(tmp_path))
    assert migrate.returncode == 0
    from phone_delivery.store.migrate import head_revision

    assert f"database at revision {head_revision()}" in migrate.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dev exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("dev mode did not become ready")


def test_dev_mode_walkthrough_with_curl(tmp_path: Path) -> None:
    """The README's walkthrough, run with curl and values from dev-credentials.json only."""
    port = free_port()
    data_dir = tmp_path / "dev"
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        creds = json.loads((data_dir / "dev-credentials.json").read_text())
        assert (data_dir / "dev-credentials.json").stat().st_mode & 0o077 == 0
        for key in ("apiBase", "authBase", "environmentId", "clientId", "clientSecret", "tokenUrl", "sandboxBase"):
            assert creds[key], key
        assert len(creds["twilio"]["messagingServices"]) == 3

        def curl(*args: str) -> str:
            result = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=30)
            assert result.returncode == 0, result.stderr
            return result.stdout

        token = json.loads(
            curl(
                "-u",
                f"{creds['clientId']}:{creds['clientSecret']}",
                "-d",
                "grant_type=client_credentials",
                creds["tokenUrl"],
            )
        )["access_token"]
        senders = (
            f"{creds['apiBase']}/v1/environments/{creds['environmentId']}/notificationsSettings/phoneDeliverySettings"
        )
        auth = ["-H", f"Authorization: Bearer {token}"]
        body = {
            "name": "Twilio Messaging Services sender",
            "sid": creds["twilio"]["accountSid"],
            "authToken": creds["twilio"]["authToken"],
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
        }
        created = json.loads(
            curl("-X", "POST", senders, *auth, "-H", "Content-Type: application/json", "-d", json.dumps(body))
        )
        assert len(created["messagingServices"]) == 3
        chosen = created["messagingServices"][0]["messagingServiceId"]
        update = {
            **created,
            "authToken": creds["twilio"]["authToken"],
            "messagingServices": [
                {**s, "selected": s["messagingServiceId"] == chosen} for s in created["messagingServices"]
            ],
        }
        replaced = json.loads(
            curl(
                "-X",
                "PUT",
                f"{senders}/{created['id']}",
                *auth,
                "-H",
                "Content-Type: application/json",
                "-d",
                json.dumps(update),
            )
        )
        assert [s["selected"] for s in replaced["messagingServices"]] == [True, False, False]
        listed = json.loads(curl(senders, *auth))
        assert listed["_embedded"]["phoneDeliverySettings"][0]["id"] == created["id"]
        assert "authToken" not in json.dumps(listed)
    finally:
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=30)
    printed = out
    assert creds["clientSecret"] in printed  # dev mode prints its own credentials once
    assert shlex.quote(creds["tokenUrl"]).strip("'") in printed

    # A second start reuses the credentials and re-seeds the sandbox: the sender still works.
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        again = json.loads((data_dir / "dev-credentials.json").read_text())
        assert again["clientSecret"] == creds["clientSecret"]
        response = httpx.put(f"{senders}/{created['id']}", json=update, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.mark.parametrize(
    ("command", "env", "words"),
    [
        (["serve"], {"PHONE_DELIVERY_SECRET_KEYS": "not-a-key"}, "keys that encrypt secrets"),
        (["serve"], {"PHONE_DELIVERY_DATABASE_URL": "postgresql+asyncpg://u:hunter2@127.0.0.1:1/x"}, "cannot use"),
        (["dev", "--port", "0"], {"PHONE_DELIVERY_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}, "postgresql+asyncpg"),
        (["worker"], {"PHONE_DELIVERY_SECRET_KEYS": "k1:tooshort"}, "32 bytes"),
        (["migrate"], {"PHONE_DELIVERY_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:1/x"}, "Connect call failed"),
        (["bootstrap"], {"PHONE_DELIVERY_DATABASE_URL": "sqlite+aiosqlite:////nonexistent/dir/x.db"}, "cannot use"),
    ],
)
def test_configuration_errors_are_one_clear_line(
    tmp_path: Path, command: list[str], env: dict[str, str], words: str
) -> None:
    result = run_cli(*command, "--data-dir", str(tmp_path / "data"), env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], result.stderr
    assert "hunter2" not in result.stderr


def test_a_key_file_of_another_deployment_is_a_clear_error(tmp_path: Path) -> None:
    assert run_cli("bootstrap", "--data-dir", str(tmp_path)).returncode == 0
    from phone_delivery.cli import _preflight
    from phone_delivery.settings import Settings

    asyncio.run(_preflight(Settings(data_dir=tmp_path)))  # what a first start does: keys, signing key
    (tmp_path / "secret-keys.json").unlink()  # the keys that encrypted this database are gone
    result = run_cli("serve", "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: the keys that encrypt secrets are unusable" in result.stderr


def test_dev_with_its_port_taken_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("dev", "--data-dir", str(tmp_path / "data"), "--port", str(port))
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert not (tmp_path / "data").exists()  # no credentials for a server that never started


def test_serve_prints_what_it_runs_with(tmp_path: Path) -> None:
    """The start-up summary: database (password hidden), key ids, provider hosts, public URL, whether
    PINGONE_TWILIO is configured; and never a secret."""
    assert run_cli("bootstrap", "--data-dir", str(tmp_path)).returncode == 0
    port = free_port()
    env = {
        "PHONE_DELIVERY_PLATFORM_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "PHONE_DELIVERY_PLATFORM_TWILIO_AUTH_TOKEN": "platform-token-never-printed",
        "PHONE_DELIVERY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "serve", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    summary = stderr.split("\n")
    assert any(line.startswith("  database        sqlite+aiosqlite:///") for line in summary), stderr
    assert any("(encrypts)" in line and "secret-keys.json" in line for line in summary), stderr
    assert any("api.twilio.com" in line and "verify.twilio.com" in line for line in summary), stderr
    assert f"  public URL      http://127.0.0.1:{port}" in summary
    assert "  PINGONE_TWILIO  configured" in summary
    # auto: in a process of its own where there is a second core (tests/integration/test_worker_process.py)
    where = "in a process of its own, started by this one" if cores_available() > 1 else "in this process"
    assert any(line.startswith(f"  worker          {where}") for line in summary), stderr
    assert "platform-token-never-printed" not in stderr  # nor in the worker process's log lines


def test_the_worker_runs_on_uvloop_and_stops_at_sigterm(tmp_path: Path) -> None:
    """`phone-delivery worker` gets the event loop `serve` gets from uvicorn (uvloop), not asyncio's
    pure-Python one (a separate worker spent a tenth of its time in it)."""
    assert run_cli("bootstrap", "--data-dir", str(tmp_path)).returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "worker", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PHONE_DELIVERY_LOG_FORMAT": "json"},
    )
    try:
        assert worker.stdout is not None
        started = None
        for line in worker.stdout:
            if '"worker_started"' in line:
                started = json.loads(line)
                break
        assert started is not None, "the worker never said it started"
        assert started["event_loop"].startswith("uvloop."), started
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
