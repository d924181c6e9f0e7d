"""``/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings[/{id}]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from phone_delivery.api.body import read_json_object
from phone_delivery.api.deps import caller, environment_admin, is_uuid, services
from phone_delivery.api.fast_path import get_route
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import (
    CREATE_BODY,
    REPLACE_BODY,
    SENDER,
    SENDER_RESPONSE,
    TEST_RESULT,
    body_of,
    collection,
    error_responses,
    ok,
)
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import Forbidden, NotFound
from phone_delivery.domain.models import Principal
from phone_delivery.domain.notifications import SendRequest
from phone_delivery.domain.ports import EXPAND_VERIFY_TEMPLATES
from phone_delivery.store.environments_repo import EnvironmentRepository
from phone_delivery.store.senders_repo import SenderRepository, read_all_public, read_public

router = APIRouter(tags=["Phone Delivery Settings"])
PATH = "/v1/environments/{envID}/notificationsSettings/phoneDeliverySettings"


def sender_json(base: str, sender: Mapping[str, Any]) -> dict[str, Any]:
    """PingOne's representation. ``sender`` holds public fields only; secrets are never rendered."""
    env = sender["environment_id"]
    body: dict[str, Any] = {
        "_links": {
            "self": {
                "href": f"{environment_href(base, env)}/notificationsSettings/phoneDeliverySettings/{sender['id']}"
            },
            "environment": {"href": environment_href(base, env)},
        },
        "id": sender["id"],
        "environment": {"id": env},
    }
    if sender["name"] is not None:
        body["name"] = sender["name"]
    body["createdAt"] = iso_ms(sender["created_at"])
    body["updatedAt"] = iso_ms(sender["updated_at"])
    body["provider"] = sender["provider"]
    body.update(sender["config"])
    return body


def _public(sender: Any) -> dict[str, Any]:
    return {
        "id": sender.id,
        "environment_id": sender.environment_id,
        "provider": sender.provider,
        "name": sender.name,
        "config": sender.config,
        "created_at": sender.created_at,
        "updated_at": sender.updated_at,
    }


def wants_templates(request: Request) -> bool:
    values = ",".join(request.query_params.getlist("expand")).lower().split(",")
    return EXPAND_VERIFY_TEMPLATES in (v.strip() for v in values)


async def with_templates(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """``?expand=twilioverifytemplates``: embed a Verify sender's templates, read live from Twilio."""
    if body["provider"] == "CUSTOM_TWILIO_VERIFY" and wants_templates(request):
        templates = await services(request).senders.verify_templates(body["environment"]["id"], body["id"])
        body["_embedded"] = {
            "twilioVerifyTemplates": [
                {"id": t.sid, "name": t.name, "channels": list(t.channels)} for t in templates or []
            ]
        }
    return body


@router.get(
    PATH,
    operation_id="readAllPhoneDeliverySettings",
    responses={200: collection("phoneDeliverySettings", SENDER), **error_responses(404, 502, 504)},
    description="`?expand=twilioverifytemplates` embeds each Verify sender's templates.",
)
async def read_all(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    """Served by ``read_all_response`` in front of FastAPI; this declaration documents it in /docs."""
    return await read_all_response(request)


async def read_all_response(request: Request) -> Response:
    env_id = request.path_params["envID"]
    await environment_admin(request, env_id)
    svc = services(request)
    rows = await read_all_public(svc.database, env_id)
    if not rows:
        async with svc.database.read() as conn:
            if not await EnvironmentRepository(conn).exists(env_id):
                raise NotFound("The environment was not found.")
    base = base_url(request)
    items = [await with_templates(request, sender_json(base, r)) for r in rows]
    return JsonResponse(
        {
            "_links": {
                "self": {"href": f"{environment_href(base, env_id)}/notificationsSettings/phoneDeliverySettings"},
                "environment": {"href": environment_href(base, env_id)},
            },
            "_embedded": {"phoneDeliverySettings": items},
            "count": len(rows),
            "size": len(rows),
        }
    )


@router.post(
    PATH,
    status_code=201,
    operation_id="createPhoneDeliverySettings",
    openapi_extra=CREATE_BODY,
    responses={201: SENDER_RESPONSE, **error_responses(404, 502, 504)},
)
async def create(request: Request, envID: str, actor: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    body = await read_json_object(request, svc.settings.max_body_bytes)
    sender = await svc.senders.create(actor, envID, body)
    return JsonResponse(sender_json(base_url(request), _public(sender)), status_code=201)


async def read_one_response(request: Request) -> Response:
    """Read One, the hottest management path: no dependency injection, one prepared query
    (``Database.fetch``)."""
    env_id = request.path_params["envID"]
    sender_id = request.path_params["phoneDeliverySettingsID"]
    principal = await caller(request)
    if not principal.can_administer(env_id):
        raise Forbidden("The access token has no Environment Admin role for this environment.")
    svc = services(request)
    row = await read_public(svc.database, env_id, sender_id) if is_uuid(sender_id) else None
    if row is None:
        raise NotFound("The phone delivery settings were not found.")
    return JsonResponse(await with_templates(request, sender_json(base_url(request), row)))


# Served in front of FastAPI by ``api/fast_path.py`` (see ``hot_routes``); this declaration
# documents the operation in /docs and answers if the fast path is ever bypassed.
@router.get(
    PATH + "/{phoneDeliverySettingsID}",
    operation_id="readOnePhoneDeliverySettings",
    responses={200: SENDER_RESPONSE, **error_responses(404, 502, 504)},
    description="`?expand=twilioverifytemplates` embeds a Verify sender's templates (read live from Twilio).",
)
async def read_one(
    request: Request, envID: str, phoneDeliverySettingsID: str, _: Principal = Depends(environment_admin)
) -> Response:
    return await read_one_response(request)


def hot_routes() -> list[Route]:
    return [
        get_route(PATH + "/{phoneDeliverySettingsID}", read_one_response),
        get_route(PATH, read_all_response),
    ]


@router.put(
    PATH + "/{phoneDeliverySettingsID}",
    operation_id="updatePhoneDeliverySettings",
    openapi_extra=REPLACE_BODY,
    responses={200: SENDER_RESPONSE, **error_responses(404, 502, 504)},
)
async def replace(
    request: Request, envID: str, phoneDeliverySettingsID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    svc = services(request)
    body = await read_json_object(request, svc.settings.max_body_bytes)
    if not is_uuid(phoneDeliverySettingsID):
        raise NotFound("The phone delivery settings were not found.")
    sender = await svc.senders.replace(actor, envID, phoneDeliverySettingsID, body)
    return JsonResponse(sender_json(base_url(request), _public(sender)))


@router.delete(
    PATH + "/{phoneDeliverySettingsID}",
    status_code=204,
    operation_id="deletePhoneDeliverySettings",
    responses=error_responses(400, 404),
)
async def delete(
    request: Request, envID: str, phoneDeliverySettingsID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    if not is_uuid(phoneDeliverySettingsID):
        raise NotFound("The phone delivery settings were not found.")
    await services(request).senders.delete(actor, envID, phoneDeliverySettingsID)
    return Response(status_code=204)


@router.post(
    PATH + "/{phoneDeliverySettingsID}/test",
    openapi_extra=body_of(SendRequest, optional=("message",)),
    responses={200: ok(TEST_RESULT), **error_responses(404)},
)
async def send_test_message(
    request: Request, envID: str, phoneDeliverySettingsID: str, _: Principal = Depends(environment_admin)
) -> Response:
    """Send one message through this sender only, now, bypassing the chain (our extension). Answers with
    the provider's own result or error text."""
    svc = services(request)
    body = await read_json_object(request, svc.settings.max_body_bytes)
    body.setdefault("message", "phone-delivery test message")
    if not is_uuid(phoneDeliverySettingsID):
        raise NotFound("The phone delivery settings were not found.")
    async with svc.database.read() as conn:
        if await SenderRepository(conn, svc.cipher).get_public(envID, phoneDeliverySettingsID) is None:
            raise NotFound("The phone delivery settings were not found.")
    return JsonResponse(await svc.notifications.test_send(envID, phoneDeliverySettingsID, body))
