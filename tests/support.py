"""Test helpers: a real uvicorn server on a loopback port, API and sandbox clients."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from phone_delivery.settings import Settings

NOT_AUTHORIZED_PREFIX = "The actor attempting to perform the request is not authorized."


class LiveServer:
    """Serves an ASGI app over real HTTP on 127.0.0.1 from a background thread."""

    def __init__(self, app: Any, port: int = 0) -> None:
        # uvicorn binds itself (and sets TCP_NODELAY on accepted sockets, which a pre-bound
        # socket does not get: that costs 40 ms per request through delayed ACKs).
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on", loop="asyncio"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0
        self.url = ""

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[LiveServer]:
    server = LiveServer(app, port=port).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Credentials:
    environment_id: str
    client_id: str
    client_secret: str


class Api:
    """A PingOne-style client: gets a token once, then calls with it."""

    def __init__(self, base: str, creds: Credentials) -> None:
        self.base = base
        self.creds = creds
        self.http = httpx.Client(base_url=base, timeout=30)
        self.token = self.fetch_token()

    def fetch_token(self) -> str:
        response = self.http.post(
            f"/{self.creds.environment_id}/as/token",
            data={"grant_type": "client_credentials"},
            auth=(self.creds.client_id, self.creds.client_secret),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def new_environment(self, name: str = "Test environment") -> str:
        response = self.post("/v1/environments", json={"name": name})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def senders_path(self, env: str, sender_id: str | None = None) -> str:
        path = f"/v1/environments/{env}/notificationsSettings/phoneDeliverySettings"
        return f"{path}/{sender_id}" if sender_id else path


class SandboxAdmin:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=30)

    def account(self, services: int = 3, names: list[str] | None = None) -> dict[str, Any]:
        names = names if names is not None else [f"Service {i}" for i in range(services)]
        response = self.http.post("/_admin/accounts", json={"messagingServices": names})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def fault(self, **body: Any) -> None:
        response = self.http.post("/_admin/faults", json=body)
        assert response.status_code == 201, response.text

    def clear_faults(self) -> None:
        self.http.delete("/_admin/faults")

    def requests(self, account_sid: str | None = None) -> list[dict[str, Any]]:
        items = self.http.get("/_admin/requests").json()["requests"]
        return [r for r in items if account_sid is None or r["account_sid"] == account_sid]

    def provider_settings(self) -> dict[str, str]:
        """Settings pointing every provider at this sandbox, which custom providers may call."""
        from phone_delivery.sandbox.app import provider_base_urls

        return {**provider_base_urls(self.base), "allowed_private_hosts": self.base.removeprefix("http://")}


def assert_pingone_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The body is PingOne's error shape with this status and code; returns it."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body.get("id"), str) and len(body["id"]) == 36, body
    assert body.get("code") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    for detail in body.get("details", []):
        assert isinstance(detail.get("code"), str) and isinstance(detail.get("message"), str), detail
        assert set(detail) <= {"code", "target", "message", "innerError"}, detail
    return dict(body)


def detail(body: dict[str, Any], code: str, target: str | None) -> dict[str, Any]:
    """The one detail with this code and target (fails with the body if absent)."""
    for item in body.get("details", []):
        if item["code"] == code and item.get("target") == target:
            return dict(item)
    raise AssertionError(f"no detail {code}/{target} in {body}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_for(data_dir: Any, database_url: str, sandbox: SandboxAdmin, **extra: Any) -> Settings:
    """Test settings: every provider at the sandbox, short timeouts and retry delays."""
    defaults: dict[str, Any] = {
        "provider_timeout_seconds": 2.0,
        "retry_base_seconds": 0.02,
        "retry_max_seconds": 0.1,
        "worker_poll_seconds": 0.05,
    }
    merged = {**sandbox.provider_settings(), **defaults, **extra}
    return Settings(data_dir=data_dir, database_url=database_url, **merged)


def wait_drained(api: Api, env: str, seconds: float = 120, statuses: str = "QUEUED,SENDING") -> None:
    """Wait until the environment has no notification in ``statuses`` (by default: none left to
    deliver): a test that queues hundreds leaves the session's shared worker free for the tests after
    it. With SENT too, the sandbox's status callbacks for them have arrived as well (each is a request
    to the service and a write, in this process: hundreds of them slow the next test's sends)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = api.get(f"/v1/environments/{env}/notifications", params={"status": statuses, "limit": 1})
        if body.status_code == 200 and not body.json()["_embedded"]["notifications"]:
            return
        time.sleep(0.2)
    raise AssertionError(f"notifications of {env} still open after {seconds} s")


def wait_final(
    api: Api,
    env: str,
    notification_id: str,
    statuses: tuple[str, ...] = ("SENT", "DELIVERED", "UNDELIVERED", "FAILED"),
    seconds: float = 15,
) -> dict[str, Any]:
    """Poll a notification until its status is one of ``statuses``."""
    deadline = time.monotonic() + seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = api.get(f"/v1/environments/{env}/notifications/{notification_id}").json()
        if body.get("status") in statuses:
            return body
        time.sleep(0.02)
    raise AssertionError(f"notification not in {statuses} after {seconds}s: {body}")


def sqlite_settings(data_dir: Any, sandbox: SandboxAdmin, **extra: Any) -> Settings:
    """Settings of a private service on its own SQLite file, talking to the shared sandbox."""
    return settings_for(data_dir, f"sqlite+aiosqlite:///{data_dir / 'phone-delivery.db'}", sandbox, **extra)


def bootstrap(settings: Settings) -> Credentials:
    """Run ``phone-delivery bootstrap`` against the settings' database; the admin's credentials."""
    from phone_delivery.cli import _bootstrap

    boot = asyncio.run(_bootstrap(settings))
    assert boot is not None
    return Credentials(boot["environmentId"], boot["clientId"], boot["clientSecret"])


@contextmanager
def private_service(settings: Settings, creds: Credentials, port: int = 0) -> Iterator[Api]:
    """A service of its own (for tests that change settings or restart it), with an admin client.
    A restart that should keep tokens valid passes the same ``port``: a token's issuer is the base
    URL it was issued at."""
    from phone_delivery.app import create_app

    with serving(create_app(settings), port=port) as server:
        yield Api(server.url, creds)
