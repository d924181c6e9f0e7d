"""Hole 2: a tenant's request template must never frame requests, so it can never smuggle a second
request onto a pooled connection and capture another tenant's next request (credentials included).

Three layers, each tested by what a strict HTTP/1.1 parser (h11) saw on the wire:
- the API refuses framing and hop-by-hop headers in templates and as the custom header's name;
- the HTTP transport drops such headers whatever a caller passes, and frames every request itself;
- two tenants sending through one gateway over pooled connections each get exactly their own requests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phone_delivery.providers.http import build_http_client
from tests.conftest import Stack
from tests.security.conftest import own_service
from tests.security.gateway import custom_sender
from tests.security.raw_gateway import RawGateway
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail

FRAMING = [
    "Content-Length",
    "Transfer-Encoding",
    "transfer-encoding",
    "TRANSFER-ENCODING",
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Upgrade",
    "Host",
    "Proxy-Authorization",
    "Proxy-Connection",
]


@pytest.fixture
def raw_gateway() -> Iterator[RawGateway]:
    gateway = RawGateway().start()
    yield gateway
    gateway.stop()


def count_senders(api: Api, env: str) -> int:
    return int(api.get(api.senders_path(env)).json()["count"])


@pytest.mark.parametrize("header", FRAMING)
def test_templates_cannot_set_framing_headers(admin_api: Api, env: str, sandbox: SandboxAdmin, header: str) -> None:
    body = custom_sender(f"{sandbox.base}/gateway/x", {"method": "BEARER", "authToken": "t"})
    body["requests"][0]["headers"][header] = "chunked" if "transfer" in header.lower() else "5"
    response = admin_api.post(admin_api.senders_path(env), json=body)
    body = assert_pingone_error(response, 400, "INVALID_DATA")
    problem = detail(body, "INVALID_VALUE", f"requests[0].headers.{header}")
    assert header in problem["message"]
    assert count_senders(admin_api, env) == 0


@pytest.mark.parametrize("header", ["Transfer-Encoding", "Content-Length", "Host", "Connection"])
def test_the_custom_header_cannot_be_a_framing_header(
    admin_api: Api, env: str, sandbox: SandboxAdmin, header: str
) -> None:
    auth = {"method": "CUSTOM_HEADER", "headerName": header, "headerValue": "chunked"}
    response = admin_api.post(admin_api.senders_path(env), json=custom_sender(f"{sandbox.base}/gateway/x", auth))
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authentication.headerName")
    assert count_senders(admin_api, env) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Transfer-Encoding": "chunked"},
        {"Content-Length": "3"},
        {"Content-Length": "3", "Transfer-Encoding": "chunked"},
        {"Connection": "close, Content-Length"},
        {"Host": "other.example"},
    ],
)
def test_the_transport_frames_every_request_itself(raw_gateway: RawGateway, headers: dict[str, str]) -> None:
    """Even a caller that passes framing headers (a configuration saved by an older version) gets a
    request framed by the transport alone; the next request on the pooled connection, with its own
    credentials, arrives whole and separate."""
    smuggled = b"a=1&b=2\r\n\r\nPOST /captured HTTP/1.1\r\nContent-Length: 400\r\n\r\n"

    async def scenario() -> None:
        client = build_http_client(2.0)
        try:
            first = await client.post(f"{raw_gateway.base}/tenant-a", headers=headers, content=smuggled)
            second = await client.post(
                f"{raw_gateway.base}/tenant-b", headers={"Authorization": "Bearer tenant-b-secret"}, content=b"b=1"
            )
            assert (first.status_code, second.status_code) == (200, 200)
        finally:
            await client.aclose()

    asyncio.run(scenario())
    assert raw_gateway.errors == []
    assert [(r.target, r.body) for r in raw_gateway.requests] == [("/tenant-a", smuggled), ("/tenant-b", b"b=1")]
    a, b = raw_gateway.requests
    assert a.header("content-length") == [str(len(smuggled))] and a.header("transfer-encoding") == []
    assert a.header("host") == [f"127.0.0.1:{raw_gateway.port}"]
    assert a.header("authorization") == [] and b.header("authorization") == ["Bearer tenant-b-secret"]
    assert a.connection == b.connection  # the pooled connection really was shared, and stayed sound


def test_two_tenants_on_one_gateway_each_get_their_own_requests(
    stack: Stack, sandbox: SandboxAdmin, raw_gateway: RawGateway, tmp_path: Path
) -> None:
    allowed = f"{sandbox.base.removeprefix('http://')},127.0.0.1:{raw_gateway.port}"
    with own_service(stack, sandbox, tmp_path, allowed_private_hosts=allowed) as service:
        admin = service.api()
        tenants: dict[str, tuple[str, str]] = {}
        for name in ("a", "b"):
            env = admin.new_environment(f"tenant {name}")
            secret = f"secret-of-{name}-{uuid.uuid4().hex}"
            body: dict[str, Any] = custom_sender(
                f"{raw_gateway.base}/gw", {"method": "BEARER", "authToken": secret}, name=f"gw {name}"
            )
            body["requests"][0]["headers"]["X-Tenant"] = name
            body["requests"][0]["body"] = '{"tenant": "' + name + '", "to": "${to}", "text": "${message}"}'
            created = admin.post(admin.senders_path(env), json=body)
            assert created.status_code == 201, created.text
            tenants[name] = (env, secret)
            admin.put(
                f"/v1/environments/{env}/notificationsSettings",
                json={"smsProvidersFallbackChain": [created.json()["id"]]},
            )
        for _ in range(10):
            for name, (env, _) in tenants.items():
                response = admin.post(
                    f"/v1/environments/{env}/notifications",
                    json={"deliveryMethod": "SMS", "to": "+14155552671", "message": f"for {name}"},
                )
                assert response.status_code == 202, response.text
        deadline = asyncio.run(_wait_for(lambda: len(raw_gateway.requests) >= 20))
        assert deadline, len(raw_gateway.requests)
    assert raw_gateway.errors == []
    assert len(raw_gateway.requests) == 20
    for request in raw_gateway.requests:
        [tenant] = request.header("x-tenant")
        assert request.body.decode().startswith('{"tenant": "' + tenant + '"')
        assert request.header("authorization") == [f"Bearer {tenants[tenant][1]}"]
        assert request.header("content-length") == [str(len(request.body))]
        assert request.header("transfer-encoding") == []


async def _wait_for(condition: Any, seconds: float = 15) -> bool:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())
