"""The delivery worker in a process of its own, started and watched by `phone-delivery serve`.

One API process holds one core: on a machine with more, its delivery worker runs beside it as
``phone-delivery worker --link-fd N`` (``PHONE_DELIVERY_WORKER_PROCESS``, docs/delivery.md). The
two share the database, as any separate worker does, and one end each of a socket pair, the link.
serve writes lines to the worker:

- ``w``: a notification was accepted, claim now (the worker otherwise waits up to
  ``PHONE_DELIVERY_WORKER_POLL_SECONDS`` between claims when it has nothing to send);
- ``f["<environment id>","<sender id>"]``: that sender was replaced or deleted through this API, so
  the next send reads it again, as the worker on serve's own event loop would (a worker elsewhere
  keeps a resolved sender up to 2 seconds);
- ``m``: the worker answers its Prometheus metrics, as an 8-byte big-endian length and that many
  bytes, which serve's ``/metrics`` adds to its own;
- end of file (serve is gone, however it died): the worker stops as on SIGTERM, finishing the sends
  in flight.

The worker runs in a session of its own, so a terminal's Ctrl-C reaches serve only, which stops it
with SIGTERM and waits for it (``shutdown_seconds`` and a margin, then SIGKILL). A worker that exits
while serve runs is logged and started again, after a pause that doubles up to 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable

import structlog
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from phone_delivery.worker.delivery_worker import DeliveryWorker

log = structlog.get_logger(logger_name="phone_delivery.worker_process")

WAKE = b"w"
FORGET = b"f"
METRICS = b"m"
LINE_LIMIT = 64 * 1024  # longer lines than serve writes are not lines of the link: dropped
_LENGTH = struct.Struct(">Q")
METRICS_TIMEOUT_SECONDS = 2.0
WAKE_BACKLOG = 64
# After SIGTERM the worker has shutdown_seconds to finish its sends; this much more to exit.
EXIT_MARGIN_SECONDS = 5.0
RESTART_PAUSE_SECONDS = (1.0, 30.0)


def cores_available() -> int:
    """The cores this process may run on (its affinity, where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class WorkerProcess:
    """serve's side: starts the worker, wakes it, reads its metrics, stops it."""

    def __init__(self, environment: dict[str, str], shutdown_seconds: float, registry: CollectorRegistry) -> None:
        self._environment = environment
        self._shutdown_seconds = shutdown_seconds
        self._up = Gauge(
            "phone_delivery_worker_process_up",
            "1 while the delivery worker's own process (started by serve) runs",
            registry=registry,
        )
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._asking = asyncio.Lock()
        self._answers_owed = 0  # metrics asked of this link and not read yet
        self._answer_length: int | None = None  # of the answer being read
        self._wake_pending = False
        self._stopping = False
        self._stopped = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the worker and watch it (from the server's lifespan, on its event loop)."""
        await self._spawn()
        self._watcher = asyncio.create_task(self._watch())

    async def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "phone_delivery",
                "worker",
                "--link-fd",
                str(theirs.fileno()),
                env=self._environment,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._reader, self._writer = await asyncio.open_connection(sock=ours)
        self._answers_owed, self._answer_length = 0, None
        self._up.set(1)
        log.info("worker_process_started", pid=self._process.pid)

    async def _watch(self) -> None:
        pause = RESTART_PAUSE_SECONDS[0]
        while True:
            assert self._process is not None
            code = await self._process.wait()
            self._up.set(0)
            self._close_link()
            if self._stopping:
                break
            log.error("worker_process_exited", pid=self._process.pid, returncode=code, restart_in_seconds=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=pause)
            if self._stopping:
                break
            pause = min(pause * 2, RESTART_PAUSE_SECONDS[1])
            try:
                await self._spawn()
            except OSError as exc:
                log.error("worker_process_start_failed", error=str(exc))
        self._stopped.set()

    def wake(self) -> None:
        """A notification was accepted: one ``w`` for all accepted in this turn of the event loop."""
        if self._wake_pending or self._writer is None:
            return
        self._wake_pending = True
        asyncio.get_running_loop().call_soon(self._send_wake)

    def _send_wake(self) -> None:
        self._wake_pending = False
        writer = self._writer
        # Bytes still unsent mean a worker that is not reading (stopped, stuck): no more for it to
        # read later, its poll claims anyway.
        if writer is not None and not writer.is_closing() and writer.transport.get_write_buffer_size() < WAKE_BACKLOG:
            writer.write(WAKE + b"\n")

    def forget(self, environment_id: str, sender_id: str) -> None:
        """A sender changed or is gone (after its commit): the worker reads it again at its next send."""
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.write(FORGET + json.dumps([environment_id, sender_id]).encode() + b"\n")

    async def metrics(self) -> bytes:
        """The worker's metrics in Prometheus' text format; empty when it cannot answer in time. A
        late answer is read (and dropped) before the next question's, so answers never mix."""
        async with self._asking:
            reader, writer = self._reader, self._writer
            if reader is None or writer is None or writer.is_closing():
                return b""
            try:
                async with asyncio.timeout(METRICS_TIMEOUT_SECONDS):
                    while self._answers_owed:
                        await self._answer(reader)
                    writer.write(METRICS + b"\n")
                    self._answers_owed += 1
                    return await self._answer(reader)
            except TimeoutError:
                log.warning("worker_process_metrics_late", pid=self.pid, seconds=METRICS_TIMEOUT_SECONDS)
                return b""
            except (asyncio.IncompleteReadError, ConnectionError):  # the worker is gone; _watch restarts it
                return b""

    async def _answer(self, reader: asyncio.StreamReader) -> bytes:
        # Cancelled (a timeout) between the two reads, the length is kept for the next call; what is
        # not read yet stays in the reader's buffer.
        if self._answer_length is None:
            (self._answer_length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
        answer = await reader.readexactly(self._answer_length)
        self._answer_length = None
        self._answers_owed -= 1
        return answer

    def stop(self) -> None:
        """Tell the worker to stop (SIGTERM): it claims nothing more and finishes its sends."""
        self._stopping = True
        self._stopped.set()
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGTERM)

    async def wait(self) -> None:
        """Stops the worker and waits for it to exit, killing it if it outlives its deadline."""
        self.stop()
        process = self._process
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), timeout=self._shutdown_seconds + EXIT_MARGIN_SECONDS)
            except TimeoutError:
                log.error("worker_process_killed", pid=process.pid, seconds=self._shutdown_seconds)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._watcher is not None:
            await self._watcher
        self._close_link()

    def _close_link(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def serve_link(fd: int, worker: DeliveryWorker) -> None:
    """The worker's side of the link (see the module's docstring), until serve closes it."""
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    pending = b""
    try:
        while chunk := await reader.read(LINE_LIMIT):
            *lines, pending = (pending + chunk).split(b"\n")
            if len(pending) > LINE_LIMIT:
                pending = b""
            for line in lines:
                if line == WAKE:
                    worker.wake()
                elif line == METRICS:
                    text = generate_latest(worker.metrics_registry)
                    writer.write(_LENGTH.pack(len(text)) + text)
                elif line.startswith(FORGET):
                    _forget(line.removeprefix(FORGET), worker.forget_sender)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        log.info("worker_link_closed")
        worker.stop()
        writer.close()


def _forget(payload: bytes, forget: Callable[[str, str], None]) -> None:
    try:
        ids = json.loads(payload)
    except ValueError:
        ids = None
    if not (isinstance(ids, list) and len(ids) == 2 and all(isinstance(i, str) for i in ids)):
        log.warning("worker_link_line_unreadable")
        return
    forget(ids[0], ids[1])
