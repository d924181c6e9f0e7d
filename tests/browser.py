"""Debian's Chromium through Playwright, for the browser tests: never a downloaded browser, only
127.0.0.1 reached (everything else is recorded, then refused), a fresh profile each time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> Any:
    """Playwright's sync API, or skip (fail under CI=true) saying what is missing."""
    reason = None
    try:
        from playwright import sync_api
    except ImportError:
        reason = "Playwright is not installed (pip install -e '.[test]')"
    if reason is None and not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test but {reason}")
        pytest.skip(reason)
    return sync_api


@contextmanager
def loopback_browser(profile: Path, requested: list[str], **context: Any) -> Iterator[Any]:
    """A Chromium context; every URL it asks for lands in ``requested``, only loopback ones go out."""
    sync_api = require_chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS, service_workers="block", **context
        )
        try:
            browser.on("request", lambda request: requested.append(request.url))

            def only_loopback(route: Any) -> None:
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    route.abort()  # recorded above; never sent

            browser.route("**/*", only_loopback)
            yield browser
        finally:
            browser.close()


def hosts(requested: list[str]) -> set[str]:
    return {urlsplit(url).hostname or "" for url in requested}
