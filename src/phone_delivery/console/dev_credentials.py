"""``GET /console/dev-credentials``: dev mode's own credentials, for the console's one-click sign-in.

Answered only when the service runs in dev mode, and only to a loopback client that addresses the
service as 127.0.0.1, [::1] or localhost: the same rule as the sandbox's admin API
(``sandbox/admin_access.py``), so a page of another site that rebinds its name to 127.0.0.1 gets
nothing. A request that a browser marks as sent by another site is refused as well. Every refusal is
the service's plain 404, so outside dev mode the path does not seem to exist.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.responses import JsonResponse
from phone_delivery.devmode import credentials_path
from phone_delivery.sandbox.admin_access import AdminAccess
from phone_delivery.settings import Settings

LOOPBACK_ONLY = AdminAccess(credentials=None)


def dev_credentials_response(settings: Settings, request: Request) -> Response:
    if not settings.dev_mode or not _may_see(request):
        raise HTTPException(status_code=404)
    data = _read(settings)
    if data is None:
        raise HTTPException(status_code=404)
    return JsonResponse(data, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _may_see(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    return LOOPBACK_ONLY.refusal(request) is None


def _read(settings: Settings) -> dict[str, Any] | None:
    """The file as dev mode wrote it at start (read now: a restart may have rewritten it)."""
    try:
        data = json.loads(credentials_path(settings).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
