"""The sandbox as the command line runs it: dev mode's inbox lives in the data directory and comes
back after a restart; a reset keeps the seeded account; ``phone-delivery sandbox`` keeps its inbox
only with ``--data-dir``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from phone_delivery.sandbox.dev_state import INBOX_FILE, DevSandboxState
from phone_delivery.sandbox.inbox_store import InboxStore
from phone_delivery.sandbox.state import SandboxState
from tests.inbox_support import served, sms, unique_number
from tests.integration.test_cli import free_port, wait_ready


def test_entries_survive_a_new_state_and_app_on_the_same_directory(tmp_path: Path) -> None:
    to = unique_number()
    first = DevSandboxState(inbox=InboxStore(tmp_path / INBOX_FILE))
    with served(first) as box:
        box.state.deliver(sms(to, "Code 777777", id="SMrestart"))
        box.state.inbox.update("SMrestart", status="delivered")
        before = box.http.get("/_admin/inbox", params={"to": to}).json()["messages"]
    first.inbox.close()
    with served(DevSandboxState(inbox=InboxStore(tmp_path / INBOX_FILE))) as box:
        after = box.http.get("/_admin/inbox", params={"to": to}).json()["messages"]
        assert after == before
        assert [s["status"] for s in after[0]["timeline"]] == ["queued", "delivered"]
        assert box.http.get("/_admin/inbox/latest", params={"to": to}).json()["code"] == "777777"
        assert "Code 777777" in box.http.get("/inbox").text
        box.state.deliver(sms(to, "after the restart"))
        assert box.http.get("/_admin/inbox/latest", params={"to": to}).json()["seq"] > after[0]["seq"]


def test_reset_keeps_the_seeded_account_working() -> None:
    sid, token = "AC" + "a" * 32, "b" * 32

    def seed(state: SandboxState) -> None:
        account = state.add_account(sid, token, "Dev sandbox account")
        state.add_messaging_service(account.sid, "Seeded service")

    with served(DevSandboxState(seed=seed)) as box:
        box.state.deliver(sms(unique_number(), "before reset"))
        box.state.add_account(friendly_name="made by a test")
        assert box.http.post("/_admin/reset").status_code == 204
        services = httpx.get(f"{box.url}/twilio-messaging/v1/Services", auth=(sid, token))
        assert services.status_code == 200, services.text
        assert [s["friendly_name"] for s in services.json()["services"]] == ["Seeded service"]
        assert list(box.state.accounts) == [sid]  # what tests added is gone
        assert box.http.get("/_admin/inbox").json()["messages"] == []  # reset still empties the inbox


@contextmanager
def running(*args: str, ready: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(ready, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "did not start"
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)


def send_sms(sandbox: str, creds: dict[str, str], to: str, body: str) -> None:
    response = httpx.post(
        f"{sandbox}/twilio-api/2010-04-01/Accounts/{creds['accountSid']}/Messages.json",
        data={"To": to, "From": "+15005550006", "Body": body},
        auth=(creds["accountSid"], creds["authToken"]),
    )
    assert response.status_code == 201, response.text


def test_dev_mode_inbox_survives_restart_and_reset(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "dev"
    base = f"http://127.0.0.1:{port}"
    sandbox = f"{base}/sandbox"
    to = unique_number()
    with running("dev", "--port", str(port), "--data-dir", str(data), ready=f"{base}/health/ready") as process:
        wait_ready(base, process)
        creds = json.loads((data / "dev-credentials.json").read_text())["twilio"]
        send_sms(sandbox, creds, to, "cleared by the reset 111111")
        assert httpx.post(f"{sandbox}/_admin/reset").status_code == 204
        send_sms(sandbox, creds, to, "Your code is 222222")  # the dev account still works after reset
        assert httpx.get(f"{sandbox}/_admin/inbox/latest", params={"to": to}).json()["code"] == "222222"
    assert (data / INBOX_FILE).stat().st_mode & 0o777 == 0o600
    assert creds["authToken"] not in (data / INBOX_FILE).read_text()
    with running("dev", "--port", str(port), "--data-dir", str(data), ready=f"{base}/health/ready") as process:
        wait_ready(base, process)
        kept = httpx.get(f"{sandbox}/_admin/inbox", params={"to": to}).json()["messages"]
        assert [m["code"] for m in kept] == ["222222"]
        assert "Your code is 222222" in httpx.get(f"{sandbox}/inbox").text


def test_sandbox_command_keeps_its_inbox_only_with_a_data_dir(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    for args, kept in (((), False), (("--data-dir", str(tmp_path)), True)):
        to = unique_number()
        command = ("sandbox", "--port", str(port), *args)
        with running(*command, ready=f"{base}/"):
            assert httpx.post(f"{base}/gateway/sms", json={"to": to, "text": "Code 5150"}).status_code == 200
        with running(*command, ready=f"{base}/"):
            found = httpx.get(f"{base}/_admin/inbox", params={"to": to}).json()["messages"]
            assert [m["code"] for m in found] == (["5150"] if kept else [])


def test_sandbox_seed_survives_reset(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("sandbox", "--port", str(port), "--seed", ready=f"{base}/") as process:
        assert process.stdout is not None
        demo = json.loads("".join(process.stdout.readline() for _ in range(4)))
        assert httpx.post(f"{base}/_admin/reset").status_code == 204
        services = httpx.get(f"{base}/twilio-messaging/v1/Services", auth=(demo["accountSid"], demo["authToken"]))
        assert services.status_code == 200
        assert len(services.json()["services"]) == 3
