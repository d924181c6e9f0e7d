"""The inbox page over real HTTP: what it shows, that it escapes, one message in full, search, and
the server-sent events that make it live (the browser test drives it in Chromium)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from phone_delivery.sandbox.state import SandboxState
from tests.inbox_support import ServedSandbox, call, served, sms, unique_number, verification


@pytest.fixture(scope="module")
def box() -> Iterator[ServedSandbox]:
    with served(SandboxState()) as sandbox:
        yield sandbox


def page(box: ServedSandbox, path: str = "/inbox", **params: str) -> str:
    response = box.http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.text


def test_the_page_shows_what_each_kind_needs(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "Your code is 246810", messagingServiceSid="MG" + "2" * 32, **{"from": None}))
    box.state.inbox.update(box.state.inbox.snapshot()[-1]["id"], messagingServiceName="Sandbox OTP service")
    box.state.deliver(verification(to, "135790", channel="whatsapp"))
    box.state.deliver(call(to, "<Response><Say>Your code is 1 2 3</Say></Response>"))
    gateway = box.http.post("/gateway/sms", json={"phone": to, "sender": "GW Brand", "text": "via gateway"})
    assert gateway.status_code == 200
    box.http.post("/gateway/sms", content="no fields", headers={"Content-Type": "text/plain"})
    html = page(box)
    assert "Sandbox OTP service" in html
    assert "whatsapp" in html
    assert "Voice call" in html and "Your code is 1 2 3" in html  # the TwiML's words as the preview
    assert "Gateway request" in html and "from GW Brand" in html
    assert "from unknown" in html
    assert 'http-equiv="refresh"' not in html  # live by events, never by reloading


def test_bodies_are_escaped_everywhere(box: ServedSandbox) -> None:
    to = unique_number()
    hostile = '<script>alert("owned")</script><img src=x onerror=alert(1)>"\'&'
    entry = box.state.deliver(sms(to, hostile, messagingServiceName="<b>bold</b>"))
    box.state.inbox.update(str(entry["id"]), status="<i>sent</i>")
    views = [
        page(box),
        page(box, f"/inbox/{entry['seq']}"),
        page(box, f"/inbox/{entry['seq']}/detail"),
        box.http.get("/inbox/list", params={"q": "owned"}).json()["html"],
    ]
    for html in views:
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html
        assert "<i>sent" not in html
        assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in html
    response = box.http.get("/inbox")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_one_message_in_full(box: ServedSandbox) -> None:
    to = unique_number()
    twiml = "<Response><Say>Your code is 4 4 4</Say></Response>"
    placed = box.state.deliver(call(to, twiml))
    for status in ("ringing", "in-progress", "completed"):
        box.state.inbox.update(str(placed["id"]), status=status)
    html = page(box, f"/inbox/{placed['seq']}")
    detail = html[html.index('id="detail"') :]
    assert "&lt;Response&gt;&lt;Say&gt;Your code is 4 4 4" in detail  # the TwiML, as text
    timeline = re.findall(r'class="status status-[a-z-]+">([a-z-]+)<', detail[detail.index("Status timeline") :])
    assert timeline == ["queued", "ringing", "in-progress", "completed"]
    gateway_path = "/gateway/full"
    box.http.post(gateway_path, json={"to": to, "text": "Code 5150"}, headers={"X-Auth-Token": "tok-visible?"})
    [entry] = [m for m in box.http.get("/_admin/inbox", params={"to": to}).json()["messages"] if m["kind"] == "GATEWAY"]
    detail = page(box, f"/inbox/{entry['seq']}/detail")
    assert "x-auth-token" in detail and "tok-visible?" not in detail and "••••••" in detail
    assert "POST /gateway/full" in detail and "One-time code <strong>5150</strong>" in detail


def test_a_message_that_is_gone_is_404(box: ServedSandbox) -> None:
    assert box.http.get("/inbox/987654321").status_code == 404
    assert "no longer in the inbox" in box.http.get("/inbox/987654321/detail").text


def test_search_by_recipient_sender_text_and_kind(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "needle in a haystack", **{"from": "+15005550007"}))
    box.state.deliver(verification(to, "999000"))
    assert "needle in a haystack" in page(box, q="NEEDLE")
    assert "needle in a haystack" in page(box, q=to)
    assert "needle in a haystack" in page(box, q="+1 500 555 0007")  # sender, written as people do
    assert "needle in a haystack" not in page(box, q=to, kind="VERIFICATION")
    listed = box.http.get("/inbox/list", params={"q": to, "kind": "VERIFICATION"}).json()
    assert listed["shown"] == 1 and "999000" in listed["html"]
    assert "Verify" in listed["note"]


def test_page_urls_follow_the_mount(box: ServedSandbox) -> None:
    html = page(box)
    assert 'data-base=""' in html
    assert all(not u.startswith(("http:", "https:", "//")) for u in re.findall(r'(?:href|src)="([^"]+)"', html))
    for asset in ("/inbox/assets/inbox.css", "/inbox/assets/inbox.js"):
        text = box.http.get(asset).text
        assert "http://" not in text and "https://" not in text and "@import" not in text  # nothing from elsewhere
    assert box.http.get("/inbox/assets/other.js").status_code == 404


# Server-sent events.


def read_events(response: httpx.Response, wanted: int) -> list[dict[str, Any]]:
    """Parse events from an open stream until ``wanted`` named ones arrived."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "event" in current:
                events.append(current)
                if len(events) >= wanted:
                    return events
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = json.loads(value) if name == "data" else value
    return events


def stream(box: ServedSandbox, **params: str) -> Any:
    return box.http.stream("GET", "/inbox/events", params=params, headers=params.pop("headers", {}), timeout=10)


def after_now(box: ServedSandbox) -> str:
    return str(re.search(r'data-after="([^"]+)"', page(box)).group(1))  # type: ignore[union-attr]


def test_events_bring_new_and_changed_messages(box: ServedSandbox) -> None:
    to = unique_number()
    after = after_now(box)
    threading.Timer(0.2, lambda: box.state.deliver(sms(to, "live <b>one</b>", id="SMlive"))).start()
    threading.Timer(0.4, lambda: box.state.inbox.update("SMlive", status="delivered")).start()
    with stream(box, after=after, q=to) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        added, updated = read_events(response, 2)
    assert added["event"] == "add" and updated["event"] == "update"
    assert "live &lt;b&gt;one&lt;/b&gt;" in added["data"]["html"]
    assert "delivered" in updated["data"]["html"]
    assert added["data"]["announce"] == f"New SMS to {to}"
    assert added["id"].split(".")[0] == after.split(".")[0]


def test_events_keep_to_the_search(box: ServedSandbox) -> None:
    to, other = unique_number(), unique_number()
    after = after_now(box)
    threading.Timer(0.2, lambda: box.state.deliver(sms(other, "not searched for"))).start()
    threading.Timer(0.4, lambda: box.state.deliver(sms(to, "searched for"))).start()
    with stream(box, after=after, q=to) as response:
        [event] = read_events(response, 1)
    assert "searched for" in event["data"]["html"]


def test_a_page_that_reconnects_gets_what_it_missed(box: ServedSandbox) -> None:
    to = unique_number()
    after = after_now(box)
    box.state.deliver(sms(to, "missed while away"))
    with stream(box, after="stale.0", q=to, headers={"Last-Event-ID": after}) as response:  # the header wins
        [event] = read_events(response, 1)
    assert event["event"] == "update" and "missed while away" in event["data"]["html"]
    with stream(box, after="another-epoch.3") as response:
        [event] = read_events(response, 1)
    assert event["event"] == "resync"  # a restarted sandbox: the page starts again


def test_a_clear_reaches_open_pages(box: ServedSandbox) -> None:
    after = after_now(box)
    threading.Timer(0.2, lambda: httpx.delete(f"{box.url}/_admin/inbox")).start()
    with stream(box, after=after) as response:
        [event] = read_events(response, 1)
    assert event["event"] == "clear" and event["data"] == {"size": 0}
    assert "No messages yet" in page(box)
