"""A real Chromium drives the inbox page: a message sent through the sandbox's Twilio Messages API
appears without a reload and without moving what the reader looks at, the search finds it, one
message opens by keyboard, Clear empties the inbox, markup in a body stays text, the page works in a
narrow window, and every request the page made went to 127.0.0.1.

Debian's ``chromium`` (/usr/bin/chromium) through Playwright, never a downloaded browser. Without it
the test is skipped outside CI and fails under CI=true (``.ci/run`` installs it). With
``PHONE_DELIVERY_UPDATE_SCREENSHOTS=1`` it also writes docs/images/sandbox-inbox.png.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from phone_delivery.sandbox.state import SandboxState
from tests.browser import loopback_browser
from tests.inbox_support import ServedSandbox, call, served, sms, unique_number, verification

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "sandbox-inbox.png"


@pytest.fixture
def box() -> Iterator[ServedSandbox]:
    state = SandboxState()
    with served(state) as sandbox:
        yield sandbox


def seed(box: ServedSandbox) -> dict[str, Any]:
    """An account to send through, and an inbox with one of each kind (and enough rows to scroll)."""
    account = box.http.post(
        "/_admin/accounts",
        json={"messagingServices": ["Sandbox OTP service"], "numbers": [{"phoneNumber": "+15005550006"}]},
    ).json()
    box.state.deliver(sms("+14155550166", '<script>window.owned = true</script><img src=x onerror="window.owned=1">'))
    for i in range(40):
        box.state.deliver(sms(unique_number(), f"Older message {i}: your code is {100000 + i}"))
    box.state.deliver(call("+14155550142", "<Response><Say>Your Acme code is 7 3 1 9</Say></Response>"))
    box.http.post(
        "/gateway/sms",
        json={"to": "+14155550177", "from": "ACME", "text": "Acme: 553311 is your code"},
        headers={"Authorization": "Bearer gateway-secret-token", "X-Api-Key": "k-123"},
    )
    box.state.deliver(verification("+14155550188", "482913", channel="sms"))
    return dict(account)


def test_the_inbox_page_in_chromium(box: ServedSandbox, tmp_path: Path) -> None:
    account = seed(box)
    requested: list[str] = []
    dialogs: list[str] = []

    with loopback_browser(tmp_path / "profile", requested, viewport={"width": 1280, "height": 800}) as context:
        page = context.new_page()

        def on_dialog(dialog: Any) -> None:
            dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.accept()

        page.on("dialog", on_dialog)
        page.goto(f"{box.url}/inbox")
        page.wait_for_selector("#live.on")
        page.evaluate("window.loadedOnce = 'still this page'")

        # Markup in a body is text; its script never ran.
        assert page.evaluate("window.owned") is None
        assert "<script>window.owned = true</script>" in page.inner_text("#messages")

        # Scroll the list, then a new message arrives at the top: what was in view stays put.
        pane = page.locator(".list-pane")
        pane.evaluate("el => { el.scrollTop = 600 }")
        anchor = page.evaluate(
            """() => { const pane = document.querySelector('.list-pane');
            const top = pane.getBoundingClientRect().top;
            const rows = [...document.querySelectorAll('#messages > li')];
            const li = rows.find(r => r.getBoundingClientRect().bottom > top);
            return {id: li.id, top: li.getBoundingClientRect().top}; }"""
        )
        to = unique_number()
        sent = httpx.post(
            f"{box.url}/twilio-api/2010-04-01/Accounts/{account['accountSid']}/Messages.json",
            data={
                "To": to,
                "MessagingServiceSid": account["messagingServices"][0]["sid"],
                "Body": "Your Acme login code is 906142",
            },
            auth=(account["accountSid"], account["authToken"]),
        )
        assert sent.status_code == 201, sent.text
        row = page.locator("#messages > li", has_text=to)
        row.wait_for(timeout=10_000)
        assert page.evaluate("window.loadedOnce") == "still this page"  # no reload
        assert page.locator("#messages > li").first.inner_text().count(to) == 1  # newest first
        moved = page.evaluate(f"document.getElementById('{anchor['id']}').getBoundingClientRect().top")
        assert abs(moved - anchor["top"]) <= 2, (anchor, moved)
        assert "Sandbox OTP service" in row.inner_text()
        page.wait_for_function(
            "() => document.querySelector('#announce').textContent.startsWith('New SMS to')", timeout=5_000
        )

        # Search finds it, by recipient as typed and by text; kind narrows.
        pane.evaluate("el => { el.scrollTop = 0 }")
        page.get_by_label("Search").fill(to[-7:])
        page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 1")
        assert "906142" in page.inner_text("#messages")
        page.get_by_label("Search").fill("acme")
        page.get_by_label("Kind").select_option("VERIFICATION")
        page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 0")
        page.get_by_label("Search").fill("")
        page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 1")
        assert "482913" in page.inner_text("#messages") and "sms" in page.inner_text("#messages")
        assert "kind=VERIFICATION" in page.url
        page.get_by_label("Kind").select_option("")
        page.wait_for_function("() => document.querySelectorAll('#messages > li').length > 40")

        # One message in full, by keyboard: / to search, Escape, j to the first row, Enter.
        page.locator("body").press("/")
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.press("Escape")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail:not([hidden]) h2")
        assert page.evaluate("document.activeElement.id") == "detail-title"
        detail = page.inner_text("#detail")
        assert "Your Acme login code is 906142" in detail and "Status timeline" in detail
        assert "Sandbox OTP service" in detail
        page.wait_for_function(
            "() => document.querySelector('#detail .timeline').children.length >= 3", timeout=10_000
        )  # the timeline follows the message's statuses live
        assert "/inbox/" in page.url

        # The gateway request in full: To/From read from its JSON, secrets masked.
        page.locator("#messages > li", has_text="+14155550177").locator("a").click()
        page.wait_for_function("() => document.querySelector('#detail').innerText.includes('ACME')")
        detail = page.inner_text("#detail")
        assert "gateway-secret-token" not in detail and "k-123" not in detail and "Bearer ••••••" in detail
        page.locator("#messages > li", has_text="+14155550188").locator("a").click()
        page.wait_for_function("() => document.querySelector('#detail').innerText.includes('482913')")
        page.screenshot(path=str(tmp_path / "sandbox-inbox.png"))
        if os.environ.get("PHONE_DELIVERY_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp_path / "sandbox-inbox.png", SCREENSHOT)

        # A narrow window: one column, nothing wider than the window, the message below the list.
        page.set_viewport_size({"width": 380, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert page.evaluate("getComputedStyle(document.querySelector('.panes')).display") == "block"

        # Clear: asks first, then the page and the JSON are empty.
        page.set_viewport_size({"width": 1280, "height": 800})
        page.get_by_role("button", name="Clear inbox").click()
        page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 0")
        assert dialogs == ["confirm: Delete every message in the inbox?"]  # and no alert from a body
        assert box.http.get("/_admin/inbox").json()["messages"] == []
        assert page.is_visible("#empty")
        box.state.deliver(sms(to, "after the clear"))
        page.locator("#messages > li", has_text="after the clear").wait_for(timeout=10_000)

    assert requested, "the page made no requests"
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, sorted(url for url in requested if urlsplit(url).hostname != "127.0.0.1")
    assert any("/inbox/events" in url for url in requested)
