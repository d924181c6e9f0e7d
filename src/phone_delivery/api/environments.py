"""``/v1/environments[/{envID}]``: the tenants."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.accounts import create_environment, keeping_an_organization_admin
from phone_delivery.api.body import read_json_object
from phone_delivery.api.deps import (
    caller,
    environment_admin,
    is_uuid,
    organization_admin,
    require_environment,
    services,
)
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import ENVIRONMENT, body_of, collection, error_responses, ok
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.clock import iso_ms, now_ms
from phone_delivery.domain.errors import NotFound
from phone_delivery.domain.models import Environment, Principal
from phone_delivery.domain.validation import parse
from phone_delivery.store.environments_repo import EnvironmentRepository

router = APIRouter(tags=["Environments"])

Name = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]


class EnvironmentCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    name: Name
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    type: Literal["SANDBOX", "PRODUCTION"] = "SANDBOX"
    region: Literal["NA", "EU", "CA", "AP", "AU", "SG"] = "NA"


class EnvironmentReplace(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    name: Name
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    type: Literal["SANDBOX", "PRODUCTION"] = "SANDBOX"


def environment_json(base: str, env: Environment) -> dict[str, Any]:
    href = environment_href(base, env.id)
    body: dict[str, Any] = {
        "_links": {
            "self": {"href": href},
            "phoneDeliverySettings": {"href": f"{href}/notificationsSettings/phoneDeliverySettings"},
            "applications": {"href": f"{href}/applications"},
            "activities": {"href": f"{href}/activities"},
        },
        "id": env.id,
        "name": env.name,
    }
    if env.description is not None:
        body["description"] = env.description
    body.update(
        {
            "type": env.type,
            "region": env.region,
            "createdAt": iso_ms(env.created_at),
            "updatedAt": iso_ms(env.updated_at),
        }
    )
    return body


@router.get("/v1/environments", responses={200: collection("environments", ENVIRONMENT)})
async def list_environments(request: Request, principal: Principal = Depends(caller)) -> Response:
    svc = services(request)
    async with svc.database.read() as conn:
        envs = await EnvironmentRepository(conn).list(
            None if principal.organization_admin else sorted(principal.admin_of)
        )
    base = base_url(request)
    return JsonResponse(
        {
            "_links": {"self": {"href": f"{base}/v1/environments"}},
            "_embedded": {"environments": [environment_json(base, e) for e in envs]},
            "count": len(envs),
            "size": len(envs),
        }
    )


@router.post(
    "/v1/environments", status_code=201, openapi_extra=body_of(EnvironmentCreate), responses={201: ok(ENVIRONMENT)}
)
async def create(request: Request, _: Principal = Depends(organization_admin)) -> Response:
    svc = services(request)
    model = parse(EnvironmentCreate, await read_json_object(request, svc.settings.max_body_bytes))
    async with svc.database.write() as conn:
        env = await create_environment(conn, model.name, model.description, model.type, model.region)
    return JsonResponse(environment_json(base_url(request), env), status_code=201)


@router.get("/v1/environments/{envID}", responses={200: ok(ENVIRONMENT), **error_responses(404)})
async def read(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    async with svc.database.read() as conn:
        env = await require_environment(conn, envID)
    return JsonResponse(environment_json(base_url(request), env))


@router.put(
    "/v1/environments/{envID}",
    openapi_extra=body_of(EnvironmentReplace),
    responses={200: ok(ENVIRONMENT), **error_responses(404)},
)
async def replace(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    model = parse(EnvironmentReplace, await read_json_object(request, svc.settings.max_body_bytes))
    async with svc.database.write() as conn:
        env = await require_environment(conn, envID, lock=True)
        env = Environment(
            id=env.id,
            name=model.name,
            description=model.description,
            type=model.type,
            region=env.region,
            created_at=env.created_at,
            updated_at=max(now_ms(), env.updated_at + 1),
        )
        await EnvironmentRepository(conn).update(env)
    return JsonResponse(environment_json(base_url(request), env))


@router.delete("/v1/environments/{envID}", status_code=204, responses=error_responses(400, 404))
async def delete(request: Request, envID: str, _: Principal = Depends(organization_admin)) -> Response:
    """Deletes the environment and everything in it (senders, applications, notifications, activities)."""
    if not is_uuid(envID):
        raise NotFound("The environment was not found.")
    svc = services(request)
    async with svc.database.write() as conn, keeping_an_organization_admin(conn):
        await require_environment(conn, envID, lock=True)
        await EnvironmentRepository(conn).delete(envID)
    svc.principals.forget()
    return Response(status_code=204)
