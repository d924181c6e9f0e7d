"""Dev mode in a terminal: readable log lines when stderr is a terminal (JSON into a pipe), the
sandbox's own traffic kept out of the access log unless asked for, the banner's last lines."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_cli import free_port, wait_ready

TO = "+14155550142"


@dataclass
class Dev:
    url: str
    creds: dict[str, Any]
    output: list[bytes]
    read: Any  # () -> None: drain what the process wrote so far into ``output``

    def text(self) -> str:
        self.read()
        return b"".join(self.output).decode(errors="replace")


@contextmanager
def dev(tmp_path: Path, *, terminal: bool, **env: str) -> Iterator[Dev]:
    """``phone-delivery dev`` with stdout and stderr on a pseudo-terminal, or on one pipe."""
    port = free_port()
    data_dir = tmp_path / "dev"
    if terminal:
        parent, child = os.openpty()
        out: Any = child
    else:
        parent, child = os.pipe()
        out = child
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=out,
        stderr=out,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "PHONE_DELIVERY_LOG_FORMAT"},
    )
    os.close(child)
    output: list[bytes] = []

    def read() -> None:
        while select.select([parent], [], [], 0.05)[0]:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # the terminal's other end is gone
                return
            if not chunk:
                return
            output.append(chunk)

    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            read()
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        wait_ready(url, process)
        creds = json.loads((data_dir / "dev-credentials.json").read_text())
        yield Dev(url, creds, output, read)
    finally:
        process.terminate()
        process.wait(timeout=20)
        read()
        os.close(parent)


def send_one(box: Dev) -> None:
    c = box.creds
    token = httpx.post(
        c["tokenUrl"], data={"grant_type": "client_credentials"}, auth=(c["clientId"], c["clientSecret"])
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{c['apiPath']}/environments/{c['environmentId']}/notifications"
    sent = httpx.post(path, json={"deliveryMethod": "SMS", "to": TO, "message": "hi"}, headers=headers)
    assert sent.status_code == 202, sent.text
    deadline = time.monotonic() + 15
    while httpx.get(f"{path}/{sent.json()['id']}", headers=headers).json()["status"] != "DELIVERED":
        assert time.monotonic() < deadline, "not delivered"
        time.sleep(0.05)
    box.read()


def access_paths(lines: list[dict[str, Any]]) -> list[str]:
    return [str(line["path"]) for line in lines if line.get("event") == "http_request"]


def json_lines(text: str) -> list[dict[str, Any]]:
    """The log lines (the banner's credentials are indented JSON, not log lines)."""
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "event" in parsed:
            lines.append(parsed)
    return lines


def test_a_terminal_gets_readable_lines_and_the_banner_ends_with_what_to_do_next(tmp_path: Path) -> None:
    with dev(tmp_path, terminal=True) as box:
        send_one(box)
        text = box.text()
        banner = text[: text.index("ready in")].strip().splitlines()
        assert banner[-3].strip() == f"Console: {box.url}/console"
        assert banner[-1].strip() == f"Sandbox inbox: {box.url}/sandbox/inbox"
        # The send command works as printed, from another folder, and the message reaches the inbox.
        command = banner[-2].strip().removeprefix("Send a test SMS: ")
        assert command != banner[-2].strip()
        done = subprocess.run(  # noqa: S602 - the printed line, run by a shell as a user would
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        inbox = httpx.get(f"{box.url}/sandbox/_admin/inbox", params={"to": "+14155552671"}).json()["messages"]
        assert [m["body"] for m in inbox] == ["Your code is 123456"]
    logs = text[text.index("ready in") :]
    assert "http_request" in logs  # the access log is there ...
    assert '{"' not in logs  # ... as readable lines, not JSON objects
    request_lines = [line for line in logs.splitlines() if "http_request" in line]
    assert any("/notifications" in line and "202" in line for line in request_lines), request_lines
    assert not [line for line in request_lines if "/sandbox/" in line], request_lines  # quiet sandbox


def test_a_pipe_gets_json_and_sandbox_traffic_only_when_asked(tmp_path: Path) -> None:
    with dev(tmp_path / "quiet", terminal=False) as box:
        send_one(box)
        quiet = json_lines(box.text())
    paths = access_paths(quiet)
    assert any(p.endswith("/notifications") for p in paths), paths
    assert not [p for p in paths if p.startswith("/sandbox/")], paths
    with dev(tmp_path / "loud", terminal=False, PHONE_DELIVERY_LOG_SANDBOX_TRAFFIC="true") as box:
        send_one(box)
        loud = access_paths(json_lines(box.text()))
    assert [p for p in loud if p.startswith("/sandbox/twilio")], loud  # the worker's call to the sandbox


def test_a_bad_log_setting_is_one_clear_line(tmp_path: Path) -> None:
    for name, value, words in [
        (
            "PHONE_DELIVERY_LOG_FORMAT",
            "pretty\r\n",
            "PHONE_DELIVERY_LOG_FORMAT: log_format must be auto, json or console",
        ),
        ("PHONE_DELIVERY_LOG_SANDBOX_TRAFFIC", "sometimes", "PHONE_DELIVERY_LOG_SANDBOX_TRAFFIC: "),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "phone_delivery", "dev", "--port", "0", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, name: value},
        )
        assert result.returncode == 2, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and words in errors[0], result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "dev-credentials.json").exists()  # refused before anything is written
