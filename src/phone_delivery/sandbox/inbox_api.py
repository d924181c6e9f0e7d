"""The inbox as JSON for end-to-end tests (``{sandboxBase}/_admin/inbox``), documented in docs/sandbox.md.

- ``GET /_admin/inbox``: newest first; ``to``, ``since``, ``kind``, ``q``, ``limit`` (1-1000, default
  1000) and ``cursor``; ``{"messages": [...], "next": url or null}``.
- ``GET /_admin/inbox/latest``: the newest message (``to``, ``since``, ``kind``, ``q``) with the one-time
  code it carries as ``code``; ``wait`` (seconds, up to 60) waits for one to arrive. 404 when none.
- ``GET /_admin/inbox/count``: ``count`` (of those matching) and ``total`` (everything ever delivered).
- ``DELETE /_admin/inbox``: 204, the inbox is empty.

Every message carries ``code``: the OTP where the sandbox knows it, else the first run of 4-10 digits.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.inbox_feed import unless_disconnected, wait_for_newest
from phone_delivery.sandbox.inbox_query import (
    InboxQuery,
    QueryError,
    encode_cursor,
    one_time_code,
    parse_query,
)
from phone_delivery.sandbox.state import SandboxState

LIST_PARAMS = ("to", "since", "kind", "q", "limit", "cursor")
LATEST_PARAMS = ("to", "since", "kind", "q", "wait")
COUNT_PARAMS = ("to", "since", "kind", "q")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def with_code(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "code": one_time_code(entry)}


def inbox_api_routes(state: SandboxState) -> list[Route]:
    """The routes, to be mounted under ``/_admin``."""

    def query_of(request: Request, allowed: tuple[str, ...]) -> InboxQuery:
        return parse_query(request.query_params.multi_items(), allowed)

    async def list_messages(request: Request) -> Response:
        try:
            query = query_of(request, LIST_PARAMS)
        except QueryError as exc:
            return _error(400, str(exc))
        found = state.inbox.newest(query.matches, query.limit + 1, query.before, query.since)
        messages = found[: query.limit]
        next_url = None
        if len(found) > query.limit:
            cursor = encode_cursor(int(messages[-1]["seq"]))
            params = {**query.page_params(), "limit": str(query.limit), "cursor": cursor}
            next_url = str(request.url.replace_query_params(**params))
        return JSONResponse({"messages": [with_code(m) for m in messages], "next": next_url})

    async def latest(request: Request) -> Response:
        try:
            query = query_of(request, LATEST_PARAMS)
        except QueryError as exc:
            return _error(400, str(exc))
        if query.wait is None:
            found = state.inbox.newest(query.matches, 1, received_since=query.since)
            entry = found[0] if found else None
        else:
            entry = await unless_disconnected(wait_for_newest(state.inbox, query, query.wait), request.receive)
        if entry is None:
            return _error(404, _nothing_found(state, query))
        return JSONResponse(with_code(entry))

    async def count(request: Request) -> Response:
        try:
            query = query_of(request, COUNT_PARAMS)
        except QueryError as exc:
            return _error(400, str(exc))
        if query == InboxQuery():
            matching = state.inbox.size
        else:
            matching = len(state.inbox.newest(query.matches, state.inbox.kept, received_since=query.since))
        return JSONResponse({"count": matching, "total": state.inbox.total})

    async def clear(_: Request) -> Response:
        state.inbox.clear()
        return Response(status_code=204)

    return [
        Route("/inbox", list_messages, methods=["GET"], name="sandbox_inbox_json"),
        Route("/inbox", clear, methods=["DELETE"]),
        Route("/inbox/latest", latest, methods=["GET"]),
        Route("/inbox/count", count, methods=["GET"]),
    ]


def _nothing_found(state: SandboxState, query: InboxQuery) -> str:
    who = f" to {query.to}" if query.to is not None else ""
    since = f" since {query.page_params()['since']}" if query.since is not None else ""
    if query.wait is None:
        return f"no message{who}{since} in the inbox"
    message = f"no message{who}{since} arrived within {query.wait:g} s"
    if query.since is None:
        older = state.inbox.newest(query.matches, 1)
        if older:
            message += (
                f"; the newest{who} arrived at {older[0].get('at')}, before this request began: pass since= "
                "(a time before your test sent it) to have it"
            )
    return message
