"""Absolute URLs for ``_links``: the configured public base URL, or the request's own."""

from __future__ import annotations

from starlette.requests import Request


def base_url(request: Request) -> str:
    configured = request.app.state.services.settings.public_base_url
    if configured:
        return str(configured)
    return str(request.base_url).rstrip("/")


def environment_href(base: str, environment_id: str) -> str:
    return f"{base}/v1/environments/{environment_id}"
