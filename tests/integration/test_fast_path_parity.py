"""The hot routes (``api/fast_path.py``) answer exactly as the FastAPI declarations that document them
would: the same requests, good and bad, sent to the whole app and to its FastAPI app alone (two
servers on one database) get the same status and body (error ids aside)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phone_delivery.app import create_app
from tests.integration.test_delivery import chain, messaging_sender
from tests.support import Api, SandboxAdmin, bootstrap, free_port, serving, settings_for

ABSENT = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def pair(sandbox: SandboxAdmin, tmp_path: Path, database_url: str) -> Iterator[tuple[Api, Api, str]]:
    """(whole app, FastAPI alone, environment); one public base, so tokens work on both."""
    port = free_port()
    settings = settings_for(
        tmp_path, database_url, sandbox, public_base_url=f"http://127.0.0.1:{port}", worker_enabled=False
    )
    creds = bootstrap(settings)
    declared = create_app(settings).app.app  # ObservabilityMiddleware -> FastPathApp -> FastAPI
    with serving(create_app(settings), port=port) as fast, serving(declared) as slow:
        api = Api(fast.url, creds)
        env = api.new_environment("parity")
        sender, _ = messaging_sender(api, env, sandbox)
        chain(api, env, sender["id"])
        for i in range(3):
            sent = api.post(
                f"/v1/environments/{env}/notifications",
                json={"deliveryMethod": "SMS", "to": f"+1415555{i:04d}", "message": "m"},
            )
            assert sent.status_code == 202, sent.text
        other = Api(slow.url, creds)
        other.token = api.token
        yield api, other, env


def _comparable(response: Any) -> tuple[int, Any]:
    """Status and body, with any server base as BASE (a page's own links follow the request's
    address); an error's id is new each time."""
    body = json.loads(re.sub(r"http://127\.0\.0\.1:\d+", "BASE", response.text))
    if isinstance(body, dict) and "code" in body:
        body.pop("id", None)
    return response.status_code, body


QUERIES = [
    "",
    "?limit=2",
    "?limit=0",
    "?limit=abc",
    "?limit=1000",
    "?limit=1001",
    "?limit=1",
    "?limit=",
    "?limit=1.5",
    "?limit=2&limit=x",
    "?limit=x&limit=2",
    "?status=QUEUED,sent",
    "?status=BOGUS",
    "?to=%2B14155550001",
    "?to=abc",
    "?sender=PINGONE_TWILIO",
    "?sender=x",
    f"?sender={ABSENT}",
    "?deliveryMethod=VOICE",
    "?deliveryMethod=EMAIL",
    "?since=2020-01-01T00:00:00Z&until=2999-01-01T00:00:00Z",
    "?since=yesterday",
    "?cursor=zzz",
    "?unknown=1",
    # attacks: NUL, CR/LF, non-ASCII, a huge number, a huge value
    "?to=%2B1415%00",
    "?status=SENT%0d%0aX-Injected:%201",
    "?sender=%C3%A9",
    "?limit=" + "9" * 5000,
    "?cursor=" + "A" * 20000,
]


def test_list_notifications_answers_alike(pair: tuple[Api, Api, str]) -> None:
    fast, slow, env = pair
    paths = [f"/v1/environments/{env}/notifications{q}" for q in QUERIES]
    paths += [f"/v1/environments/{ABSENT}/notifications", "/v1/environments/nope/notifications?limit=0"]
    first = fast.get(f"/v1/environments/{env}/notifications", params={"limit": 1}).json()
    paths.append(first["_links"]["next"]["href"].split("/", 3)[3].join(["/", ""]))  # the second page, by cursor
    paths.append(f"/v1/environments/{ABSENT}/notifications?cursor=zzz")  # 404 before the cursor's 400
    for path in paths:
        answer = _comparable(fast.get(path))
        assert answer[0] < 500, (path, answer)
        assert answer == _comparable(slow.get(path)), path
    for path in paths[:1]:
        assert fast.request("HEAD", path).status_code == slow.request("HEAD", path).status_code == 405


def test_sender_reads_answer_alike(pair: tuple[Api, Api, str]) -> None:
    fast, slow, env = pair
    senders = fast.senders_path(env)
    one = fast.get(senders).json()["_embedded"]["phoneDeliverySettings"][0]["id"]
    for path in [senders, f"{senders}/{one}", f"{senders}/{ABSENT}", f"{senders}/x", fast.senders_path(ABSENT)]:
        assert _comparable(fast.get(path)) == _comparable(slow.get(path)), path
    for path in [senders, f"{senders}/{one}"]:
        assert fast.request("HEAD", path).status_code == slow.request("HEAD", path).status_code == 405, path
    for path in [senders, fast.senders_path(ABSENT)]:  # no token, and a token of no role here
        assert _comparable(fast.http.get(path)) == _comparable(slow.http.get(path)), path
