"""The sandbox inbox as a page (``/inbox``); the JSON for tests is ``inbox_api.py``."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from phone_delivery.sandbox.state import SandboxState

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>phone-delivery sandbox inbox</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}}
th{{background:#f4f4f4}}code{{white-space:pre-wrap}}</style></head>
<body><h1>Sandbox inbox</h1><p>{count} message(s), newest first. JSON: <a href="{json}">{json}</a></p>
<table><tr><th>Time</th><th>Kind</th><th>To</th><th>From / service</th><th>Body</th><th>Status</th></tr>
{rows}</table></body></html>"""


def cell(value: object) -> str:
    return html.escape(str(value)) if value not in (None, "") else ""


def inbox_routes(state: SandboxState) -> list[Route]:
    def selected(request: Request) -> list[dict[str, object]]:
        to = request.query_params.get("to")
        return [dict(m) for m in state.inbox.snapshot() if not to or m.get("to") == to]

    async def as_page(request: Request) -> Response:
        messages = list(reversed(selected(request)))[:500]
        rows = "\n".join(
            f"<tr><td>{cell(m.get('at'))}</td><td>{cell(m.get('kind'))}</td><td>{cell(m.get('to'))}</td>"
            f"<td>{cell(m.get('from') or m.get('messagingServiceSid'))}</td><td><code>{cell(m.get('body'))}</code>"
            f"</td><td>{cell(m.get('status'))}</td></tr>"
            for m in messages
        )
        json_url = request.url.path.removesuffix("/inbox") + "/_admin/inbox"
        return HTMLResponse(PAGE.format(count=len(messages), json=html.escape(json_url), rows=rows))

    return [Route("/inbox", as_page, methods=["GET"])]
