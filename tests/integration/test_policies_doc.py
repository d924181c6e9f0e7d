"""The walkthrough of docs/policies.md runs as written against `phone-delivery dev`, and does what it
says: Germany through its sender, the United States through the other, Great Britain refused before
anything is queued, alice's sixth SMS of the day refused with 429 and Retry-After, and the usage read
saying she used five."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_cli import free_port, wait_ready

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def _final(base: str, env: str, token: str, notification_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(
            f"{base}/v1/environments/{env}/notifications/{notification_id}",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        if body["status"] == "DELIVERED":
            return body
        time.sleep(0.05)
    raise AssertionError(body)


def test_the_policies_walkthrough_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 5
    port = free_port()
    data = tmp_path / "dev"
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process)
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + "\n".join(blocks)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "C": str(data / "dev-credentials.json")},
        )
        assert result.returncode == 0, result.stderr + result.stdout
        assert re.findall(r"^(\d{3})$", result.stdout, re.M) == ["400", "429"]  # the two curl -w lines
        creds = json.loads((data / "dev-credentials.json").read_text())
        token = httpx.post(
            creds["tokenUrl"],
            data={"grant_type": "client_credentials"},
            auth=(creds["clientId"], creds["clientSecret"]),
        ).json()["access_token"]
        env = creds["environmentId"]
        germany = json.loads((tmp_path / "germany.json").read_text())["id"]
        rest = json.loads((tmp_path / "rest.json").read_text())["id"]
        de = _final(base, env, token, json.loads((tmp_path / "de.json").read_text())["id"])
        us = _final(base, env, token, json.loads((tmp_path / "us.json").read_text())["id"])
        assert de["sender"]["id"] == germany and de["sender"]["provider"] == "CUSTOM_TWILIO_MESSAGING_SERVICE"
        assert us["sender"]["id"] == rest and us["sender"]["provider"] == "CUSTOM_TWILIO"
        gb = json.loads((tmp_path / "gb.json").read_text())
        assert gb["code"] == "INVALID_DATA" and gb["details"][0]["target"] == "to"
        assert gb["details"][0]["message"] == (
            "The notification policy 'Three countries' does not allow SMS to United Kingdom (GB): "
            "its countryLimit allows only DE, FR, US."
        )
        quota = json.loads((tmp_path / "quota.json").read_text())
        assert quota["code"] == "REQUEST_LIMITED"
        assert quota["details"][0]["innerError"]["quotaLimit"] == 5
        headers = (tmp_path / "quota-headers.txt").read_text().lower()
        assert f"retry-after: {quota['details'][0]['innerError']['retryAfter']}" in headers
        listed = httpx.get(
            f"{base}/v1/environments/{env}/notifications",
            params={"to": "+447400123456"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert listed["_embedded"]["notifications"] == []  # the refused send was never queued
        policy = json.loads((tmp_path / "policy.json").read_text())
        assert policy["default"] is True
        usage = json.loads((tmp_path / "usage.json").read_text())
        [used] = usage["quotas"]
        assert used["subject"] == {"user": {"id": "alice"}, "used": 5, "remaining": 0}  # the sixth took nothing
        assert (used["used"], used["subjects"], used["subjectsAtLimit"]) == (5, 1, 1)
        assert "{'user': {'id': 'alice'}, 'used': 5, 'remaining': 0}" in result.stdout
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
