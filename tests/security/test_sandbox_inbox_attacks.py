"""Attacks on the inbox's own inputs: every bad parameter is a clear 400 JSON (never a 500, never a
silently widened search), markup stays text, and waiting cannot be made to hold the server."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from phone_delivery.sandbox.inbox_query import encode_cursor
from phone_delivery.sandbox.state import SandboxState
from tests.inbox_support import ServedSandbox, served, sms, unique_number


@pytest.fixture(scope="module")
def box() -> Iterator[ServedSandbox]:
    with served(SandboxState()) as sandbox:
        for i in range(3):
            sandbox.state.deliver(sms("+14155550100", f"Code 10{i}0"))
        yield sandbox


def raw_get(box: ServedSandbox, path_and_query: str) -> httpx.Response:
    """A request exactly as written, percent-escapes and all (httpx would re-encode params)."""
    return box.http.send(httpx.Request("GET", box.url + path_and_query))


BAD_LIST = [
    "limit=1000001",
    "limit=99999999999999999999999999",
    "limit=0",
    "limit=-5",
    "limit=1e3",
    "limit=0x10",
    "limit=",
    "limit=%E2%91%A0",  # a circled digit one: a digit to Python's isdigit, not a limit
    "cursor=",
    "cursor=abc",
    "cursor=" + base64.urlsafe_b64encode(b"inbox:0").decode().rstrip("="),
    "cursor=" + base64.urlsafe_b64encode(b"inbox:-1").decode().rstrip("="),
    "cursor=" + base64.urlsafe_b64encode(b"other:5").decode().rstrip("="),
    "cursor=" + base64.urlsafe_b64encode(b"inbox:" + b"9" * 40).decode().rstrip("="),
    "cursor=%00%0d%0a",
    "cursor=" + "A" * 5000,
    "since=yesterday",
    "since=2025-13-45T00:00:00Z",
    "since=" + "2" * 100,
    "since=%0d%0a",
    "to=%2B1415%0d%0aSet-Cookie:%20x=1",
    "to=%00",
    "to=" + "9" * 300,
    "to=",
    "to=%2014155550100",  # a + sent unescaped arrives as a space
    "q=%07bell",
    "q=" + "x" * 201,
    "kind=EMAIL",
    "kind=%3Cscript%3E",
    "To=%2B14155550100",  # Twilio's spelling: refused rather than ignored, so no test reads everyone's
    "to=%2B1&to=%2B2",
    "page=2",
]


@pytest.mark.parametrize("query", BAD_LIST)
def test_bad_list_parameters_are_400_json(box: ServedSandbox, query: str) -> None:
    response = raw_get(box, f"/_admin/inbox?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]
    assert isinstance(message, str) and message
    assert "\r" not in message and "\n" not in message and "\x00" not in message
    assert "set-cookie" not in {k.lower() for k in response.headers}


@pytest.mark.parametrize(
    "query", ["wait=-1", "wait=1e9", "wait=61", "wait=nan", "wait=inf", "wait=-inf", "wait=", "wait=1" + "0" * 400]
)
def test_bad_waits_are_400_at_once(box: ServedSandbox, query: str) -> None:
    started = time.monotonic()
    response = raw_get(box, f"/_admin/inbox/latest?to=%2B14155550100&{query}")
    assert response.status_code == 400, response.text
    assert "wait must be a number of seconds from 0 to 60" in response.json()["error"]
    assert time.monotonic() - started < 2


def test_non_ascii_recipient_is_searched_for_not_refused(box: ServedSandbox) -> None:
    response = raw_get(box, "/_admin/inbox?to=%E2%80%AE%2B1415%C3%A9")
    assert response.status_code == 200
    assert response.json() == {"messages": [], "next": None}
    assert raw_get(box, "/_admin/inbox/latest?to=%C3%A9").status_code == 404


def test_a_cursor_past_the_end_is_an_empty_page_not_an_error(box: ServedSandbox) -> None:
    response = box.http.get("/_admin/inbox", params={"cursor": encode_cursor(1)})
    assert response.status_code == 200
    assert response.json() == {"messages": [], "next": None}


def test_the_largest_limit_is_served(box: ServedSandbox) -> None:
    response = box.http.get("/_admin/inbox", params={"limit": 1000})
    assert response.status_code == 200
    assert len(response.json()["messages"]) >= 3


def test_search_text_with_markup_is_reflected_as_text(box: ServedSandbox) -> None:
    hostile = '"><script>alert(1)</script>'
    page = box.http.get("/inbox", params={"q": hostile})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text
    bad = box.http.get("/inbox", params={"q": "\x07<b>"})
    assert bad.status_code == 400 and "<b>" not in bad.text


def test_event_stream_cursor_garbage_only_restarts_the_page(box: ServedSandbox) -> None:
    for after in ("", "x" * 5000, "..", "a.b.c", "%s.-1", "\u202e.1"):
        with box.http.stream("GET", "/inbox/events", params={"after": after}, timeout=10) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("event: "):
                    assert line == "event: resync"
                    break


def test_entry_ids_and_positions_in_paths(box: ServedSandbox) -> None:
    for path in ("/inbox/0", "/inbox/99999999999999999999999999", "/inbox/-1", "/inbox/1e3", "/inbox/%2e%2e"):
        response = box.http.get(path)
        assert response.status_code == 404, path
    assert box.http.get("/inbox/assets/..%2F..%2Fstate.py").status_code == 404


def test_a_client_that_gives_up_waiting_leaves_nothing_behind(box: ServedSandbox) -> None:
    listening = box.state.inbox.listeners
    for _ in range(20):
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{box.url}/_admin/inbox/latest", params={"to": unique_number(), "wait": 30}, timeout=0.2)
    deadline = time.monotonic() + 5
    while box.state.inbox.listeners > listening and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.state.inbox.listeners == listening  # the waits were cancelled, not left for 30 s each


def test_many_waiters_are_all_answered(box: ServedSandbox) -> None:
    to = unique_number()
    answers: list[int] = []

    def wait() -> None:
        response = httpx.get(f"{box.url}/_admin/inbox/latest", params={"to": to, "wait": 10}, timeout=15)
        answers.append(response.status_code)

    listening = box.state.inbox.listeners
    waiters = [threading.Thread(target=wait) for _ in range(30)]
    for waiter in waiters:
        waiter.start()
    # Deliver once all 30 are waiting (a fixed sleep lost a late waiter on a loaded machine).
    deadline = time.monotonic() + 10
    while box.state.inbox.listeners < listening + 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert box.state.inbox.listeners == listening + 30
    box.state.deliver(sms(to, "Code 8888"))
    for waiter in waiters:
        waiter.join(timeout=15)
    assert answers == [200] * 30


def test_gateway_bodies_that_are_deep_or_huge_are_recorded_not_fatal(box: ServedSandbox) -> None:
    deep = "[" * 5000 + "]" * 5000
    assert box.http.post("/gateway/deep", content=deep, headers={"Content-Type": "application/json"}).status_code == 200
    nested: object = {"to": "+14155550123"}
    for _ in range(50):
        nested = {"wrap": nested}
    response = box.http.post("/gateway/nested", content=json.dumps(nested))
    assert response.status_code == 200
    entries = box.http.get("/_admin/inbox", params={"kind": "GATEWAY"}).json()["messages"]
    assert {e["path"] for e in entries} >= {"/gateway/deep", "/gateway/nested"}
    assert next(e for e in entries if e["path"] == "/gateway/nested")["to"] is None  # too deep to look into
