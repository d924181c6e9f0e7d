"""A real Chromium opens /docs: Swagger UI renders every operation of our OpenAPI description from
files the package ships, and no request leaves 127.0.0.1 (before: the page loaded Swagger UI from a
CDN and stayed blank without internet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import hosts, loopback_browser
from tests.conftest import Stack


def test_docs_work_offline(stack: Stack, tmp_path: Path) -> None:
    if stack.backend != "sqlite":
        pytest.skip("the page is the same on both databases: once is enough")
    operations = sum(len(item) for item in stack.api().get("/openapi.json").json()["paths"].values())
    requested: list[str] = []
    with loopback_browser(tmp_path / "profile", requested, viewport={"width": 1280, "height": 900}) as browser:
        page = browser.new_page()
        page.goto(f"{stack.url}/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
        title = page.inner_text(".swagger-ui .info .title")
        shown = page.locator(".swagger-ui .opblock").count()
    assert title.startswith("phone-delivery")
    assert shown == operations, (shown, operations)
    assert hosts(requested) == {"127.0.0.1"}, sorted(u for u in requested if "127.0.0.1" not in u)
    assert any(u.endswith("/docs/static/swagger-ui-bundle.js") for u in requested)
