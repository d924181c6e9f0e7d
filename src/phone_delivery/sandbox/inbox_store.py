"""What the sandbox 'delivered', newest last: Twilio messages, calls and verifications, Syniverse
message requests and custom gateway requests. One entry per delivery, updated as its status moves
(``timeline``). Thread-safe: the sandbox may be served from another thread than the one seeding it.

Each entry gets ``seq``, its position: increasing, never reused (not even after a clear or a
restart), what cursors and the inbox page name an entry by. The store keeps the newest ``kept``
entries (the oldest go first), in memory or, given a path, also in a JSON-lines file it reloads
at start (``inbox_file.py``). Listeners hear every change (``subscribe``), on whatever thread
made it; ``inbox_feed.py`` carries that to the event loops that wait for messages.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.inbox_file import InboxFile, InboxRecord

KEPT = 50_000  # the newest entries kept in memory; the oldest go first
KEPT_ON_DISK = 10_000  # the newest entries a file-backed inbox keeps (dev mode)

Match = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class InboxEvent:
    """A change to the inbox: an entry added or updated (a copy), or everything cleared."""

    type: Literal["add", "update", "clear"]
    entry: dict[str, Any] | None
    version: int  # the store's version after the change
    size: int  # entries kept after the change
    received: float = 0.0  # when the entry arrived (epoch seconds)


class InboxStore:
    def __init__(self, path: Path | None = None, kept: int | None = None) -> None:
        self._lock = threading.Lock()
        self.kept = kept if kept is not None else (KEPT_ON_DISK if path else KEPT)
        self.epoch = secrets.token_hex(4)  # names this store's versions: a restarted one starts anew
        self._records: dict[int, InboxRecord] = {}
        self._by_id: dict[str, int] = {}  # an entry id -> the newest seq with that id
        self._listeners: list[Callable[[InboxEvent], None]] = []
        self._version = 0
        self._cleared = 0  # the version of the last clear
        self._file = InboxFile(path) if path else None
        self._seq = 0
        if self._file is not None:
            loaded = self._file.load(self.kept)
            self._seq = loaded.last_seq
            for record in loaded.records:
                self._keep(record)
            self._file.rewrite(loaded.records, self._seq)  # drop what the bound or a torn line left

    @property
    def total(self) -> int:
        """Everything ever delivered (also what a clear removed, and before a restart)."""
        return self._seq

    @property
    def size(self) -> int:
        return len(self._records)

    @property
    def version(self) -> int:
        return self._version

    @property
    def listeners(self) -> int:
        """How many readers are listening for changes now (waiting requests, open inbox pages)."""
        return len(self._listeners)

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            self._version += 1
            entry = {"at": iso_now(), **entry, "seq": self._seq}
            entry.setdefault("timeline", [{"status": entry.get("status"), "at": entry["at"]}])
            record = InboxRecord(self._seq, time.time(), entry, self._version)
            self._keep(record)
            while len(self._records) > self.kept:
                self._forget(next(iter(self._records)))
            self._persist(record)
            self._tell("add", record)
            return dict(entry)

    def update(self, entry_id: str, **changes: Any) -> dict[str, Any] | None:
        """Apply ``changes`` to the newest entry with this id; a new ``status`` is appended to its timeline."""
        with self._lock:
            seq = self._by_id.get(entry_id)
            record = self._records.get(seq) if seq is not None else None
            if record is None:
                return None
            entry = record.entry
            if "status" in changes and changes["status"] != entry.get("status"):
                entry["timeline"] = [*entry["timeline"], {"status": changes["status"], "at": iso_now()}]
            entry.update({k: v for k, v in changes.items() if k != "seq"})
            self._version += 1
            record.changed = self._version
            self._persist(record)
            self._tell("update", record)
            return dict(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every entry kept, oldest first (copies)."""
        with self._lock:
            return [dict(r.entry) for r in self._records.values()]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._by_id.clear()
            self._version += 1
            self._cleared = self._version
            if self._file is not None:
                self._file.rewrite([], self._seq)
            self._tell("clear", None)

    def get(self, seq: int) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(seq)
            return dict(record.entry) if record else None

    def newest(
        self, match: Match, limit: int, before: int | None = None, received_since: float | None = None
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` entries that ``match``, newest first, older than position ``before`` and
        received at or after ``received_since`` (epoch seconds)."""
        with self._lock:
            return [dict(r.entry) for r in self._newest(match, limit, before, received_since)]

    def changed_since(self, version: int, match: Match, limit: int) -> tuple[list[dict[str, Any]] | None, int]:
        """Entries added or changed after ``version`` that ``match``, oldest first, and the version they
        bring the reader to. None instead of entries when the inbox was cleared since, or more changed
        than ``limit``: the reader starts again from a fresh list."""
        with self._lock:
            if self._cleared > version or version > self._version:
                return None, self._version
            changed = [r for r in self._records.values() if r.changed > version and match(r.entry)]
            if len(changed) > limit:
                return None, self._version
            return [dict(r.entry) for r in sorted(changed, key=lambda r: r.changed)], self._version

    def subscribe(self, listener: Callable[[InboxEvent], None]) -> Callable[[], None]:
        """Call ``listener`` after every change (under the store's lock, on the changing thread: it
        must only hand the event on). Returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()

    def _newest(
        self, match: Match, limit: int, before: int | None, received_since: float | None
    ) -> Iterator[InboxRecord]:
        found = 0
        for record in reversed(self._records.values()):
            if found >= limit:
                return
            if before is not None and record.seq >= before:
                continue
            if received_since is not None and record.received < received_since:
                return  # arrivals are in position order: everything further is older
            if match(record.entry):
                found += 1
                yield record

    def _keep(self, record: InboxRecord) -> None:
        self._records[record.seq] = record
        entry_id = record.entry.get("id")
        if isinstance(entry_id, str):
            self._by_id[entry_id] = record.seq

    def _forget(self, seq: int) -> None:
        record = self._records.pop(seq)
        entry_id = record.entry.get("id")
        if isinstance(entry_id, str) and self._by_id.get(entry_id) == seq:
            del self._by_id[entry_id]

    def _persist(self, record: InboxRecord) -> None:
        if self._file is None:
            return
        self._file.append(record)
        if self._file.needs_rewrite(self.kept):
            self._file.rewrite(list(self._records.values()), self._seq)

    def _tell(self, kind: Literal["add", "update", "clear"], record: InboxRecord | None) -> None:
        entry, received = (dict(record.entry), record.received) if record else (None, 0.0)
        event = InboxEvent(kind, entry, self._version, len(self._records), received)
        for listener in list(self._listeners):
            listener(event)
