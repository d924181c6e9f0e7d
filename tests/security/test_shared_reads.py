"""Requests that miss a kept value together share one read (``single_flight``), and a change is
never hidden by a read that began before it.

Each test slows ``Database.read`` for the reads it is about, outside the read itself (SQLite's
inline reads must not yield inside one), so that the requests of a burst really overlap. The effect
is counted where it happens: the repository reads the service makes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from phone_delivery.store.database import Database
from phone_delivery.store.environments_repo import ApplicationRepository
from phone_delivery.store.senders_repo import SenderRepository
from tests.security.conftest import OwnService
from tests.security.tenants import messaging_service_sender, new_tenant
from tests.support import Api, SandboxAdmin, wait_drained

BURST = 32


class SlowReads:
    """``Database.read`` waits ``before`` seconds before a read, and ``after`` seconds after it has
    ended, while switched on; the repository reads named in ``count`` are counted by their key."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.before = 0.0
        self.after = 0.0
        self.reads: Counter[str] = Counter()
        original_read = Database.read

        @asynccontextmanager
        async def read(database: Database) -> AsyncIterator[Any]:
            before, after = self.before, self.after
            if before:
                await asyncio.sleep(before)
            async with original_read(database) as conn:
                yield conn
            if after:
                await asyncio.sleep(after)

        original_find = ApplicationRepository.find_for_token
        original_get = SenderRepository.get
        original_public = SenderRepository.get_public

        async def find_for_token(repo: ApplicationRepository, client_id: str) -> Any:
            self.reads[f"application {client_id}"] += 1
            return await original_find(repo, client_id)

        async def get(repo: SenderRepository, environment_id: str, sender_id: str) -> Any:
            self.reads[f"sender {sender_id}"] += 1
            return await original_get(repo, environment_id, sender_id)

        async def get_public(repo: SenderRepository, environment_id: str, sender_id: str) -> Any:
            self.reads[f"sender methods {sender_id}"] += 1
            return await original_public(repo, environment_id, sender_id)

        monkeypatch.setattr(Database, "read", read)
        monkeypatch.setattr(ApplicationRepository, "find_for_token", find_for_token)
        monkeypatch.setattr(SenderRepository, "get", get)
        monkeypatch.setattr(SenderRepository, "get_public", get_public)


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> SlowReads:
    return SlowReads(monkeypatch)


async def burst(base: str, method: str, path: str, token: str, count: int, **kwargs: Any) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=count)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        return await asyncio.gather(*(client.request(method, path, headers=headers, **kwargs) for _ in range(count)))


def test_a_burst_of_requests_whose_caller_is_not_kept_reads_its_roles_once(fresh: OwnService, slow: SlowReads) -> None:
    tenant = new_tenant(fresh, fresh.api(), "burst")  # its token is new: no request has used it yet
    slow.before = 0.3
    answers = asyncio.run(burst(fresh.url, "GET", f"/v1/environments/{tenant.environment_id}", tenant.api.token, BURST))
    slow.before = 0.0
    assert [a.status_code for a in answers] == [200] * BURST
    # without the shared read: one read per request of the burst (32)
    assert slow.reads[f"application {tenant.creds.client_id}"] == 1


def test_a_request_after_disabling_an_application_does_not_share_a_read_begun_before(
    fresh: OwnService, slow: SlowReads
) -> None:
    admin = fresh.api()
    tenant = new_tenant(fresh, admin, "disabled-later")
    path = f"/v1/environments/{tenant.environment_id}"
    first: list[int] = []
    early_client = Api(fresh.url, tenant.creds)  # a client of its own for the other thread
    slow.after = 3.0  # the first request's read ends (the application enabled), then waits
    early = threading.Thread(target=lambda: first.append(early_client.get(path).status_code))
    early.start()
    deadline = time.monotonic() + 5
    while not slow.reads[f"application {tenant.creds.client_id}"] and time.monotonic() < deadline:
        time.sleep(0.01)
    slow.after = 0.0
    disabled = admin.put(
        f"/v1/environments/{tenant.environment_id}/applications/{tenant.creds.client_id}",
        json={"name": "disabled-later admin", "enabled": False},
    )
    assert disabled.status_code == 200, disabled.text
    # a request made after the change: its own read, not the one still waiting with "enabled"
    assert tenant.api.get(path).status_code == 401
    assert early.is_alive(), "the early read ended before the change: this run proves nothing"
    early.join(timeout=10)
    assert first == [200]  # it began before the change
    # what the early read saw is not kept either
    assert tenant.api.get(path).status_code == 401
    assert slow.reads[f"application {tenant.creds.client_id}"] >= 2


def test_a_burst_of_sends_reads_its_sender_once_to_accept_and_once_to_send(
    fresh: OwnService, sandbox: SandboxAdmin, slow: SlowReads
) -> None:
    api: Api = fresh.api()
    env = api.new_environment("shared sender reads")
    sender_id, account = messaging_service_sender(api, env, sandbox)
    chain = api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender_id]})
    assert chain.status_code == 200, chain.text
    before = Counter(slow.reads)  # the sender's own creation and replacement read it too
    slow.before = 0.3
    body = {"deliveryMethod": "SMS", "to": "+14155552671", "message": "shared read"}
    path = f"/v1/environments/{env}/notifications"
    answers = asyncio.run(burst(fresh.url, "POST", path, api.token, BURST, json=body))
    assert [a.status_code for a in answers] == [202] * BURST, answers[0].text
    wait_drained(api, env, seconds=60)
    slow.before = 0.0
    statuses = Counter(
        n["status"]
        for n in api.get(f"/v1/environments/{env}/notifications", params={"limit": 100}).json()["_embedded"][
            "notifications"
        ]
    )
    assert sum(statuses.values()) == BURST and set(statuses) <= {"SENT", "DELIVERED"}, statuses
    sends = [r for r in sandbox.requests(account["accountSid"]) if r["path"].endswith("/Messages.json")]
    assert len(sends) == BURST
    read = slow.reads - before
    # Without the shared reads: one read per accept (32), and one per send of the worker's first
    # claims. With them, one per moment a kept value is missing: one, or two should the 2 s a sender
    # is kept run out during the burst on a slow machine.
    assert 1 <= read[f"sender methods {sender_id}"] <= 2, read
    assert 1 <= read[f"sender {sender_id}"] <= 2, read
