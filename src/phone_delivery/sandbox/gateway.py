"""A generic SMS gateway and an OAuth2 token endpoint, for custom providers.

The gateway records every request exactly as received (method, path, query, headers, body) so tests
can assert on what a custom provider sent (``/_admin/gateway/requests``, in memory only); the inbox
gets it with its To and From read from its fields and its secrets masked (``gateway_inbox.py``).
Fault switches apply to it like to Twilio.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.gateway_inbox import gateway_entry_fields
from phone_delivery.sandbox.state import GatewayRequest, SandboxState, new_sid
from phone_delivery.sandbox.twilio_http import basic_credentials


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def gateway_routes(state: SandboxState) -> list[Route]:
    async def token(request: Request) -> Response:
        form = parse_qs((await request.body()).decode(errors="replace"))
        basic = basic_credentials(request)
        if request.headers.get("authorization", "").lower().startswith("basic") and basic is None:
            return oauth_error(401, "invalid_client", "malformed Basic header")
        client_id, secret = basic or (form.get("client_id", [""])[0], form.get("client_secret", [""])[0])
        if form.get("grant_type", [""])[0] != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "only client_credentials")
        client = state.oauth_clients.get(client_id)
        if client is None or not hmac.compare_digest(client.client_secret.encode(), secret.encode()):
            return oauth_error(401, "invalid_client", "unknown client or wrong secret")
        return JSONResponse(
            {
                "access_token": state.issue_oauth_token(client_id),
                "token_type": "Bearer",
                "expires_in": client.expires_in,
            }
        )

    async def gateway(request: Request) -> Response:
        body = (await request.body()).decode(errors="replace")
        state.record_gateway(
            GatewayRequest(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                headers=[(k, v) for k, v in request.headers.items()],
                body=body,
                at=time.time(),
            )
        )
        fault = state.take_fault(request.url.path)
        if fault is None or fault.status is None:
            seen = gateway_entry_fields(request.url.query, [(k, v) for k, v in request.headers.items()], body)
            state.deliver(
                {
                    "id": new_sid("GW"),
                    "kind": "GATEWAY",
                    **seen,
                    "body": seen["body"] or seen["query"],
                    "method": request.method,
                    "path": request.url.path,
                    "status": "accepted",
                }
            )
        if fault is not None:
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if fault.status is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                return JSONResponse(
                    {"error": fault.message or "Sandbox fault injected"}, status_code=fault.status, headers=headers
                )
        return JSONResponse({"status": "accepted"})

    return [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/gateway/{path:path}", gateway, methods=["GET", "POST", "PUT"]),
    ]
