"""Syniverse Communication Gateway as the sandbox answers it: Bearer tokens, offset paging,
``{"error_code", "error_description"}`` error bodies."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.state import SandboxState, SyniverseAccount

PREFIX = "/scg-external-api/api/v1"


def syniverse_error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "error_description": description}, status_code=status)


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    try:
        offset = int(request.query_params.get("offset", 0))
        limit = min(int(request.query_params.get("limit", 20)), 100)
    except ValueError:
        return syniverse_error(400, "SCG_ERROR_4001", "Invalid offset or limit")
    return JSONResponse({"list": items[offset : offset + limit], "total": len(items)})


Handler = Callable[[Request, SyniverseAccount], Awaitable[Response]]


def syniverse_routes(state: SandboxState) -> list[Route]:
    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            fault = state.take_fault(request.url.path)
            if fault is not None:
                if fault.latency_ms:
                    await asyncio.sleep(fault.latency_ms / 1000)
                if fault.status is not None:
                    return syniverse_error(
                        fault.status,
                        f"SCG_ERROR_{fault.code or fault.status}",
                        fault.message or "Sandbox fault injected",
                    )
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            account = state.syniverse.get(token) if scheme.lower() == "bearer" else None
            if account is None:
                return syniverse_error(401, "SCG_ERROR_4010", "Authentication Error: invalid or expired access token")
            response = await handler(request, account)
            state.record(request.method, request.url.path, request.url.query, None, response.status_code)
            return response

        return answer

    async def sender_ids(request: Request, account: SyniverseAccount) -> Response:
        wanted = request.query_params.get("state")
        items = [s for s in account.sender_ids if not wanted or s["state"] == wanted]
        return _page(request, items)

    async def channels(request: Request, account: SyniverseAccount) -> Response:
        return _page(request, account.channels)

    async def message_request(request: Request, account: SyniverseAccount) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return syniverse_error(400, "SCG_ERROR_4001", "Body is not JSON")
        if not isinstance(body, dict) or not body.get("to") or not body.get("from"):
            return syniverse_error(400, "SCG_ERROR_4001", "Missing mandatory parameter: from, to")
        record = {
            "id": secrets.token_hex(10),
            "from": body["from"],
            "to": body["to"],
            "body": body.get("body", ""),
            "state": "ACCEPTED",
            "created_date": int(time.time() * 1000),
        }
        account.message_requests.append(record)
        for to in body["to"] if isinstance(body["to"], list) else [body["to"]]:
            state.deliver(
                {
                    "id": record["id"],
                    "kind": "SYNIVERSE",
                    "to": str(to),
                    "from": str(body["from"]),
                    "body": str(body.get("body", "")),
                    "status": "ACCEPTED",
                }
            )
        return JSONResponse({"id": record["id"]})

    return [
        Route(PREFIX + "/messaging/sender_ids", endpoint(sender_ids), methods=["GET"]),
        Route(PREFIX + "/messaging/channels", endpoint(channels), methods=["GET"]),
        Route(PREFIX + "/messaging/message_requests", endpoint(message_request), methods=["POST"]),
    ]
