"""PostgreSQL drops the service's connections (a restart, a failover, an idle timeout): after a
second of quiet every read and write works again at the first try, with no 503. The pool checks a
connection that sat idle before handing it out (``store/database.py``, ``_ping_when_idle``), not
every checkout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

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
from tests.support import Api, SandboxAdmin, bootstrap, private_service, settings_for


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
