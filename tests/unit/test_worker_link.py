"""The worker's side of serve's link (worker/worker_process.py), fed over a real socket pair: each line
does what it says, a line it cannot read changes nothing and stops nothing, and the end of the link
stops the worker."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from phone_delivery.worker.worker_process import LINE_LIMIT, serve_link


class FakeWorker:
    def __init__(self) -> None:
        self.metrics_registry = CollectorRegistry()
        Counter("link_test_sends", "sends", registry=self.metrics_registry).inc(3)
        self.calls: list[tuple[Any, ...]] = []

    def wake(self) -> None:
        self.calls.append(("wake",))

    def forget_sender(self, environment_id: str, sender_id: str) -> None:
        self.calls.append(("forget", environment_id, sender_id))

    def stop(self) -> None:
        self.calls.append(("stop",))


def run_link(lines: bytes) -> tuple[list[tuple[Any, ...]], list[bytes]]:
    """Writes ``lines`` to the worker's link, then a metrics question, then closes it; what the worker
    was told and the metrics answers it wrote."""

    async def run() -> tuple[list[tuple[Any, ...]], list[bytes]]:
        ours, theirs = socket.socketpair()
        worker = FakeWorker()
        served = asyncio.create_task(serve_link(theirs.detach(), worker))  # type: ignore[arg-type]
        reader, writer = await asyncio.open_connection(sock=ours)
        writer.write(lines + b"m\n")
        await writer.drain()
        answers = []
        while True:
            (length,) = struct.unpack(">Q", await reader.readexactly(8))
            answers.append(await reader.readexactly(length))
            if len(answers) == (lines + b"m\n").split(b"\n").count(b"m"):
                break
        writer.close()
        await asyncio.wait_for(served, timeout=5)
        return worker.calls, answers

    return asyncio.run(run())


def test_each_line_does_what_it_says_and_the_end_stops_the_worker() -> None:
    calls, answers = run_link(b'w\nw\nf["env-1","sender-1"]\nm\n')
    assert calls == [("wake",), ("wake",), ("forget", "env-1", "sender-1"), ("stop",)]
    assert len(answers) == 2 and all(b"link_test_sends_total 3.0" in a for a in answers)


def test_lines_split_across_reads_are_put_together() -> None:
    async def run() -> list[tuple[Any, ...]]:
        ours, theirs = socket.socketpair()
        worker = FakeWorker()
        served = asyncio.create_task(serve_link(theirs.detach(), worker))  # type: ignore[arg-type]
        _, writer = await asyncio.open_connection(sock=ours)
        for piece in (b'f["e', b'nv","s', b'ender"]', b"\nw", b"\n"):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.close()
        await asyncio.wait_for(served, timeout=5)
        return worker.calls

    assert asyncio.run(run()) == [("forget", "env", "sender"), ("wake",), ("stop",)]


def test_lines_it_cannot_read_change_nothing() -> None:
    junk = (
        b"f\n"
        b"fnot json\n"
        b'f["only one"]\n'
        b"f[1, 2]\n"
        b'f{"e": "x"}\n'
        b'f{"e": "x", "s": "y"}\n'
        b"f5\n"
        b"fnull\n"
        b'f["a", 1]\n'
        b"f\x00\xff\xfe\n"
        b"\r\n"
        b"unknown\n"
        b"W\n"
        + b"x" * (LINE_LIMIT * 3)  # a run without a newline, longer than any line: dropped
        + b"\nw\n"
    )
    calls, answers = run_link(junk)
    assert calls == [("wake",), ("stop",)]
    assert len(answers) == 1
