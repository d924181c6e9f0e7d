"""An httpx transport that moves the bytes through aiohttp's connection pool.

Providers keep speaking httpx's API (requests, responses, errors); only the pool underneath changes.
httpx's own pool checks the socket of every pooled connection on each request, so its cost per
request grows with the number of connections in use: against the sandbox on this 2-core machine,
httpx gave 194 requests/s at 64 concurrent sends where this transport gave over 2,000 (see
docs/benchmarks.md, "Provider HTTP client").

aiohttp's errors become httpx's, so ``providers/http_errors.py`` keeps one view of failures: a
refused connection is a ``ConnectError``, a connect timeout a ``ConnectTimeout``, a read timeout a
``ReadTimeout``, a dropped connection a ``RemoteProtocolError``; a destination the address guard
refuses, or a host that does not exist, is a ``BlockedDestination`` (a ``ConnectError`` that says
why). Answers are read whole, up to ``max_response_bytes`` (provider answers are small; a larger
one is a ``ReadError``).

Framing is this transport's alone: framing, routing and hop-by-hop headers (``Content-Length``,
``Transfer-Encoding``, ``Connection``, ``Host``, ...) are dropped from every request and aiohttp
writes its own from the URL and the body, so no request can end early or carry a second one over a
pooled connection whatever headers a caller put on it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import httpx

from phone_delivery.domain.http_headers import is_framing_header
from phone_delivery.providers.address_guard import AddressGuard, DestinationRefused, HostNotFound, literal_address
from phone_delivery.providers.pinned_resolver import PinnedResolver

MAX_RESPONSE_BYTES = 1024 * 1024


class BlockedDestination(httpx.ConnectError):
    """The request was not sent and trying again will not help: the host does not resolve, resolves
    to a refused address, or the URL or a header cannot be sent. ``reason`` says which."""

    def __init__(self, reason: str, *, request: httpx.Request) -> None:
        super().__init__(reason, request=request)
        self.reason = reason


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except (DestinationRefused, HostNotFound) as exc:
        raise BlockedDestination(exc.reason, request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, DestinationRefused | HostNotFound):
            raise BlockedDestination(exc.os_error.reason, request=request) from exc
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.InvalidURL as exc:  # not the URL itself in the message: its query may hold a key
        raise BlockedDestination("The URL cannot be used: the HTTP client refused its host.", request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.NetworkError(str(exc) or type(exc).__name__, request=request) from exc
    except ValueError as exc:  # aiohttp refusing a header or a host name it cannot encode
        raise BlockedDestination(f"The request cannot be sent ({type(exc).__name__}).", request=request) from exc


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        guard: AddressGuard | None = None,
    ) -> None:
        """With ``guard``, every connection resolves through it (``pinned_resolver.py``): for URLs that
        tenants supply. Without, the system resolver: for the operator's own provider hosts."""
        self._limits = limits
        self._ssl = ssl_context or httpx.create_ssl_context()
        self._max_response_bytes = max_response_bytes
        self._guard = guard
        self._session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            limit = self._limits.max_connections or 0
            keepalive = self._limits.keepalive_expiry or 0
            if self._guard is None:
                connector = aiohttp.TCPConnector(limit=limit, keepalive_timeout=keepalive, ssl=self._ssl)
            else:  # each new connection resolves once, through the guard, and connects to what it checked
                connector = aiohttp.TCPConnector(
                    limit=limit,
                    keepalive_timeout=keepalive,
                    ssl=self._ssl,
                    resolver=PinnedResolver(self._guard),
                    use_dns_cache=False,
                )
            # Cookies and redirects stay httpx's business; aiohttp keeps no state between requests.
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        with _httpx_errors(request):
            if self._guard is not None:
                await self._check_literal(request)
            async with self._open_session().request(
                request.method,
                str(request.url),
                headers=[(k, v) for k, v in request.headers.multi_items() if not is_framing_header(k)],
                data=body or None,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes Content-Encoding itself
                skip_auto_headers=("Content-Type",),  # never add one the request did not have
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            ) as response:
                content = await self._read(response, request)
                return httpx.Response(
                    status_code=response.status,
                    headers=list(response.raw_headers),
                    stream=httpx.ByteStream(content),
                    request=request,
                    extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
                )

    async def _check_literal(self, request: httpx.Request) -> None:
        """aiohttp connects to an IP literal without asking the resolver: check it here, so the guard
        sees every connection, names and addresses alike."""
        assert self._guard is not None
        host = request.url.raw_host.decode("ascii")
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        if literal_address(host) is not None:
            await self._guard.resolve(host, port)  # checks the literal; raises DestinationRefused

    async def _read(self, response: aiohttp.ClientResponse, request: httpx.Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self._max_response_bytes:
                raise httpx.ReadError(f"the answer is larger than {self._max_response_bytes} bytes", request=request)
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
