"""The inbox store: positions, the status timeline, the bound (oldest dropped first), listeners on
any thread, and the JSON-lines file that brings the inbox back after a restart."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from phone_delivery.sandbox.inbox_store import InboxEvent, InboxStore
from tests.inbox_support import sms

INBOX_FILE = "sandbox-inbox.jsonl"


def test_positions_grow_and_updates_extend_the_timeline() -> None:
    store = InboxStore()
    first = store.add(sms("+14155550100", "one", id="SMa"))
    second = store.add(sms("+14155550100", "two", id="SMb"))
    assert (first["seq"], second["seq"]) == (1, 2)
    updated = store.update("SMa", status="delivered", errorCode=None)
    assert updated is not None
    assert [s["status"] for s in updated["timeline"]] == ["queued", "delivered"]
    assert store.update("SMa", status="delivered") is not None  # the same status again: no new step
    assert len(store.get(1)["timeline"]) == 2  # type: ignore[index]
    assert store.update("SMmissing", status="sent") is None
    assert store.update("SMb", seq=99)["seq"] == 2  # type: ignore[index]  # a position is never changed


def test_listeners_hear_changes_made_on_other_threads() -> None:
    store = InboxStore()
    heard: list[InboxEvent] = []
    stop = store.subscribe(heard.append)
    worker = threading.Thread(target=lambda: store.add(sms("+14155550100", "from a thread", id="SMt")))
    worker.start()
    worker.join()
    store.update("SMt", status="sent")
    store.clear()
    stop()
    store.add(sms("+14155550100", "unheard"))
    assert [(e.type, e.size) for e in heard] == [("add", 1), ("update", 1), ("clear", 0)]
    assert [e.version for e in heard] == [1, 2, 3]
    assert heard[0].entry is not None and heard[0].entry["body"] == "from a thread"


def test_newest_pages_by_position_and_time() -> None:
    store = InboxStore()
    for i in range(6):
        store.add(sms("+14155550100" if i % 2 else "+14155550199", f"m{i}"))
    wanted = lambda e: e["to"] == "+14155550100"  # noqa: E731
    assert [e["body"] for e in store.newest(wanted, 2)] == ["m5", "m3"]
    assert [e["body"] for e in store.newest(wanted, 2, before=3)] == ["m1"]
    assert store.newest(wanted, 10, received_since=10**12) == []


def test_changed_since_tells_a_reader_what_it_missed() -> None:
    store = InboxStore()
    store.add(sms("+14155550100", "seen", id="SM1"))
    seen = store.version
    store.add(sms("+14155550100", "missed", id="SM2"))
    store.update("SM1", status="delivered")
    changed, now = store.changed_since(seen, lambda e: True, 10)
    assert changed is not None
    assert [e["body"] for e in changed] == ["missed", "seen"]  # in the order they changed
    assert now == store.version
    assert store.changed_since(seen, lambda e: True, 1)[0] is None  # too many: start again
    store.clear()
    assert store.changed_since(now, lambda e: True, 10)[0] is None  # cleared since: start again


def test_a_clear_survives_a_restart(tmp_path: Path) -> None:
    store = InboxStore(tmp_path / INBOX_FILE)
    store.add(sms("+14155550100", "gone"))
    store.clear()
    store.close()
    again = InboxStore(tmp_path / INBOX_FILE)
    assert again.snapshot() == []
    assert again.total == 1  # everything ever delivered, a clear and a restart included
    assert again.add(sms("+14155550100", "new"))["seq"] == 2


def test_the_bound_drops_the_oldest_in_memory_and_on_disk(tmp_path: Path) -> None:
    memory = InboxStore(kept=3)
    for i in range(5):
        memory.add(sms("+14155550100", f"m{i}", id=f"SM{i}"))
    assert [e["body"] for e in memory.snapshot()] == ["m2", "m3", "m4"]
    assert memory.total == 5
    assert memory.update("SM0", status="sent") is None  # dropped, and no longer found by id

    path = tmp_path / INBOX_FILE
    disk = InboxStore(path, kept=10)
    for i in range(1000):
        entry = disk.add(sms("+14155550100", f"d{i}", id=f"SM{i}"))
        disk.update(str(entry["id"]), status="delivered")
    disk.close()
    assert len(path.read_text().splitlines()) <= 2 * 10 + 101  # rewritten as it grew: bounded on disk too
    reloaded = InboxStore(path, kept=10)
    assert [e["body"] for e in reloaded.snapshot()] == [f"d{i}" for i in range(990, 1000)]
    assert all(e["status"] == "delivered" for e in reloaded.snapshot())
    reloaded.close()
    assert InboxStore(path, kept=4).snapshot()[0]["body"] == "d996"  # a smaller bound applies at start


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / INBOX_FILE
    store = InboxStore(path)
    store.add(sms("+14155550100", "whole"))
    store.close()
    with path.open("ab") as handle:
        handle.write(b'{"seq": 2, "received": 1.0, "entry": {"body": "to')  # a crash mid-append
    reloaded = InboxStore(path)
    assert [e["body"] for e in reloaded.snapshot()] == ["whole"]
    assert json.loads(path.read_text().splitlines()[-1])["entry"]["body"] == "whole"


def test_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / INBOX_FILE
    InboxStore(path).add(sms("+14155550100", "Code 123456"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_entry_json_cannot_hold_stays_in_memory(tmp_path: Path) -> None:
    path = tmp_path / INBOX_FILE
    store = InboxStore(path)
    store.add(sms("+14155550100", "bad \ud800 surrogate"))
    store.add(sms("+14155550100", "fine"))
    store.close()
    assert [e["body"] for e in InboxStore(path).snapshot()] == ["fine"]
