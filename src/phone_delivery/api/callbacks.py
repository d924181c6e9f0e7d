"""``POST /callbacks/twilio/{envID}/{notificationID}``: Twilio status callbacks, signature checked."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.body import read_limited_body
from phone_delivery.api.deps import is_uuid, services
from phone_delivery.domain.errors import Forbidden

router = APIRouter(tags=["Callbacks"], include_in_schema=False)


@router.post("/callbacks/twilio/{envID}/{notificationID}")
async def twilio_status(request: Request, envID: str, notificationID: str) -> Response:
    svc = services(request)
    raw = await read_limited_body(request, svc.settings.max_body_bytes)
    params = parse_qsl(raw.decode(errors="replace"), keep_blank_values=True)
    # Twilio signs the URL it was given: our public base plus this path.
    base = svc.settings.public_base_url or str(request.base_url).rstrip("/")
    url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get("x-twilio-signature", "")
    ok = (
        is_uuid(envID)
        and is_uuid(notificationID)
        and bool(signature)
        and await svc.notifications.twilio_callback(envID, notificationID, url, params, signature)
    )
    if not ok:
        raise Forbidden("The X-Twilio-Signature does not match this callback.")
    return Response(status_code=204)
