"""``GET /console/dev-credentials``: dev mode's own credentials, for the console's one-click sign-in.

Answered only when the service runs in dev mode, and only to a loopback client that addresses the
service as 127.0.0.1, [::1] or localhost: the same rule as the sandbox's admin API
(``sandbox/admin_access.py``), so a page of another site that rebinds its name to 127.0.0.1 gets
nothing. A request that a browser marks as sent by another site is refused as well. Every refusal is
the service's plain 404, so outside dev mode the path does not seem to exist.

Loopback is not "this user": any process of any user on the machine that can connect to the port may
read the answer, which is why it exists in dev mode only. It holds only what the console's scripts
read (``CONSOLE_FIELDS``), not the whole file.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.responses import JsonResponse
from phone_delivery.devmode import credentials_path, read_credentials
from phone_delivery.sandbox.admin_access import AdminAccess
from phone_delivery.settings import Settings

LOOPBACK_ONLY = AdminAccess(credentials=None)

# What static/js reads of it: the sign-in (signin.js), "Fill in the sandbox account"
# (sender_kinds.js, custom_provider_form.js) and the inbox (inbox.js). A nested set names the keys
# kept of that object; None keeps the value as it is.
CONSOLE_FIELDS: dict[str, frozenset[str] | None] = {
    "adminEnvironmentId": None,
    "clientId": None,
    "clientSecret": None,
    "twilio": frozenset({"accountSid", "authToken", "verifyServiceId"}),
    "syniverse": frozenset({"authToken"}),
    "oauth": frozenset({"tokenUrl", "clientId", "clientSecret"}),
    "gatewayUrl": None,
    "sandboxBase": None,
}


def dev_credentials_response(settings: Settings, request: Request) -> Response:
    if not settings.dev_mode or not _may_see(request):
        raise HTTPException(status_code=404)
    data = read_credentials(credentials_path(settings))  # read now: a restart may have rewritten it
    if data is None:
        raise HTTPException(status_code=404)
    return JsonResponse(for_the_console(data), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def for_the_console(data: dict[str, Any]) -> dict[str, Any]:
    """Only the fields of ``CONSOLE_FIELDS`` (those the file has)."""
    kept: dict[str, Any] = {}
    for name, keys in CONSOLE_FIELDS.items():
        if name not in data:
            continue
        value = data[name]
        if keys is None:
            kept[name] = value
        elif isinstance(value, dict):
            kept[name] = {k: v for k, v in value.items() if k in keys}
    return kept


def _may_see(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    return LOOPBACK_ONLY.refusal(request) is None
