"""The sandbox's admin API and inbox page are not an open door: loopback clients by default; others
only with the dev credentials (dev mode bound to another interface); never a page of another site."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from phone_delivery.sandbox.app import create_sandbox_app
from phone_delivery.sandbox.dev_state import DevSandboxState
from phone_delivery.sandbox.state import SandboxState
from tests.inbox_support import served, sms

DEV_SID, DEV_TOKEN = "AC" + "d" * 32, "e" * 32
GUARDED = [
    ("GET", "/_admin/inbox"),
    ("GET", "/_admin/inbox/latest?to=%2B14155550100"),
    ("DELETE", "/_admin/inbox"),
    ("POST", "/_admin/reset"),
    ("GET", "/_admin/requests"),
    ("POST", "/_admin/accounts"),
    ("GET", "/inbox"),
    ("GET", "/inbox/1"),
    ("GET", "/inbox/events"),
    ("GET", "/inbox/assets/inbox.js"),
]


def dev_state() -> DevSandboxState:
    def seed(state: SandboxState) -> None:
        state.add_account(DEV_SID, DEV_TOKEN, "Dev sandbox account")

    state = DevSandboxState(seed=seed, admin_credentials=(DEV_SID, DEV_TOKEN))
    state.deliver(sms("+14155550100", "Your code is 864209"))
    return state


def call(state: SandboxState, method: str, path: str, client: tuple[str, int], **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_sandbox_app(state), client=client)
        async with httpx.AsyncClient(transport=transport, base_url=kwargs.pop("base", "http://127.0.0.1:8000")) as c:
            return await c.request(method, path, **kwargs)

    return asyncio.run(go())


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_other_clients_need_the_dev_credentials(method: str, path: str) -> None:
    state = dev_state()
    denied = call(state, method, path, ("10.0.0.5", 1234))
    assert denied.status_code == 401
    assert "dev credentials" in denied.json()["error"]
    assert denied.headers["www-authenticate"].startswith('Basic realm="phone-delivery sandbox admin"')
    wrong = call(state, method, path, ("10.0.0.5", 1234), auth=(DEV_SID, "not-the-token"))
    assert wrong.status_code == 401
    assert "864209" not in denied.text + wrong.text
    if path != "/inbox/events":  # a stream that never ends through this transport: the guard is what matters
        allowed = call(state, method, path, ("10.0.0.5", 1234), auth=(DEV_SID, DEV_TOKEN), json={})
        assert allowed.status_code not in (401, 403), allowed.text


@pytest.mark.parametrize("client", [("127.0.0.1", 5000), ("127.8.9.10", 5000), ("::1", 5000), ("::ffff:127.0.0.1", 1)])
def test_loopback_clients_need_nothing(client: tuple[str, int]) -> None:
    response = call(dev_state(), "GET", "/_admin/inbox", client)
    assert response.status_code == 200
    assert response.json()["messages"][0]["code"] == "864209"


def test_a_sandbox_without_credentials_answers_only_loopback() -> None:
    state = SandboxState()
    state.deliver(sms("+14155550100", "Your code is 864209"))
    for client in (("10.0.0.5", 1234), ("192.168.1.20", 80), ("2001:db8::1", 1)):
        denied = call(state, "GET", "/_admin/inbox", client, auth=("anyone", "anything"))
        assert denied.status_code == 403
        assert "only loopback clients" in denied.json()["error"]
        assert call(state, "GET", "/inbox", client).status_code == 403
    assert call(state, "GET", "/_admin/inbox", ("127.0.0.1", 1)).status_code == 200


def test_the_twilio_api_is_not_behind_the_admin_guard() -> None:
    response = call(dev_state(), "GET", "/twilio-messaging/v1/Services", ("10.0.0.5", 1), auth=(DEV_SID, DEV_TOKEN))
    assert response.status_code == 200  # Twilio's own auth applies there, from anywhere


def test_a_name_rebound_to_loopback_is_not_loopback() -> None:
    """A page of evil.example whose name now resolves to 127.0.0.1 reaches the sandbox from loopback."""
    state = dev_state()
    rebound = call(state, "GET", "/_admin/inbox", ("127.0.0.1", 1), base="http://evil.example:8000")
    assert rebound.status_code == 401
    for host in ("http://localhost:8000", "http://app.localhost:8000", "http://[::1]:8000"):
        assert call(state, "GET", "/_admin/inbox", ("127.0.0.1", 1), base=host).status_code == 200
    assert call(SandboxState(), "GET", "/inbox", ("127.0.0.1", 1), base="http://evil.example").status_code == 403


def test_changes_sent_by_another_site_are_refused() -> None:
    state = dev_state()
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:3000"},  # another local app is another origin too
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        refused = call(state, "DELETE", "/_admin/inbox", ("127.0.0.1", 1), headers=headers)
        assert refused.status_code == 403, headers
        assert call(state, "POST", "/_admin/reset", ("127.0.0.1", 1), headers=headers).status_code == 403
    assert len(state.inbox.snapshot()) == 1
    same = call(state, "DELETE", "/_admin/inbox", ("127.0.0.1", 1), headers={"Origin": "http://127.0.0.1:8000"})
    assert same.status_code == 204  # the inbox page's own Clear button
    assert state.inbox.snapshot() == []


def test_over_real_http_on_loopback() -> None:
    with served(dev_state()) as box:
        assert box.http.get("/_admin/inbox").status_code == 200
        assert box.http.get("/inbox").status_code == 200
        assert box.http.get("/inbox", headers={"Host": "rebound.example"}).status_code == 401
