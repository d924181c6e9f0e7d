"""The inbox API for end-to-end tests (``/_admin/inbox``, ``/latest``, ``/count``, DELETE), over real
HTTP, and the inbox that survives a restart in its data directory, bounded, oldest dropped first."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from phone_delivery.sandbox.state import SandboxState
from tests.inbox_support import ServedSandbox, call, served, sms, unique_number, verification


@pytest.fixture(scope="module")
def box() -> Iterator[ServedSandbox]:
    with served(SandboxState()) as sandbox:
        yield sandbox


def messages(box: ServedSandbox, **params: str) -> list[dict[str, object]]:
    response = box.http.get("/_admin/inbox", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def test_newest_first_filtered_by_recipient(box: ServedSandbox) -> None:
    to, other = unique_number(), unique_number()
    for i in range(3):
        box.state.deliver(sms(to, f"message {i}"))
    box.state.deliver(sms(other, "not for you"))
    found = messages(box, to=to)
    assert [m["body"] for m in found] == ["message 2", "message 1", "message 0"]
    assert all(m["to"] == to for m in found)
    assert messages(box)[0]["to"] == other  # unfiltered, newest first too


def test_paging_walks_every_message_once(box: ServedSandbox) -> None:
    to = unique_number()
    for i in range(7):
        box.state.deliver(sms(to, f"page {i}"))
    seen: list[object] = []
    page = box.http.get("/_admin/inbox", params={"to": to, "limit": 3}).json()
    pages = 1
    while page["next"]:
        seen += [m["body"] for m in page["messages"]]
        assert "to=%2B" in page["next"] and "limit=3" in page["next"]  # the filters ride along
        page = box.http.get(page["next"]).json()
        pages += 1
    seen += [m["body"] for m in page["messages"]]
    assert pages == 3
    assert seen == [f"page {i}" for i in reversed(range(7))]


def test_since_keeps_what_arrived_after(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "before"))
    time.sleep(0.05)
    since = datetime.now(UTC)
    box.state.deliver(sms(to, "after"))
    assert [m["body"] for m in messages(box, to=to, since=since.isoformat())] == ["after"]
    naive = since.replace(tzinfo=None).isoformat()  # a time without an offset is UTC
    assert [m["body"] for m in messages(box, to=to, since=naive)] == ["after"]
    later = (since + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert messages(box, to=to, since=later) == []


def test_latest_carries_the_code(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "Your code is 482913. Call +14155550100 with questions."))
    latest = box.http.get("/_admin/inbox/latest", params={"to": to})
    assert latest.status_code == 200
    assert latest.json()["code"] == "482913"
    box.state.deliver(verification(to, "0042"))  # the OTP the sandbox knows wins over digits in text
    assert box.http.get("/_admin/inbox/latest", params={"to": to}).json()["code"] == "0042"
    box.state.deliver(sms(to, "No digits here, and 12345678901 is too long to be a code"))
    assert box.http.get("/_admin/inbox/latest", params={"to": to}).json()["code"] is None


def test_latest_of_a_number_that_got_nothing_is_404_json(box: ServedSandbox) -> None:
    response = box.http.get("/_admin/inbox/latest", params={"to": unique_number()})
    assert response.status_code == 404
    assert "no message to +1" in response.json()["error"]


def test_wait_returns_as_soon_as_a_message_arrives_from_another_thread(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "Old code 111111"))
    later = threading.Timer(0.3, lambda: box.state.deliver(sms(to, "New code 222222")))
    started = time.monotonic()
    later.start()
    response = box.http.get("/_admin/inbox/latest", params={"to": to, "wait": 10})
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "222222"  # newer than the request, not the one already there
    assert 0.25 < elapsed < 5


def test_wait_with_since_returns_what_already_arrived_at_once(box: ServedSandbox) -> None:
    to = unique_number()
    since = datetime.now(UTC).isoformat()
    box.state.deliver(sms(to, "Code 333333"))
    started = time.monotonic()
    response = box.http.get("/_admin/inbox/latest", params={"to": to, "wait": 10, "since": since})
    assert response.json()["code"] == "333333"
    assert time.monotonic() - started < 2


def test_wait_that_times_out_says_why(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "Code 444444"))
    started = time.monotonic()
    response = box.http.get("/_admin/inbox/latest", params={"to": to, "wait": 0.4})
    assert response.status_code == 404
    assert 0.35 < time.monotonic() - started < 3
    assert "before this request began: pass since=" in response.json()["error"]


def test_count_and_delete(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "to be cleared"))
    total = box.http.get("/_admin/inbox/count").json()["total"]
    assert box.http.get("/_admin/inbox/count", params={"to": to}).json()["count"] == 1
    assert box.http.delete("/_admin/inbox").status_code == 204
    assert messages(box) == []
    assert box.http.get("/_admin/inbox/count").json() == {"count": 0, "total": total}
    assert "to be cleared" not in box.http.get("/inbox").text
    assert box.http.get("/_admin/inbox/latest", params={"to": to}).status_code == 404


def test_kind_and_text_search(box: ServedSandbox) -> None:
    to = unique_number()
    box.state.deliver(sms(to, "Hello from the search test", messagingServiceName="Search service"))
    box.state.deliver(call(to, "<Response><Say>Your code is 5 5 5</Say></Response>"))
    assert [m["kind"] for m in messages(box, to=to, kind="voice")] == ["CALL"]
    assert [m["kind"] for m in messages(box, to=to, q="SEARCH SERVICE")] == ["SMS"]
    digits = to[2:5] + " " + to[5:8]  # "415 555" finds +1415555...
    assert len(messages(box, q=digits, to=to)) == 2
