"""``/v1/environments/{envID}/notificationsSettings``: PingOne's singleton (fallback chain and more)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.body import read_json_object
from phone_delivery.api.deps import environment_admin, require_environment, services
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import NOTIFICATION_SETTINGS, body_of, error_responses, ok
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.activities import new_activity
from phone_delivery.domain.clock import iso_ms, now_ms
from phone_delivery.domain.models import Activity, Principal
from phone_delivery.domain.notification_settings import DEFAULTS, SettingsBody, new_settings_id, parse_settings
from phone_delivery.store.activities_repo import ActivityRepository
from phone_delivery.store.notification_settings_repo import NotificationSettingsRepository
from phone_delivery.store.senders_repo import SenderRepository

router = APIRouter(tags=["Notifications Settings"])
PATH = "/v1/environments/{envID}/notificationsSettings"


def settings_json(base: str, env: str, settings: dict[str, Any] | None) -> dict[str, Any]:
    values = settings or {**DEFAULTS, "id": None, "updated_at": None}
    body: dict[str, Any] = {
        "_links": {
            "self": {"href": f"{environment_href(base, env)}/notificationsSettings"},
            "environment": {"href": environment_href(base, env)},
        },
        "environment": {"id": env},
    }
    if values.get("id"):
        body["id"] = values["id"]
    body.update(
        {
            "deliveryMode": values["deliveryMode"],
            "smsProvidersFallbackChain": values["smsProvidersFallbackChain"],
            "whitelist": values["whitelist"],
        }
    )
    if values.get("from"):
        body["from"] = values["from"]
    if values.get("replyTo"):
        body["replyTo"] = values["replyTo"]
    if values.get("updated_at"):
        body["updatedAt"] = iso_ms(values["updated_at"])
    return body


def _activity(actor: Principal, env: str, settings_id: str, description: str, at: int) -> Activity:
    return new_activity(env, "NOTIFICATIONS_SETTINGS", "UPDATED", settings_id, description, actor, at)


@router.get(PATH, responses={200: ok(NOTIFICATION_SETTINGS), **error_responses(404)})
async def read(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    async with svc.database.read() as conn:
        await require_environment(conn, envID)
        settings = await NotificationSettingsRepository(conn).get(envID)
    return JsonResponse(settings_json(base_url(request), envID, settings))


@router.put(
    PATH, openapi_extra=body_of(SettingsBody), responses={200: ok(NOTIFICATION_SETTINGS), **error_responses(404)}
)
async def replace(request: Request, envID: str, actor: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    body = await read_json_object(request, svc.settings.max_body_bytes)
    now = now_ms()
    async with svc.database.write() as conn:
        await require_environment(conn, envID, lock=True)
        sender_ids = {row["id"] for row in await SenderRepository(conn, svc.cipher).list_public(envID)}
        settings = parse_settings(body, sender_ids)
        repo = NotificationSettingsRepository(conn)
        settings_id = ((await repo.get(envID)) or {}).get("id") or new_settings_id()
        await repo.put(envID, settings_id, settings, now)
        await ActivityRepository(conn).insert(
            _activity(actor, envID, settings_id, "Notifications settings updated.", now)
        )
        stored = await repo.get(envID)
    return JsonResponse(settings_json(base_url(request), envID, stored))


@router.delete(PATH, responses={200: ok(NOTIFICATION_SETTINGS), **error_responses(404)})
async def reset(request: Request, envID: str, actor: Principal = Depends(environment_admin)) -> Response:
    """Back to the defaults (an empty chain: PINGONE_TWILIO sends); 200 with the reset settings."""
    svc = services(request)
    now = now_ms()
    async with svc.database.write() as conn:
        await require_environment(conn, envID, lock=True)
        repo = NotificationSettingsRepository(conn)
        previous = await repo.get(envID)
        await repo.delete(envID)
        if previous is not None:
            await ActivityRepository(conn).insert(
                _activity(actor, envID, previous["id"], "Notifications settings reset.", now)
            )
    return JsonResponse(settings_json(base_url(request), envID, None))
