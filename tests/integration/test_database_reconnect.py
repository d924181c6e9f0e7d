"""PostgreSQL drops the service's connections (a restart, a failover, an idle timeout): after a
second of quiet every read and write works again at the first try, with no 503. The pool checks a
connection that sat idle before handing it out (``store/database.py``, ``_ping_when_idle``), not
every checkout."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from phone_delivery.store.database import IDLE_BEFORE_PING
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    _pg_exec,
    drop_postgres_database,
    make_postgres_database,
    require_postgres,
)
from tests.integration.test_delivery import chain, messaging_sender
from tests.support import Api, SandboxAdmin, assert_pingone_error, bootstrap, free_port, private_service, settings_for


@pytest.fixture
def api(sandbox: SandboxAdmin, tmp_path: Path) -> Iterator[tuple[Api, str]]:
    require_postgres()
    db = make_postgres_database()
    try:
        settings = settings_for(tmp_path, db.url, sandbox, worker_enabled=False)
        with private_service(settings, bootstrap(settings)) as service:
            yield service, db.name
    finally:
        drop_postgres_database(db)


def terminate_connections(name: str) -> None:
    import asyncio

    statement = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 - name is our own pd_test_<hex>
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    asyncio.run(_pg_exec(POSTGRES_ADMIN_URL, statement))


def test_requests_after_the_server_dropped_every_connection(api: tuple[Api, str], sandbox: SandboxAdmin) -> None:
    service, name = api
    env = service.new_environment("reconnect")
    sender, _ = messaging_sender(service, env, sandbox)
    chain(service, env, sender["id"])
    senders = service.senders_path(env)
    notifications = f"/v1/environments/{env}/notifications"
    for _ in range(3):
        # the pool holds several connections: use them, so that more than one is dropped
        for _ in range(20):
            assert service.get(senders).status_code == 200
        terminate_connections(name)
        time.sleep(IDLE_BEFORE_PING + 0.2)
        assert service.get(senders).status_code == 200
        assert service.get(notifications).status_code == 200
        assert service.post(
            notifications, json={"deliveryMethod": "VOICE", "to": "+14155550123", "message": "m"}
        ).status_code in (202, 400)


class Relay:
    """A TCP relay on 127.0.0.1 to PostgreSQL that a test can cut (every connection reset, new ones
    refused) and restore on the same port: PostgreSQL as the service sees it when its host goes away."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self._listener is not None
        for sock in (self._listener, *self._open):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked on it (close alone does not)
            sock.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.target)
            self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_reads_while_postgresql_is_unreachable_are_503_and_recover(sandbox: SandboxAdmin, tmp_path: Path) -> None:
    """Every hot read (get one sender, list senders, token: they run on their own asyncpg pool,
    ``store/prepared_read.py``) and an engine read answer 503 with PingOne's body while the database
    host is gone, and work again once it is back. (The token's read always reaches the direct pool;
    the others do when their caller is still in the 5 s cache of principals, as it is a moment
    after the reads before the cut; else their 503 comes from the engine's read of the caller.)"""
    require_postgres()
    db = make_postgres_database()
    relay = Relay(free_port(), ("127.0.0.1", 5432))
    relay.start()
    try:
        url = db.url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{relay.port}/")
        assert url != db.url
        settings = settings_for(tmp_path, url, sandbox, worker_enabled=False)
        creds = bootstrap(settings)
        with private_service(settings, creds) as service:
            env = service.new_environment("unreachable")
            sender, _ = messaging_sender(service, env, sandbox)
            reads = {
                "get one sender": lambda: service.get(service.senders_path(env, sender["id"])),
                "list senders": lambda: service.get(service.senders_path(env)),
                "list notifications": lambda: service.get(f"/v1/environments/{env}/notifications"),
                "token": lambda: httpx.post(
                    f"{service.base}/{creds.environment_id}/as/token",
                    data={"grant_type": "client_credentials"},
                    auth=(creds.client_id, creds.client_secret),
                ),
            }
            assert {name: read().status_code for name, read in reads.items()} == dict.fromkeys(reads, 200)
            relay.cut()
            for name, read in reads.items():
                response = read()
                body = assert_pingone_error(response, 503, "REQUEST_FAILED")
                assert body["details"][0]["code"] == "SERVICE_UNAVAILABLE", (name, body)
                assert body["message"].startswith("The database cannot serve this request right now: "), (name, body)
            relay.start()
            time.sleep(IDLE_BEFORE_PING + 0.2)
            assert {name: read().status_code for name, read in reads.items()} == dict.fromkeys(reads, 200)
    finally:
        relay.cut()
        drop_postgres_database(db)
