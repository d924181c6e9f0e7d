"""``/v1/environments/{envID}/notifications`` (our extension: send SMS and voice, read status)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone_delivery.api.body import read_json_object
from phone_delivery.api.deps import environment_admin, is_uuid, require_environment, services
from phone_delivery.api.fast_path import get_route
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import NOTIFICATION, body_of, collection, error_responses, ok
from phone_delivery.api.paging import decode_cursor, page_links
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import InvalidData, NotFound
from phone_delivery.domain.models import Principal
from phone_delivery.domain.notifications import (
    DELIVERY_METHODS,
    PINGONE_TWILIO,
    STATUSES,
    SendRequest,
    normalise_number,
)
from phone_delivery.domain.validation import detail_of
from phone_delivery.store.notifications_repo import read_page

router = APIRouter(tags=["Notifications (extension)"])
PATH = "/v1/environments/{envID}/notifications"
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

SEND_BODY = {
    **body_of(SendRequest),
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
            "description": "Retries with the same key (within 24 hours) get the same notification.",
        }
    ],
}


def notification_json(base: str, row: dict[str, Any], attempts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    env = row["environment_id"]
    href = f"{environment_href(base, env)}/notifications/{row['id']}"
    body: dict[str, Any] = {
        "_links": {"self": {"href": href}, "environment": {"href": environment_href(base, env)}},
        "id": row["id"],
        "environment": {"id": env},
        "deliveryMethod": row["delivery_method"],
        "to": row["to_number"],
        "status": row["status"],
    }
    if row["locale"]:
        body["locale"] = row["locale"]
    if row["user_id"]:
        body["user"] = {"id": row["user_id"]}
    if row["provider"] or row["sender_id"]:
        body["sender"] = {"id": row["sender_id"] or row["provider"]}
        if row["provider"]:
            body["sender"]["provider"] = row["provider"]
    if row["provider_message_id"]:
        body["providerMessageId"] = row["provider_message_id"]
    if row["error_code"] or row["error_message"]:
        body["error"] = {"code": row["error_code"], "message": row["error_message"]}
    body["createdAt"] = iso_ms(row["created_at"])
    body["updatedAt"] = iso_ms(row["updated_at"])
    if attempts is not None:
        body["attempts"] = [
            {
                "id": a["id"],
                "sender": {"id": a["sender_id"], **({"name": a["sender_name"]} if a.get("sender_name") else {})},
                **({"provider": a["provider"]} if a["provider"] else {}),
                "outcome": a["outcome"],
                **({"providerMessageId": a["provider_message_id"]} if a["provider_message_id"] else {}),
                **({"errorCode": a["error_code"]} if a["error_code"] else {}),
                **({"errorMessage": a["error_message"]} if a["error_message"] else {}),
                "startedAt": iso_ms(a["started_at"]),
                **({"finishedAt": iso_ms(a["finished_at"])} if a["finished_at"] else {}),
            }
            for a in attempts
        ]
    return body


async def send_response(request: Request) -> Response:
    """Accept a notification: served in front of FastAPI (``api/fast_path.py``), like the sender read."""
    env_id = request.path_params["envID"]
    actor = await environment_admin(request, env_id)
    svc = services(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidData.single(
            "INVALID_VALUE", "Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII characters."
        )
    body = await read_json_object(request, svc.settings.max_body_bytes)
    row, created = await svc.notifications.accept(actor, env_id, body, key)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return JsonResponse(notification_json(base_url(request), row), status_code=202, headers=headers)


@router.post(
    PATH,
    status_code=202,
    openapi_extra=SEND_BODY,
    responses={202: ok(NOTIFICATION, "Accepted"), **error_responses(404)},
)
async def send(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    """Queue an SMS or voice message; 202 with the notification (status QUEUED). Served by
    ``send_response`` in front of FastAPI; this declaration documents it in /docs."""
    return await send_response(request)


def hot_routes() -> list[Route]:
    return [Route(PATH, send_response, methods=["POST"]), get_route(PATH, read_all_response)]


@router.get(PATH + "/{notificationID}", responses={200: ok(NOTIFICATION), **error_responses(404)})
async def read_one(
    request: Request, envID: str, notificationID: str, _: Principal = Depends(environment_admin)
) -> Response:
    if not is_uuid(notificationID):
        raise NotFound("The notification was not found.")
    row, attempts = await services(request).notifications.get(envID, notificationID)
    return JsonResponse(notification_json(base_url(request), row, attempts))


def _timestamp(value: str | None, name: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 time; without an offset it is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError):
        raise InvalidData.single("INVALID_PARAMETER", name, f"{name} must be an ISO 8601 timestamp.") from None


async def read_all_response(request: Request) -> Response:
    """Read All, served in front of FastAPI (``api/fast_path.py``): the query parameters are checked
    here as the declaration below documents them (``limit`` by the same pydantic rule, its errors
    through the same table)."""
    env_id = request.path_params["envID"]
    await environment_admin(request, env_id)
    q = request.query_params
    limit = _limit(q.get("limit"))
    return await _page(
        request,
        env_id,
        limit,
        q.get("cursor"),
        q.get("status"),
        q.get("since"),
        q.get("until"),
        q.get("to"),
        q.get("sender"),
        q.get("deliveryMethod"),
    )


async def _page(
    request: Request,
    env_id: str,
    limit: int,
    cursor: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    to: str | None,
    sender: str | None,
    method: str | None,
) -> Response:
    """One page of the environment's notifications, the parameters as they came (checked here)."""
    statuses = [s.strip().upper() for s in status.split(",")] if status else None
    if statuses and not set(statuses) <= set(STATUSES):
        raise InvalidData.single("INVALID_PARAMETER", "status", "Unknown status.", {"allowedValues": list(STATUSES)})
    if to is not None:
        to = normalise_number(to)[0]  # as stored; a bad one is a 400 on target "to" (write + as %2B)
    if sender is not None and sender != PINGONE_TWILIO and not is_uuid(sender):
        raise InvalidData.single("INVALID_PARAMETER", "sender", "sender is a sender's id or PINGONE_TWILIO.")
    if method is not None and method not in DELIVERY_METHODS:
        raise InvalidData.single(
            "INVALID_PARAMETER", "deliveryMethod", "Unknown delivery method.", {"allowedValues": list(DELIVERY_METHODS)}
        )
    svc = services(request)
    try:
        after = decode_cursor(cursor)
        start, end = _timestamp(since, "since"), _timestamp(until, "until")
    except InvalidData:
        async with svc.database.read() as conn:
            await require_environment(conn, env_id)  # an absent environment is a 404 first
        raise
    rows = await read_page(
        svc.database, env_id, limit + 1, after, statuses, start, end, to=to, sender=sender, delivery_method=method
    )
    if not rows:  # an environment with notifications exists: only an empty page needs to ask
        async with svc.database.read() as conn:
            await require_environment(conn, env_id)
    base = base_url(request)
    page = rows[:limit]
    links = page_links(request, limit, (page[-1]["created_at"], page[-1]["id"]) if len(rows) > limit else None)
    return JsonResponse(
        {"_links": links, "_embedded": {"notifications": [notification_json(base, r) for r in page]}, "size": len(page)}
    )


LIMIT: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=1, le=1000)])


def _limit(raw: str | None) -> int:
    if raw is None:
        return 100
    try:
        return LIMIT.validate_python(raw)
    except ValidationError as exc:
        raise InvalidData(details=[detail_of({**e, "loc": ("limit",)}) for e in exc.errors()]) from None


# Served by ``read_all_response`` in front of FastAPI; this declaration documents it in /docs (and
# answers with FastAPI's own parameter checks if the fast path is bypassed: the parity test compares).
@router.get(PATH, responses={200: collection("notifications", NOTIFICATION), **error_responses(404)})
async def read_all(
    request: Request,
    envID: str,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None),
    status: str | None = Query(None, description="Comma-separated statuses, e.g. SENT,DELIVERED"),
    since: str | None = Query(None, description="Created at or after (ISO 8601)"),
    until: str | None = Query(None, description="Created before (ISO 8601)"),
    to: str | None = Query(None, description="The recipient, E.164 (write + as %2B)"),
    sender: str | None = Query(None, description="Sent through this sender (its id, or PINGONE_TWILIO)"),
    deliveryMethod: str | None = Query(None, description="SMS or VOICE"),
    _: Principal = Depends(environment_admin),
) -> Response:
    return await _page(request, envID, limit, cursor, status, since, until, to, sender, deliveryMethod)
