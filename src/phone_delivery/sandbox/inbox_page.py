"""The inbox page (``{sandboxBase}/inbox``), like Mailpit for SMS: it follows the inbox live.

- ``/inbox`` (``q``, ``kind``, ``to``): the page, newest first; ``/inbox/{seq}`` the same with one
  message open. Both work without script; the script makes them live.
- ``/inbox/list``: the rows for a search, as HTML inside JSON (the script's search as you type).
- ``/inbox/{seq}/detail``: one message in full, as an HTML fragment.
- ``/inbox/events``: server-sent events (``add``, ``update``, ``clear``, ``resync``) for a search.
  Each carries ``id: {epoch}.{version}``; a reconnecting page (``Last-Event-ID``, or ``after`` the
  first time) gets what it missed, or ``resync`` when that cannot be told (cleared, restarted).
  A stream ends after ``STREAM_SECONDS`` and the browser reconnects, so none holds a stopping
  server for long.
- ``/inbox/assets/inbox.css`` and ``inbox.js``: shipped in the package, nothing from elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from phone_delivery.sandbox import inbox_render as render
from phone_delivery.sandbox.inbox_assets import INBOX_CSS, INBOX_JS
from phone_delivery.sandbox.inbox_feed import InboxFeed, listening, until_disconnected
from phone_delivery.sandbox.inbox_query import InboxQuery, QueryError, parse_query
from phone_delivery.sandbox.inbox_store import InboxEvent, InboxStore
from phone_delivery.sandbox.state import SandboxState

PAGE_PARAMS = ("to", "kind", "q")
PAGE_ROWS = 200
REPLAYED = 200  # changes replayed to a reconnecting page; beyond that it starts again
STREAM_SECONDS = 25.0
KEEPALIVE_SECONDS = 10.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def inbox_page_routes(state: SandboxState, middleware: Sequence[Middleware] = ()) -> list[Route]:
    """The page's routes, each behind ``middleware`` (the admin guard)."""

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def query_of(request: Request) -> InboxQuery:
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k in PAGE_PARAMS]
        return parse_query(pairs, PAGE_PARAMS)

    def rows(store: InboxStore, query: InboxQuery) -> list[dict[str, Any]]:
        return store.newest(query.matches, PAGE_ROWS)

    async def show(request: Request) -> Response:
        try:
            query = query_of(request)
        except QueryError as exc:
            return _html(render.error_page(str(exc)), 400)
        store = state.inbox
        after = _event_id(store)  # before reading: a change in between is sent again, never lost
        seq = request.path_params.get("seq")
        opened = store.get(int(seq)) if seq is not None else None
        document = render.page(
            base=base(request),
            query=query,
            rows=rows(store, query),
            size=store.size,
            after=after,
            opened=opened,
            note=render.filter_note(query),
        )
        return _html(document, 404 if seq is not None and opened is None else 200)

    async def list_rows(request: Request) -> Response:
        try:
            query = query_of(request)
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        store = state.inbox
        after = _event_id(store)
        found = rows(store, query)
        return JSONResponse(
            {
                "html": render.rows_html(found, base(request), query),
                "after": after,
                "size": store.size,
                "shown": len(found),
                "note": render.filter_note(query),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def detail(request: Request) -> Response:
        try:
            query = query_of(request)
        except QueryError as exc:
            return _html(render.error_page(str(exc)), 400)
        entry = state.inbox.get(int(request.path_params["seq"]))
        if entry is None:
            return _html(render.gone_detail(base(request), query), 404)
        return _html(render.message_detail(entry, base(request), query))

    async def events(request: Request) -> Response:
        try:
            query = query_of(request)
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        after = request.headers.get("last-event-id") or request.query_params.get("after") or ""
        return InboxEventStream(state.inbox, query, after, base(request))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "inbox.css":
            return Response(INBOX_CSS, media_type="text/css", headers={"Cache-Control": "no-cache"})
        if name == "inbox.js":
            return Response(INBOX_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache"})
        return JSONResponse({"error": "no such asset"}, status_code=404)

    return [
        Route("/inbox", show, methods=["GET"], middleware=middleware),
        Route("/inbox/list", list_rows, methods=["GET"], middleware=middleware),
        Route("/inbox/events", events, methods=["GET"], middleware=middleware),
        Route("/inbox/assets/{name}", asset, methods=["GET"], middleware=middleware),
        Route("/inbox/{seq:int}", show, methods=["GET"], middleware=middleware),
        Route("/inbox/{seq:int}/detail", detail, methods=["GET"], middleware=middleware),
    ]


class InboxEventStream(Response):
    """Server-sent events for one page, until the page goes away or ``STREAM_SECONDS`` pass."""

    def __init__(self, store: InboxStore, query: InboxQuery, after: str, base: str) -> None:
        # Not Response.__init__: it would announce a Content-Length of 0 for a body that never ends.
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
            (b"x-content-type-options", b"nosniff"),
        ]
        self.store, self.query, self.after, self.base = store, query, after, base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(_mark_gone(receive, gone))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            with listening(self.store) as feed:  # before replaying: nothing between the two is lost
                await self._send(send, "retry: 1000\n\n")
                for chunk in self._replay():
                    await self._send(send, chunk)
                await self._follow(feed, send, gone)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the page went away while we wrote to it
        finally:
            watcher.cancel()

    async def _follow(self, feed: InboxFeed, send: Send, gone: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS
        while not gone.is_set() and (remaining := ends - loop.time()) > 0:
            event = await _next_or_gone(feed, gone, min(KEEPALIVE_SECONDS, remaining))
            if gone.is_set():
                return
            if feed.overflowed:
                await self._send(send, self._event("resync", {}, self._id(self.store.version)))
                return
            chunk = self._chunk(event) if event is not None else ": keepalive\n\n"
            if chunk:
                await self._send(send, chunk)

    def _replay(self) -> list[str]:
        epoch, _, version = self.after.partition(".")
        if epoch != self.store.epoch or not version.isdigit():
            return [self._event("resync", {}, self._id(self.store.version))]
        changed, now = self.store.changed_since(int(version), self.query.matches, REPLAYED)
        if changed is None:
            return [self._event("resync", {}, self._id(now))]
        return [self._entry_event("update", entry, self._id(now)) for entry in changed]

    def _chunk(self, event: InboxEvent) -> str | None:
        if event.type == "clear":
            return self._event("clear", {"size": event.size}, self._id(event.version))
        if event.entry is None or not self.query.matches(event.entry):
            return None
        return self._entry_event(event.type, event.entry, self._id(event.version), event.size)

    def _entry_event(self, kind: str, entry: Mapping[str, Any], event_id: str, size: int | None = None) -> str:
        data = {
            "seq": entry["seq"],
            "html": render.row(entry, self.base, self.query),
            "size": self.store.size if size is None else size,
            "announce": render.announcement(entry),
        }
        return self._event(kind, data, event_id)

    def _id(self, version: int) -> str:
        return f"{self.store.epoch}.{version}"

    @staticmethod
    def _event(kind: str, data: dict[str, Any], event_id: str) -> str:
        return f"id: {event_id}\nevent: {kind}\ndata: {orjson.dumps(data).decode()}\n\n"

    @staticmethod
    async def _send(send: Send, text: str) -> None:
        await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _mark_gone(receive: Receive, gone: asyncio.Event) -> None:
    await until_disconnected(receive)
    gone.set()


async def _next_or_gone(feed: InboxFeed, gone: asyncio.Event, timeout: float) -> InboxEvent | None:
    """The next event, or None after ``timeout`` or as soon as the page goes away."""
    getting = asyncio.ensure_future(feed.queue.get())
    leaving = asyncio.ensure_future(gone.wait())
    try:
        await asyncio.wait({getting, leaving}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        leaving.cancel()
        if not getting.done():
            getting.cancel()
    return getting.result() if getting.done() and not getting.cancelled() else None


def _event_id(store: InboxStore) -> str:
    return f"{store.epoch}.{store.version}"


def _html(document: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(document, status_code=status, headers=SECURITY_HEADERS)
