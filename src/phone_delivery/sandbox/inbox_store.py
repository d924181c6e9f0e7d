"""What the sandbox 'delivered', newest last: Twilio messages, calls and verifications, Syniverse
message requests and custom gateway requests. One entry per delivery, updated as its status moves
(``timeline``). Thread-safe: the sandbox may be served from another thread than the one seeding it."""

from __future__ import annotations

import threading
from typing import Any

from phone_delivery.sandbox.clock import iso_now

KEPT = 50_000  # the newest entries kept; the oldest go first


class InboxStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self.total = 0  # everything ever delivered, never trimmed

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry = {"at": iso_now(), **entry}
            entry.setdefault("timeline", [{"status": entry.get("status"), "at": entry["at"]}])
            self._entries.append(entry)
            self.total += 1
            if len(self._entries) > KEPT:
                del self._entries[: KEPT // 10]
            return dict(entry)

    def update(self, entry_id: str, **changes: Any) -> dict[str, Any] | None:
        """Apply ``changes`` to an entry; a new ``status`` is appended to its timeline."""
        with self._lock:
            for entry in reversed(self._entries):
                if entry["id"] == entry_id:
                    if "status" in changes and changes["status"] != entry.get("status"):
                        entry["timeline"] = [*entry["timeline"], {"status": changes["status"], "at": iso_now()}]
                    entry.update(changes)
                    return dict(entry)
            return None

    def snapshot(self) -> list[dict[str, Any]]:
        """Every entry kept, oldest first (copies)."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
