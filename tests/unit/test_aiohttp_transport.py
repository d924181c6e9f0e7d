"""The provider HTTP client (httpx API over aiohttp's pool) against small real servers on loopback:
each kind of failure becomes the httpx error that ``providers/http_errors.py`` classifies."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httpx
import pytest

from phone_delivery.domain.errors import ProviderUnavailable
from phone_delivery.providers.aiohttp_transport import AiohttpTransport
from phone_delivery.providers.http import build_http_client
from phone_delivery.providers.http_errors import exchange

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/send"


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return head + await reader.readexactly(length)


def _run(handler: Handler, call: Callable[[httpx.AsyncClient, str], Awaitable[object]]) -> object:
    async def scenario() -> object:
        server, url = await _serve(handler)
        client = build_http_client(0.5)
        try:
            return await call(client, url)
        finally:
            await client.aclose()
            server.close()

    return asyncio.run(scenario())


def test_answers_arrive_whole_with_status_headers_and_body() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        writer.write(b'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"sid":"x"}')
        await writer.drain()
        writer.close()

    response = _run(handler, lambda c, url: c.post(url, data={"To": "+1"}, auth=("user", "pw")))
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.json()) == (201, {"sid": "x"})
    request = seen[0].decode()
    assert request.startswith("POST /send HTTP/1.1\r\n")
    assert "Content-Type: application/x-www-form-urlencoded" in request.replace("content-type", "Content-Type")
    assert request.endswith("\r\n\r\nTo=%2B1")
    assert "Authorization: Basic dXNlcjpwdw==" in request.replace("authorization", "Authorization")


def test_a_silent_server_is_a_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(2)

    async def call(client: httpx.AsyncClient, url: str) -> ProviderUnavailable:
        with pytest.raises(ProviderUnavailable) as caught:
            await exchange("Twilio", client.post(url, data={"a": "b"}))
        return caught.value

    error = _run(handler, call)
    assert isinstance(error, ProviderUnavailable) and error.timed_out


def test_a_dropped_connection_is_unavailable_but_no_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    async def call(client: httpx.AsyncClient, url: str) -> ProviderUnavailable:
        with pytest.raises(ProviderUnavailable) as caught:
            await exchange("Twilio", client.post(url, data={"a": "b"}))
        return caught.value

    error = _run(handler, call)
    assert isinstance(error, ProviderUnavailable) and not error.timed_out


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        client = build_http_client(0.5)
        try:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{port}/")
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_an_answer_over_the_size_cap_is_a_read_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        server, url = await _serve(handler)
        client = httpx.AsyncClient(transport=AiohttpTransport(httpx.Limits(max_connections=4), max_response_bytes=1000))
        try:
            with pytest.raises(httpx.ReadError, match="larger than 1000 bytes"):
                await client.get(url)
        finally:
            await client.aclose()
            server.close()

    asyncio.run(scenario())


def test_cookies_a_provider_sets_are_never_sent_back() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: session=tenant-a; Path=/\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    async def call(client: httpx.AsyncClient, url: str) -> None:
        await client.get(url)
        await client.get(url)

    _run(handler, call)
    assert len(seen) == 2
    assert all(b"cookie:" not in request.lower() for request in seen)


def test_no_cookie_can_be_put_in_the_jar_every_provider_client_shares() -> None:
    first, second = build_http_client(5), build_http_client(5)
    with pytest.raises(TypeError):
        first.cookies.set("session", "tenant-a")
    with pytest.raises(TypeError):
        first.cookies["session"] = "tenant-a"
    with pytest.raises(TypeError):
        first.cookies.update({"session": "tenant-a"})
    with pytest.raises(TypeError):
        first.cookies = {"session": "tenant-a"}
    assert not second.cookies and list(second.cookies.jar) == []
