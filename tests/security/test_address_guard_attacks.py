"""Hole 7: the address guard refuses only what is certainly bad at save, and checks every
connection, ``url`` and ``authUrl`` alike, connecting only to the address it checked.

A resolver is injected (no test here looks up a real name). The test's address policy treats
127.0.0.1 (where the sandbox listens) as public and everything else as production does; a trap
server listens on 127.0.0.2, at the sandbox's port: any request it receives went to an address
that was refused, or that nobody checked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phone_delivery.providers.address_guard import AddressGuard, HostNotFound, address_problem
from phone_delivery.providers.aiohttp_transport import BlockedDestination
from phone_delivery.providers.http import build_http_client
from tests.conftest import Stack
from tests.security.conftest import OwnService, own_service, restarted
from tests.security.gateway import Gateway, custom_sender, oauth_client
from tests.security.raw_gateway import RawGateway
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail, wait_final

SANDBOX_ADDRESS, TRAP_ADDRESS = "127.0.0.1", "127.0.0.2"


class ScriptedResolver:
    """Answers each host from a list of answers, one per lookup (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str] | None]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        script = self.answers.get(host)
        if not script:
            raise HostNotFound(f"The host {host} does not resolve (no such name).")
        answer = script.pop(0) if len(script) > 1 else script[0]
        if answer is None:
            raise HostNotFound(f"The host {host} does not resolve (no such name).")
        return answer


def sandbox_is_public(address: str) -> str | None:
    return None if address == SANDBOX_ADDRESS else address_problem(address)


class PlainHttpGuard(AddressGuard):
    """The production guard, except that the test's plain-http sandbox counts as https at save."""

    def problem(self, url: str) -> str | None:
        return super().problem(url.replace("http://", "https://", 1))


def guard(resolver: ScriptedResolver) -> AddressGuard:
    return PlainHttpGuard(resolver=resolver, policy=sandbox_is_public)


@pytest.fixture
def trap(sandbox: SandboxAdmin) -> Iterator[RawGateway]:
    port = int(sandbox.base.rsplit(":", 1)[1])
    server = RawGateway(host=TRAP_ADDRESS, listen_port=port).start()
    yield server
    server.stop()


def port_of(sandbox: SandboxAdmin) -> int:
    return int(sandbox.base.rsplit(":", 1)[1])


def send_test_message(api: Api, env: str, sender_id: str) -> dict[str, Any]:
    response = api.post(
        f"{api.senders_path(env, sender_id)}/test", json={"deliveryMethod": "SMS", "to": "+14155552671"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


SAVE_SPELLINGS = [
    "https://2130706433/sms?to=${to}&m=${message}",
    "https://0x7f.1/sms?to=${to}&m=${message}",
    "https://0177.0.0.1/sms?to=${to}&m=${message}",
    "https://127.1/sms?to=${to}&m=${message}",
    "https://[::ffff:7f00:1]/sms?to=${to}&m=${message}",
    "https://[2002:a9fe:a9fe::]/latest/meta-data?to=${to}&m=${message}",
    "https://[64:ff9b::a9fe:a9fe]/latest/meta-data?to=${to}&m=${message}",
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/sms?to=${to}&m=${message}",
    "https://0xa9fea9fe/latest/meta-data?to=${to}&m=${message}",
    "https://localhost./sms?to=${to}&m=${message}",
    "https://metadata.localhost/sms?to=${to}&m=${message}",
    "https://127\u30020\u30020\u30021/sms?to=${to}&m=${message}",
    "https://169\uff0e254\uff0e169\uff0e254/latest/meta-data?to=${to}&m=${message}",
]


@pytest.mark.parametrize("url", SAVE_SPELLINGS)
def test_addresses_in_strange_spellings_are_refused_at_save(admin_api: Api, env: str, url: str) -> None:
    body = custom_sender(url, {"method": "BEARER", "authToken": "t"})
    body["requests"] = [{"deliveryMethod": "SMS", "method": "GET", "url": url}]
    problem = detail(
        assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA"),
        "INVALID_VALUE",
        "requests[0].url",
    )
    assert "refused" in problem["message"]
    auth = {"method": "OAUTH2", "authUrl": url.split("?")[0], "clientId": "c", "clientSecret": "s"}
    body = custom_sender("https://93.184.216.34/sms", auth)
    response = admin_api.post(admin_api.senders_path(env), json=body)
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authentication.authUrl")


def test_a_name_that_does_not_resolve_yet_is_accepted_and_a_send_fails_clearly(
    stack: Stack, sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    resolver = ScriptedResolver({})
    with own_service(stack, sandbox, tmp_path, address_guard=guard(resolver)) as service:
        api = service.api()
        env = api.new_environment("offline")
        created = api.post(
            api.senders_path(env),
            json=custom_sender("https://sms-gateway.corp.example/send", {"method": "BEARER", "authToken": "t"}),
        )
        assert created.status_code == 201, created.text  # offline installations can configure it
        assert resolver.lookups == []  # saving never looks a name up
        sender_id = created.json()["id"]
        result = send_test_message(api, env, sender_id)
        assert result["status"] == "FAILED" and "does not resolve" in result["error"]["message"], result

        api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender_id]})
        sent = api.post(
            f"/v1/environments/{env}/notifications",
            json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "hi"},
        )
        done = wait_final(api, env, sent.json()["id"])
        assert done["status"] == "FAILED", done
        [attempt] = done["attempts"]  # a sender failure: no retries of the same lookup, no failover to Ping's Twilio
        assert attempt["outcome"] == "FAILED_SENDER" and "does not resolve" in attempt["errorMessage"], attempt


def test_dns_rebinding_cannot_move_a_checked_connection(
    stack: Stack, sandbox: SandboxAdmin, trap: RawGateway, tmp_path: Path
) -> None:
    """The name answers the sandbox first and the trap on every later lookup. A guard that checked
    one answer and then let the HTTP client look the name up again would send to the trap."""
    host = "gw.rebind.test"
    resolver = ScriptedResolver({host: [[SANDBOX_ADDRESS], [TRAP_ADDRESS]]})
    gateway = Gateway.new(sandbox)
    url = f"http://{host}:{port_of(sandbox)}{gateway.path}"
    with own_service(stack, sandbox, tmp_path, address_guard=guard(resolver)) as service:
        api = service.api()
        env = api.new_environment("rebinding")
        sender = api.post(api.senders_path(env), json=custom_sender(url, {"method": "BEARER", "authToken": "t"}))
        assert sender.status_code == 201, sender.text
        for _ in range(3):
            assert send_test_message(api, env, sender.json()["id"])["status"] == "SENT"
        assert len(gateway.received()) == 3
        assert resolver.lookups == [host]  # one lookup: the pooled connection to the checked address
        with restarted(service, guard(resolver)) as again:
            result = send_test_message(again.api(), env, sender.json()["id"])
        assert result["status"] == "FAILED" and "refused" in result["error"]["message"], result
        assert TRAP_ADDRESS in result["error"]["message"]
    assert trap.requests == [] and trap.raw == {}
    assert len(gateway.received()) == 3


def test_one_refused_address_in_an_answer_refuses_the_connection(
    stack: Stack, sandbox: SandboxAdmin, trap: RawGateway, tmp_path: Path
) -> None:
    host = "gw.mixed.test"
    resolver = ScriptedResolver({host: [[SANDBOX_ADDRESS, TRAP_ADDRESS]]})
    gateway = Gateway.new(sandbox)
    with own_service(stack, sandbox, tmp_path, address_guard=guard(resolver)) as service:
        api = service.api()
        env = api.new_environment("mixed")
        url = f"http://{host}:{port_of(sandbox)}{gateway.path}"
        sender = api.post(api.senders_path(env), json=custom_sender(url, {"method": "BEARER", "authToken": "t"}))
        result = send_test_message(api, env, sender.json()["id"])
    assert result["status"] == "FAILED" and TRAP_ADDRESS in result["error"]["message"], result
    assert gateway.received() == [] and trap.raw == {}


def test_the_oauth2_token_url_is_checked_at_every_connection(
    stack: Stack, sandbox: SandboxAdmin, trap: RawGateway, tmp_path: Path
) -> None:
    auth_host = "auth.rebind.test"
    resolver = ScriptedResolver({auth_host: [[SANDBOX_ADDRESS], [TRAP_ADDRESS]]})
    client = oauth_client(sandbox)
    gateway = Gateway.new(sandbox)
    auth = {
        "method": "OAUTH2",
        "authUrl": f"http://{auth_host}:{port_of(sandbox)}/oauth/token",
        "clientId": client["clientId"],
        "clientSecret": client["clientSecret"],
    }
    allowed = sandbox.base.removeprefix("http://")
    with own_service(stack, sandbox, tmp_path, address_guard=guard_allowing(resolver, allowed)) as service:
        api = service.api()
        env = api.new_environment("oauth rebinding")
        created = api.post(api.senders_path(env), json=custom_sender(gateway.url, auth))
        assert created.status_code == 201, created.text  # the token was fetched from the checked address
        service_again: OwnService
        with restarted(service, guard_allowing(resolver, allowed)) as service_again:
            result = send_test_message(service_again.api(), env, created.json()["id"])
    assert result["status"] == "FAILED" and TRAP_ADDRESS in result["error"]["message"], result
    assert gateway.received() == [] and trap.raw == {}


def guard_allowing(resolver: ScriptedResolver, allowed: str) -> AddressGuard:
    return PlainHttpGuard(allowed_hosts=[allowed], resolver=resolver, policy=sandbox_is_public)


def test_no_lookup_for_an_unknown_sender_id(admin_api: Api, env: str) -> None:
    response = admin_api.post(
        f"{admin_api.senders_path(env, str(uuid.uuid4()))}/test", json={"deliveryMethod": "SMS", "to": "+14155552671"}
    )
    assert_pingone_error(response, 404, "NOT_FOUND")


def test_an_ip_literal_is_checked_at_connect_too(sandbox: SandboxAdmin) -> None:
    """The connector does not resolve an IP literal, so the transport checks it: a configuration
    that names a refused address (saved by an older version, or spelled in a way the save-time check
    missed) never connects."""
    gateway = RawGateway().start()  # listens on 127.0.0.1
    try:

        async def call() -> Exception | None:
            client = build_http_client(2.0, guard=AddressGuard())
            try:
                await client.get(f"{gateway.base}/x")
            except BlockedDestination as exc:
                return exc
            finally:
                await client.aclose()
            return None

        refused = asyncio.run(call())
        assert isinstance(refused, BlockedDestination) and "loopback" in refused.reason
        assert gateway.raw == {}
    finally:
        gateway.stop()
