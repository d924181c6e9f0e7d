"""Absolute URLs for ``_links``: the configured public base URL, or the request's own."""

from __future__ import annotations

from starlette.requests import Request


def base_url(request: Request) -> str:
    configured = request.app.state.services.settings.public_base_url
    if configured:
        return str(configured)
    host = request.headers.get("host")
    if host:
        return f"{request.scope.get('scheme', 'http')}://{host}{request.scope.get('root_path', '')}".rstrip("/")
    return str(request.base_url).rstrip("/")


def environment_href(base: str, environment_id: str) -> str:
    return f"{base}/v1/environments/{environment_id}"


def issuer(request: Request, environment_id: str) -> str:
    """The environment's token issuer, as PingOne spells it: ``{base}/{envID}/as``."""
    return f"{base_url(request)}/{environment_id}/as"
