"""The baseline of bench/api.py: a bare Starlette app answering every request with fixed bytes, the
same status, type and body phone-delivery gave for that method and path (read from a JSON file).

Usage: python bench/_fixed_app.py PORT ANSWERS.json
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# {"GET /v1/...": {"status": 200, "type": "application/json", "body": base64}}
ANSWERS = {
    key: (value["status"], value["type"], base64.b64decode(value["body"]))
    for key, value in json.loads(Path(sys.argv[2]).read_text()).items()
}


async def answer(request: Request) -> Response:
    await request.body()  # read like phone-delivery does
    found = ANSWERS.get(f"{request.method} {request.url.path}")
    if found is None:
        return Response(status_code=404)
    status, media_type, body = found
    return Response(body, status_code=status, media_type=media_type)


app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
