"""The examples of docs/sandbox.md run as written: the Twilio SDK snippet and the scripted numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import SandboxAdmin

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end > 0 else None]


def test_the_sdk_snippet_runs_as_written(sandbox: SandboxAdmin, tmp_path: Path) -> None:
    [code] = re.findall(r"```python\n(.*?)```", section("## Your own application's Twilio SDK"), re.S)
    account = sandbox.account(services=1)
    (tmp_path / ".phone-delivery").mkdir()
    credentials = {"sandboxBase": sandbox.base, "twilio": account}
    (tmp_path / ".phone-delivery" / "dev-credentials.json").write_text(json.dumps(credentials))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**os.environ}
    )
    assert result.returncode == 0, result.stderr
    sid, status = result.stdout.split()
    assert sid.startswith("SM") and status in ("accepted", "queued", "sending", "sent", "delivered")
    [delivered] = sandbox.http.get("/_admin/inbox", params={"to": "+14155550100"}).json()["messages"][
        :1
    ]  # newest first
    assert delivered["id"] == sid and delivered["body"] == "Your code is 123456"


def test_the_scripted_numbers_example_runs(sandbox: SandboxAdmin, tmp_path: Path) -> None:
    [block] = re.findall(r"```sh\n(.*?)```", section("### Delivery: statuses, callbacks and scripted numbers"), re.S)
    (tmp_path / ".phone-delivery").mkdir()
    (tmp_path / ".phone-delivery" / "dev-credentials.json").write_text(json.dumps({"sandboxBase": sandbox.base}))
    try:
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + block],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "SANDBOX"},
        )
        assert result.returncode == 0, result.stderr
        scripts = {s["phoneNumber"]: s for s in sandbox.http.get("/_admin/scripts").json()["scripts"]}
        assert scripts["+14155550177"]["delayMs"] == 2000 and scripts["+14155550178"]["refuse"] == 21610
        assert scripts["+14155550179"]["callOutcome"] == "busy"
    finally:
        sandbox.http.delete("/_admin/scripts")
