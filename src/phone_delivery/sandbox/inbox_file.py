"""The inbox on disk (dev mode): one JSON line per entry written as it arrives and each time it changes.

The newest line of an entry wins when the file is read back. When stale lines outnumber the entries
kept, the file is rewritten with only the entries kept (to a temporary file, then renamed, so a
crash leaves the old file or the new one, never half of either). A torn last line, as a crash in
the middle of an append leaves it, is skipped. The file is private to its owner (mode 0600): it
holds one-time codes. Secrets never reach it: gateway request headers are masked before an entry
is made (``gateway_inbox.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson


@dataclass
class InboxRecord:
    """An entry as the store keeps it: its position (``seq``), when it arrived (epoch seconds) and the
    store's ``version`` when it last changed (what a live page has already seen)."""

    seq: int
    received: float
    entry: dict[str, Any]
    changed: int = 0


@dataclass
class LoadedInbox:
    records: list[InboxRecord]  # oldest first, at most ``kept``
    last_seq: int  # the highest position ever given, so positions are never reused after a restart


class InboxFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self._lines = 0  # lines in the file, to know when rewriting it pays

    def load(self, kept: int) -> LoadedInbox:
        records: dict[int, InboxRecord] = {}
        last_seq = 0
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raw = b""
        for line in raw.splitlines():
            self._lines += 1
            try:
                item = orjson.loads(line)
                if "lastSeq" in item:
                    last_seq = max(last_seq, int(item["lastSeq"]))
                    continue
                record = InboxRecord(int(item["seq"]), float(item["received"]), dict(item["entry"]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a torn or foreign line: the rest of the file is still good
            records.pop(record.seq, None)  # re-inserted: the newest line of an entry wins
            records[record.seq] = record
            last_seq = max(last_seq, record.seq)
        ordered = sorted(records.values(), key=lambda r: r.seq)[-kept:] if kept > 0 else []
        return LoadedInbox(ordered, last_seq)

    def append(self, record: InboxRecord) -> None:
        line = _line({"seq": record.seq, "received": record.received, "entry": record.entry})
        if line is None:
            return  # not representable as JSON (e.g. a lone surrogate): kept in memory only
        handle = self._open()
        handle.write(line)
        handle.flush()
        self._lines += 1

    def needs_rewrite(self, kept: int) -> bool:
        return self._lines > 2 * kept + 100

    def rewrite(self, records: list[InboxRecord], last_seq: int) -> None:
        """Replace the file by one line per kept entry (and the last position given)."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        lines = 1
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps({"lastSeq": last_seq}) + b"\n")
            for record in records:
                line = _line({"seq": record.seq, "received": record.received, "entry": record.entry})
                if line is not None:
                    handle.write(line)
                    lines += 1
        os.replace(tmp, self.path)
        self._lines = lines

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _open(self) -> IO[bytes]:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._handle = os.fdopen(fd, "ab")
        return self._handle


def _line(item: dict[str, Any]) -> bytes | None:
    try:
        return orjson.dumps(item, default=str) + b"\n"
    except (orjson.JSONEncodeError, TypeError):
        return None
