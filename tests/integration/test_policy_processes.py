"""Quotas and cooldowns are exact across OS processes: two `phone-delivery serve` processes (each
with its API, group commit and worker) and the test's own server, on one database, take 200
concurrent sends between them. With a USER quota of N exactly N are accepted; with a cooldown,
exactly one send to the number goes out. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from phone_delivery.settings import Settings
from tests.conftest import Stack
from tests.integration.test_delivery import unique_number
from tests.integration.test_notification_policies import policies_path
from tests.integration.test_policy_concurrency import REQUESTS, _burst
from tests.integration.test_policy_cooldowns import cooldowns
from tests.integration.test_policy_enforcement import german_number, queued_to, rejected, set_default
from tests.support import Api, free_port, wait_drained

PROCESSES = 2


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that configure a process as ``settings`` are."""
    env = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"PHONE_DELIVERY_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


@pytest.fixture
def servers(stack: Stack, tmp_path: Path) -> Iterator[list[str]]:
    """Two more API processes on the stack's database and keys (its tokens are theirs)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
    processes, bases = [], []
    try:
        for index in range(PROCESSES):
            port = free_port()
            log = (tmp_path / f"serve-{index}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "phone_delivery", "serve", "--port", str(port)],
                    env={**clean, **settings_env(stack.settings), "PHONE_DELIVERY_LOG_LEVEL": "WARNING"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base, process in zip(bases, processes, strict=True):
            _wait_ready(base, process)
        yield [stack.url, *bases]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    for index in range(PROCESSES):
        assert "Traceback" not in (tmp_path / f"serve-{index}.log").read_text()


def _wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited with {process.returncode}"
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{base} did not become ready")


def _statuses(responses: list[httpx.Response]) -> dict[int, int]:
    codes = [r.status_code for r in responses]
    return {code: codes.count(code) for code in sorted(set(codes))}


def test_a_quota_holds_across_processes(stack: Stack, admin_api: Api, env: str, servers: list[str]) -> None:
    limit = 7
    policy = set_default(admin_api, env, quotas=[{"type": "USER", "deliveryMethods": ["SMS"], "total": limit}])
    # numbers of their own range: the sandbox inbox is shared, and other tests count theirs in +1415555
    numbers = [f"+1628555{i:04d}" for i in random.sample(range(10_000), REQUESTS)]
    bodies: list[dict[str, Any]] = [
        {"deliveryMethod": "SMS", "to": to, "message": "m", "user": {"id": "one-user"}} for to in numbers
    ]
    responses = asyncio.run(_burst(servers, env, admin_api.token, bodies))
    assert _statuses(responses) == {202: limit, 429: REQUESTS - limit}
    accepted = {r.json()["to"] for r in responses if r.status_code == 202}
    assert sum(len(queued_to(admin_api, env, to)) for to in accepted) == limit
    assert len(rejected(admin_api, env)) == REQUESTS - limit
    usage = admin_api.get(policies_path(env, policy["id"]) + "/usage", params={"user.id": "one-user"}).json()
    assert usage["quotas"][0]["subject"] == {"user": {"id": "one-user"}, "used": limit, "remaining": 0}
    wait_drained(admin_api, env)  # delivered before the extra processes (and their leases) go


def test_a_cooldown_holds_across_processes(stack: Stack, admin_api: Api, env: str, servers: list[str]) -> None:
    set_default(admin_api, env, cooldownConfiguration=cooldowns(resend_limit=2))
    to = unique_number()
    bodies: list[dict[str, Any]] = [{"deliveryMethod": "SMS", "to": to, "message": f"m{i}"} for i in range(REQUESTS)]
    responses = asyncio.run(_burst(servers, env, admin_api.token, bodies))
    # the first send starts the series; every other one comes before its 30-second wait is over
    assert _statuses(responses) == {202: 1, 429: REQUESTS - 1}
    assert {r.json()["details"][0]["code"] for r in responses if r.status_code == 429} == {"LIMIT_EXCEEDED"}
    assert len(queued_to(admin_api, env, to)) == 1
    wait_drained(admin_api, env)


def kept_send_contexts(base: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    found = re.search(r'^phone_delivery_send_contexts_total\{source="kept"\} (\S+)$', text, re.M)
    assert found is not None, "no phone_delivery_send_contexts_total"
    return float(found.group(1))


def test_a_policy_change_reaches_a_process_that_kept_the_old_one(
    stack: Stack, admin_api: Api, env: str, servers: list[str]
) -> None:
    """Another process that has just sent under the old policy, and keeps the send's context,
    applies the new one within moments of the change (on SQLite at its very next send: the version
    the change moved is read before each), and from then on every time."""
    other = Api(servers[1], admin_api.creds)

    def to_germany() -> httpx.Response:
        body = {"deliveryMethod": "SMS", "to": german_number(), "message": "m"}
        return other.post(f"/v1/environments/{env}/notifications", json=body)

    assert all(to_germany().status_code == 202 for _ in range(5))
    for _ in range(20):  # the other process really answers from what it kept
        if kept_send_contexts(servers[1]) > 0:
            break
        assert to_germany().status_code == 202
    assert kept_send_contexts(servers[1]) > 0
    set_default(admin_api, env, countryLimit={"type": "ALLOWED", "countries": ["US"]})
    if stack.backend == "sqlite":
        assert to_germany().status_code == 400
    changed = time.monotonic()
    while (status := to_germany().status_code) == 202:
        assert time.monotonic() - changed < 1.0, "the other process still sends under the old policy"
    assert status == 400
    assert {to_germany().status_code for _ in range(20)} == {400}
    wait_drained(admin_api, env)
