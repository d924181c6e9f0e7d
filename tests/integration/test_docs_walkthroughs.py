"""The walkthroughs in docs/providers.md run as written against `phone-delivery dev`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.test_cli import free_port, wait_ready

DOC = Path(__file__).resolve().parents[2] / "docs" / "providers.md"


def test_every_provider_walkthrough_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 7  # setup + six providers
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", str(tmp_path / "dev")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        script = "set -euo pipefail\n" + "\n".join(blocks)
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "C": str(tmp_path / "dev" / "dev-credentials.json")},
        )
        assert result.returncode == 0, result.stderr + result.stdout
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    twilio = json.loads((tmp_path / "twilio-put.json").read_text())
    assert [n["selected"] for n in twilio["numbers"]] == [True, False, True, False]
    custom = json.loads((tmp_path / "custom.json").read_text())
    assert custom["authentication"]["method"] == "OAUTH2"
    assert custom["requests"][1]["body"] == '{"to": "${to}", "say": "${message}"}'
    assert "authToken" not in (tmp_path / "channels.json").read_text()
