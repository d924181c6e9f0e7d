"""A separate `phone-delivery worker` process beside the API on one SQLite file: the two processes
take turns on SQLite's write lock (each waits without blocking its event loop), and every
notification is sent exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from phone_delivery.app import create_app
from tests.integration.test_workers_postgres import FINAL, accept_many, deliveries, start_worker, wait_all_final
from tests.support import Api, SandboxAdmin, bootstrap, free_port, serving, sqlite_settings


@pytest.fixture
def sqlite_setup(sandbox: SandboxAdmin, tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    settings = sqlite_settings(tmp_path, sandbox, public_base_url=f"http://127.0.0.1:{port}", worker_enabled=False)
    creds = bootstrap(settings)
    with serving(create_app(settings), port=port) as server:
        api = Api(server.url, creds)
        env = api.new_environment("sqlite-worker")
        account = sandbox.account(services=1)
        sender = api.post(
            api.senders_path(env),
            json={
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
                "name": "ms",
                "sid": account["accountSid"],
                "authToken": account["authToken"],
            },
        ).json()
        services = [{**s, "selected": True} for s in sender["messagingServices"]]
        api.put(
            api.senders_path(env, sender["id"]),
            json={**sender, "authToken": account["authToken"], "messagingServices": services},
        )
        chain = {"smsProvidersFallbackChain": [sender["id"]]}
        assert api.put(f"/v1/environments/{env}/notificationsSettings", json=chain).status_code == 200
        db = SimpleNamespace(url=settings.resolved_database_url)  # what start_worker reads
        yield {"api": api, "env": env, "settings": settings, "db": db, "sandbox": sandbox, "tmp": tmp_path}


@pytest.mark.slow
def test_a_separate_worker_on_sqlite_sends_each_notification_once(sqlite_setup: dict[str, Any]) -> None:
    setup = sqlite_setup
    worker = start_worker(setup, lease=30)  # accepting and sending overlap: both processes write
    try:
        ids = accept_many(setup["api"], setup["env"], "400")
        result = wait_all_final(setup, ids, seconds=120)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert all(r["status"] in FINAL for r in result.values())
    assert all(r["outcomes"] == ["SENT"] for r in result.values())
    received = deliveries(setup["sandbox"])
    assert all(received[number] == 1 for number in ids.values())
