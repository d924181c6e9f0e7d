"""``GET /`` links what an operator opens first (the console first), every link works, and dev mode
adds the inbox."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from phone_delivery.app import create_app
from phone_delivery.sandbox.state import SandboxState
from tests.conftest import Stack
from tests.support import SandboxAdmin, serving, sqlite_settings


def links(base: str) -> list[str]:
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http" not in page.text.split("<body>")[1]  # nothing outside this host
    return re.findall(r'href="([^"]+)"', page.text)


def test_the_landing_page_links_work(stack: Stack) -> None:
    found = links(stack.url)
    assert found == ["/console/", "/docs", "/openapi.json", "/health/ready", "/metrics"]
    assert all(httpx.get(stack.url + link).status_code == 200 for link in found)


def test_dev_mode_links_the_inbox(sandbox: SandboxAdmin, tmp_path: Path) -> None:
    with serving(create_app(sqlite_settings(tmp_path, sandbox), SandboxState())) as server:
        found = links(server.url)
        assert found[-1] == "/sandbox/inbox"
        inbox = httpx.get(server.url + found[-1])
        assert inbox.status_code == 200 and "Sandbox inbox" in inbox.text
