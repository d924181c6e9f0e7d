"""``GET /``: a small page that says what this is and links what an operator opens first (the web
console, the API documentation, the OpenAPI description, health, metrics and, in dev mode, the
sandbox inbox)."""

from __future__ import annotations

import html

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from phone_delivery import __version__

router = APIRouter()

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>phone-delivery</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
li{{margin:.3rem 0}}code{{background:#f4f4f4;padding:0 .2rem}}</style></head>
<body><main><h1>phone-delivery <small>{version}</small></h1>
<p>PingOne's Notifications Phone Delivery Settings API, self-hosted. The management API is under
<code>{api}</code>.</p>
<nav aria-label="Start here"><ul>
{links}
</ul></nav></main></body></html>"""


@router.get("/", include_in_schema=False)
async def landing(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    links = [
        ("/console/", "Web console: senders, fallback chain, delivery log"),
        ("/docs", "API documentation (Swagger UI, works offline)"),
        ("/openapi.json", "OpenAPI description"),
        ("/health/ready", "Readiness"),
        ("/metrics", "Metrics (Prometheus)"),
    ]
    inbox = request.app.state.sandbox_inbox_path  # None but in dev mode
    if inbox:
        links.append((inbox, "Sandbox inbox (dev mode): every SMS, call and code sent"))
    items = "\n".join(
        f'<li><a href="{html.escape(root + path)}">{html.escape(label)}</a></li>' for path, label in links
    )
    return HTMLResponse(PAGE.format(version=html.escape(__version__), api=html.escape(f"{root}/v1"), links=items))
