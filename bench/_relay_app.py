"""A second reference for bench/delivery.py: the least a pipeline can do. A bare Starlette endpoint
that forwards each POSTed message straight to the sandbox's Messages.json with the service's own
provider HTTP client, and answers 202 once the sandbox has it: two HTTP hops in Python, no
validation, no database, no worker.

Usage (started by bench/delivery.py): python bench/_relay_app.py PORT MESSAGES_URL ACCOUNT_SID AUTH_TOKEN SERVICE_SID
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone_delivery.providers.http import build_http_client

PORT, MESSAGES_URL, ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID = sys.argv[1:6]
AUTH = httpx.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)
client: httpx.AsyncClient | None = None


async def relay(request: Request) -> Response:
    assert client is not None
    body = orjson.loads(await request.body())
    answer = await client.post(
        MESSAGES_URL, data={"To": body["to"], "MessagingServiceSid": SERVICE_SID, "Body": body["message"]}, auth=AUTH
    )
    return Response(orjson.dumps({"status": answer.status_code}), status_code=202, media_type="application/json")


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global client
    client = build_http_client(10)
    yield
    await client.aclose()


app = Starlette(routes=[Route("/relay", relay, methods=["POST"])], lifespan=lifespan)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(PORT), log_config=None, access_log=False)
