"""A stand-in for Twilio's core API that passes every request on to the sandbox but holds the
answers to message sends: a test decides when the worker learns each try's MessageSid, and sends the
status callbacks itself (``StatusCallback`` is taken out of what reaches the sandbox)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

import httpx

PASSED_HEADERS = ("authorization", "content-type", "accept", "user-agent")


@dataclass
class HeldSend:
    """One message send the sandbox has answered; the worker gets the answer once ``release`` is set."""

    sid: str
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class HoldingTwilio:
    upstream: str  # the sandbox's base URL
    sleep_first: float = 0.0  # the first send reaches the sandbox only after this long (a timeout)
    auth_token: str = ""  # the account's, for the test's own signed callbacks
    sends: dict[int, HeldSend] = field(default_factory=dict)  # by order of arrival
    arrived: threading.Condition = field(default_factory=threading.Condition)
    _arrivals: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HoldingTwilio:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                owner._pass_on(self, b"")

            def do_POST(self) -> None:
                owner._pass_on(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for send in self.sends.values():
            send.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def held(self, count: int, seconds: float = 15) -> list[HeldSend]:
        """Wait until ``count`` sends have been answered by the sandbox."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: all(i in self.sends for i in range(count)), seconds):
                raise AssertionError(f"only {len(self.sends)} sends answered")
            return [self.sends[i] for i in range(count)]

    def _pass_on(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        sending = handler.command == "POST" and handler.path.endswith("/Messages.json")
        index = -1
        if sending:
            form = [(k, v) for k, v in parse_qsl(body.decode(), keep_blank_values=True) if k != "StatusCallback"]
            body = urlencode(form).encode()
            with self.arrived:
                index, self._arrivals = self._arrivals, self._arrivals + 1
            if index == 0 and self.sleep_first:
                time.sleep(self.sleep_first)  # the worker has given up; Twilio takes it anyway
        headers = {k: v for k, v in handler.headers.items() if k.lower() in PASSED_HEADERS}
        answer = httpx.request(handler.command, self.upstream + handler.path, content=body, headers=headers)
        if sending and answer.status_code == 201:
            send = HeldSend(str(answer.json()["sid"]))
            with self.arrived:
                self.sends[index] = send
                self.arrived.notify_all()
            if index > 0:
                send.release.wait(30)
        try:
            handler.send_response(answer.status_code)
            handler.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
            handler.send_header("Content-Length", str(len(answer.content)))
            handler.end_headers()
            handler.wfile.write(answer.content)
        except OSError:
            return  # the worker stopped waiting (the first try's timeout)
