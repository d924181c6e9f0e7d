"""A gateway that records the raw bytes of every connection and parses them with h11 (a strict
HTTP/1.1 parser), so a test sees exactly how requests were framed on the wire: how many requests
each connection carried, their headers and bodies, and whether anything was malformed."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import h11


@dataclass
class WireRequest:
    connection: int
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]


@dataclass
class RawGateway:
    """Serves on ``host`` (a loopback address) from a thread. ``requests`` are parsed requests in arrival order;
    ``errors`` hold h11's complaints (a framing attack shows up here or as an extra request)."""

    host: str = "127.0.0.1"
    listen_port: int = 0
    answer: bytes | None = None  # the body of every 200 (default: a small JSON object)
    requests: list[WireRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    raw: dict[int, bytearray] = field(default_factory=dict)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stopping: asyncio.Event | None = None
    _connections: int = 0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RawGateway:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, self.host, self.listen_port)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        await self._stopping.wait()
        server.close()
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections += 1
        number = self._connections
        raw = self.raw.setdefault(number, bytearray())
        conn = h11.Connection(h11.SERVER)
        current: WireRequest | None = None
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    raw.extend(data)
                    conn.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    current = WireRequest(
                        number,
                        event.method.decode(),
                        event.target.decode(),
                        [(k.decode(), v.decode("latin-1")) for k, v in event.headers],
                        b"",
                    )
                elif isinstance(event, h11.Data) and current is not None:
                    current.body += event.data
                elif isinstance(event, h11.EndOfMessage) and current is not None:
                    self.requests.append(current)
                    body = self.answer if self.answer is not None else b'{"id": "raw-%d"}' % len(self.requests)
                    writer.write(
                        conn.send(
                            h11.Response(
                                status_code=200,
                                headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                            )
                        )
                        or b""
                    )
                    writer.write(conn.send(h11.Data(data=body)) or b"")
                    writer.write(conn.send(h11.EndOfMessage()) or b"")
                    await writer.drain()
                    current = None
                    conn.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    return
        except h11.ProtocolError as exc:
            self.errors.append(f"connection {number}: {exc}")
        finally:
            writer.close()
