"""``/v1/environments/{envID}/notificationsPolicies[/{id}]``: PingOne's notification policies, and
``.../{id}/usage``: what their counters hold."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.body import read_json_object
from phone_delivery.api.deps import environment_admin, is_uuid, services
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import (
    NOTIFICATION_POLICY,
    NOTIFICATION_POLICY_USAGE,
    body_of,
    collection,
    error_responses,
    ok,
)
from phone_delivery.api.responses import JsonResponse
from phone_delivery.delivery.policy_service import NOT_FOUND, PolicyService
from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import InvalidData, NotFound
from phone_delivery.domain.models import Principal
from phone_delivery.domain.notifications import USER_ID, normalise_number
from phone_delivery.domain.policies import PolicyBody

router = APIRouter(tags=["Notifications Policies"])
PATH = "/v1/environments/{envID}/notificationsPolicies"
ONE = PATH + "/{notificationsPolicyID}"
BODY = body_of(PolicyBody)


def policy_json(base: str, policy: dict[str, Any]) -> dict[str, Any]:
    env = policy["environment_id"]
    return {
        "_links": {
            "self": {"href": f"{environment_href(base, env)}/notificationsPolicies/{policy['id']}"},
            "environment": {"href": environment_href(base, env)},
        },
        "id": policy["id"],
        "environment": {"id": env},
        "name": policy["name"],
        "default": policy["default"],
        **policy["rules"],
        "createdAt": iso_ms(policy["created_at"]),
        "updatedAt": iso_ms(policy["updated_at"]),
    }


def _service(request: Request) -> PolicyService:
    return PolicyService(services(request).database)


def _policy_id(value: str) -> str:
    if not is_uuid(value):
        raise NotFound(NOT_FOUND)
    return value


@router.get(PATH, responses={200: collection("notificationsPolicies", NOTIFICATION_POLICY), **error_responses(404)})
async def read_all(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    policies = await _service(request).list(envID)
    base = base_url(request)
    return JsonResponse(
        {
            "_links": {
                "self": {"href": f"{environment_href(base, envID)}/notificationsPolicies"},
                "environment": {"href": environment_href(base, envID)},
            },
            "_embedded": {"notificationsPolicies": [policy_json(base, p) for p in policies]},
            "count": len(policies),
            "size": len(policies),
        }
    )


@router.post(
    PATH,
    status_code=201,
    openapi_extra=BODY,
    responses={201: ok(NOTIFICATION_POLICY, "Created"), **error_responses(404)},
)
async def create(request: Request, envID: str, actor: Principal = Depends(environment_admin)) -> Response:
    body = await read_json_object(request, services(request).settings.max_body_bytes)
    policy = await _service(request).create(actor, envID, body)
    return JsonResponse(policy_json(base_url(request), policy), status_code=201)


@router.get(ONE, responses={200: ok(NOTIFICATION_POLICY), **error_responses(404)})
async def read_one(
    request: Request, envID: str, notificationsPolicyID: str, _: Principal = Depends(environment_admin)
) -> Response:
    policy = await _service(request).get(envID, _policy_id(notificationsPolicyID))
    return JsonResponse(policy_json(base_url(request), policy))


@router.put(ONE, openapi_extra=BODY, responses={200: ok(NOTIFICATION_POLICY), **error_responses(404)})
async def replace(
    request: Request, envID: str, notificationsPolicyID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    body = await read_json_object(request, services(request).settings.max_body_bytes)
    policy = await _service(request).replace(actor, envID, _policy_id(notificationsPolicyID), body)
    return JsonResponse(policy_json(base_url(request), policy))


@router.delete(ONE, status_code=204, responses=error_responses(400, 404))
async def delete(
    request: Request, envID: str, notificationsPolicyID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    await _service(request).delete(actor, envID, _policy_id(notificationsPolicyID))
    return Response(status_code=204)


@router.get(ONE + "/usage", responses={200: ok(NOTIFICATION_POLICY_USAGE), **error_responses(400, 404)})
async def read_usage(
    request: Request,
    envID: str,
    notificationsPolicyID: str,
    user_id: str | None = Query(None, alias="user.id", description="Also this user's use of a USER quota"),
    to: str | None = Query(
        None, description="Also this number's use (a USER quota's sends without user.id, the hourly cap); + as %2B"
    ),
    _: Principal = Depends(environment_admin),
) -> Response:
    """phone-delivery's own (PingOne has no such call): what the policy's counters hold now. Each
    quota's use in the current UTC day (for a USER quota: how many users, the most used, and one
    user's or number's), the hourly cap's use by ``to``, the cooldown and prefix blocks in force."""
    if user_id is not None and not (1 <= len(user_id) <= 128 and re.fullmatch(USER_ID, user_id)):
        raise InvalidData.single(
            "INVALID_VALUE", "user.id", "user.id is 1 to 128 characters, none of them a control character."
        )
    if to is not None:
        to = normalise_number(to)[0]
    found = await _service(request).usage(envID, _policy_id(notificationsPolicyID), user_id, to)
    policy, base = found["policy"], base_url(request)
    href = f"{environment_href(base, envID)}/notificationsPolicies/{policy['id']}"
    return JsonResponse(
        {
            "_links": {"self": {"href": f"{href}/usage"}, "notificationsPolicy": {"href": href}},
            "notificationsPolicy": {"id": policy["id"], "name": policy["name"]},
            **found["usage"],
        }
    )
