"""A custom gateway's error answer is anyone's text: NUL, invalid UTF-8, non-ASCII, CR/LF. The
worker records it as the attempt's and the notification's error on both databases (PostgreSQL
refuses NUL in text: the record failed, and the notification stayed SENDING until its lease ran
out, to be claimed and sent again), and the notification ends where its status says."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.security.conftest import own_service
from tests.security.gateway import custom_sender
from tests.support import SandboxAdmin, wait_final

HOSTILE = b"refused \x00 \xff\xfe \xc3\xbc\r\nX-Injected: yes \x00" + b"9" * 3000


class HostileGateway:
    """Answers every request with ``status`` and the hostile body; counts the requests."""

    def __init__(self, status: int) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.requests += 1
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(HOSTILE)))
                self.end_headers()
                self.wfile.write(HOSTILE)

            def log_message(self, *_: object) -> None:
                pass

        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=[400, 503], ids=["rejected", "unavailable"])
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileGateway]:
    gateway = HostileGateway(request.param)
    yield gateway
    gateway.close()


def test_a_gateways_hostile_error_is_recorded_and_the_notification_fails(
    stack: Stack, sandbox: SandboxAdmin, hostile: HostileGateway, tmp_path: Path
) -> None:
    allowed = f"{sandbox.base.removeprefix('http://')},127.0.0.1:{hostile.port}"
    with own_service(stack, sandbox, tmp_path, allowed_private_hosts=allowed, tries_per_sender=2) as service:
        api = service.api()
        env = api.new_environment("hostile errors")
        body = custom_sender(f"http://127.0.0.1:{hostile.port}/sms", {"method": "BEARER", "authToken": "t"})
        created = api.post(api.senders_path(env), json=body)
        assert created.status_code == 201, created.text
        chain = api.put(
            f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [created.json()["id"]]}
        )
        assert chain.status_code == 200, chain.text
        sent = api.post(
            f"/v1/environments/{env}/notifications",
            json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "hello"},
        )
        assert sent.status_code == 202, sent.text
        notification = wait_final(api, env, sent.json()["id"], ("FAILED", "SENT", "DELIVERED"), seconds=20)
        assert notification["status"] == "FAILED", notification
        calls = hostile.requests
        time.sleep(0.5)  # nothing claims it again
        assert hostile.requests == calls
        recorded = notification["attempts"]
        assert recorded and all(a["outcome"] != "IN_PROGRESS" for a in recorded), recorded
        assert len(recorded) == calls  # one record per call to the gateway: none lost, none sent twice
        for attempt in recorded:
            message = attempt.get("errorMessage") or ""
            assert "\x00" not in message and "refused" in message, attempt
