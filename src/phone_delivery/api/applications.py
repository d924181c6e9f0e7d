"""``/v1/environments/{envID}/applications``: worker applications, their secrets and roles.

Client secrets are stored only as hashes, so a secret is returned once: in the create response
and in the response of ``POST .../secret`` (which rotates it).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.accounts import assign_role, create_worker_application, keeping_an_organization_admin
from phone_delivery.api.body import read_json_object
from phone_delivery.api.deps import environment_admin, is_uuid, require_environment, services
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import (
    APPLICATION,
    ROLE_ASSIGNMENT,
    ROLE_NAMES,
    SECRET,
    body_of,
    collection,
    error_responses,
    ok,
)
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.access import holds_every_role
from phone_delivery.domain.clock import iso_ms, now_ms
from phone_delivery.domain.errors import Forbidden, InvalidData, NotFound
from phone_delivery.domain.models import ORGANIZATION_ADMIN, ROLES, Application, Principal, RoleAssignment
from phone_delivery.domain.validation import parse
from phone_delivery.security.client_secrets import hash_client_secret, new_client_secret
from phone_delivery.security.principals import current_principal
from phone_delivery.store.database import Conn
from phone_delivery.store.environments_repo import ApplicationRepository, EnvironmentRepository

router = APIRouter(tags=["Applications"])
APPS = "/v1/environments/{envID}/applications"


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    name: Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    type: Literal["WORKER"] = "WORKER"
    protocol: Literal["OPENID_CONNECT"] = "OPENID_CONNECT"
    enabled: bool = True
    tokenEndpointAuthMethod: Literal["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"] = "CLIENT_SECRET_BASIC"


class ApplicationReplace(ApplicationCreate):
    """PUT is a full replacement of what can change: the name, the description and ``enabled``
    (required here, as in PingOne)."""

    enabled: bool


class _RoleRef(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: Literal["ORGANIZATION_ADMIN", "ENVIRONMENT_ADMIN"]


class _ScopeRef(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    type: Literal["ORGANIZATION", "ENVIRONMENT"]
    id: str | None = None


class RoleAssignmentCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    role: _RoleRef
    scope: _ScopeRef


def application_json(base: str, app: Application, secret: str | None = None) -> dict[str, Any]:
    href = f"{environment_href(base, app.environment_id)}/applications/{app.id}"
    body: dict[str, Any] = {
        "_links": {
            "self": {"href": href},
            "environment": {"href": environment_href(base, app.environment_id)},
            "secret": {"href": f"{href}/secret"},
            "roleAssignments": {"href": f"{href}/roleAssignments"},
        },
        "id": app.id,
        "environment": {"id": app.environment_id},
        "name": app.name,
        "type": "WORKER",
        "protocol": "OPENID_CONNECT",
        "enabled": app.enabled,
        "tokenEndpointAuthMethod": app.token_endpoint_auth_method,
        "grantTypes": ["CLIENT_CREDENTIALS"],
        "createdAt": iso_ms(app.created_at),
        "updatedAt": iso_ms(app.updated_at),
    }
    if app.description is not None:
        body["description"] = app.description
    if secret is not None:
        body["clientSecret"] = secret
    return body


def role_json(base: str, env_id: str, assignment: RoleAssignment) -> dict[str, Any]:
    scope = (
        {"type": "ORGANIZATION"}
        if assignment.role == ORGANIZATION_ADMIN
        else {"type": "ENVIRONMENT", "id": assignment.scope_environment_id}
    )
    return {
        "_links": {
            "self": {
                "href": f"{environment_href(base, env_id)}/applications/{assignment.application_id}"
                f"/roleAssignments/{assignment.id}"
            }
        },
        "id": assignment.id,
        "role": {"id": assignment.role},
        "scope": scope,
        "createdAt": iso_ms(assignment.created_at),
    }


NOT_FOUND = "The application was not found."
NOT_COVERED = (
    "You can act on this application only if you hold every role it holds "
    "(its secret, role assignments, settings and existence included)."
)


async def _existing_app(request: Request, env_id: str, app_id: str) -> Application:
    if is_uuid(app_id):
        async with services(request).database.read() as conn:
            app = await ApplicationRepository(conn).get(env_id, app_id)
            if app is not None:
                return app
    raise NotFound(NOT_FOUND)


async def _covered(
    conn: Conn, actor: Principal, env_id: str, app_id: str, *, lock: bool = True
) -> tuple[Principal, Application, list[RoleAssignment]]:
    """The application and its roles, read (and in a PostgreSQL write transaction row-locked) in the
    caller's transaction; 403 unless ``actor``, as the database says now, holds every one of those
    roles (``domain/access.py``)."""
    actor = await current_principal(conn, actor)
    if not actor.can_administer(env_id):
        raise Forbidden("The access token has no Environment Admin role for this environment.")
    repo = ApplicationRepository(conn)
    app = await repo.get(env_id, app_id, lock=lock) if is_uuid(app_id) else None
    if app is None:
        raise NotFound(NOT_FOUND)
    roles = await repo.roles(app_id)
    if not holds_every_role(actor, roles):
        raise Forbidden(NOT_COVERED)
    return actor, app, roles


@router.get(APPS, responses={200: collection("applications", APPLICATION), **error_responses(404)})
async def list_apps(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    async with svc.database.read() as conn:
        await require_environment(conn, envID)
        apps = await ApplicationRepository(conn).list(envID)
    base = base_url(request)
    return JsonResponse(
        {
            "_links": {"self": {"href": f"{environment_href(base, envID)}/applications"}},
            "_embedded": {"applications": [application_json(base, a) for a in apps]},
            "count": len(apps),
            "size": len(apps),
        }
    )


@router.post(
    APPS,
    status_code=201,
    openapi_extra=body_of(ApplicationCreate),
    responses={201: ok(APPLICATION), **error_responses(404)},
)
async def create_app(request: Request, envID: str, _: Principal = Depends(environment_admin)) -> Response:
    svc = services(request)
    model = parse(ApplicationCreate, await read_json_object(request, svc.settings.max_body_bytes))
    async with svc.database.write() as conn:
        await require_environment(conn, envID, lock=True)
        issued = await create_worker_application(
            conn, envID, model.name, model.description, model.tokenEndpointAuthMethod, model.enabled
        )
    return JsonResponse(application_json(base_url(request), issued.application, issued.client_secret), status_code=201)


@router.get(APPS + "/{appID}", responses={200: ok(APPLICATION), **error_responses(404)})
async def read_app(request: Request, envID: str, appID: str, _: Principal = Depends(environment_admin)) -> Response:
    return JsonResponse(application_json(base_url(request), await _existing_app(request, envID, appID)))


@router.put(
    APPS + "/{appID}",
    openapi_extra=body_of(ApplicationReplace),
    responses={200: ok(APPLICATION), **error_responses(404)},
)
async def replace_app(
    request: Request, envID: str, appID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    """Rename, describe, enable or disable. A disabled application gets no token and its tokens stop
    working; the last enabled Organization Admin cannot be disabled."""
    svc = services(request)
    model = parse(ApplicationReplace, await read_json_object(request, svc.settings.max_body_bytes))
    async with svc.database.write() as conn, keeping_an_organization_admin(conn) as repo:
        _, app, _ = await _covered(conn, actor, envID, appID)
        app = dataclasses.replace(
            app,
            name=model.name,
            description=model.description,
            enabled=model.enabled,
            token_endpoint_auth_method=model.tokenEndpointAuthMethod,
            updated_at=max(now_ms(), app.updated_at + 1),
        )
        await repo.update(app)
    svc.principals.forget(appID)
    return JsonResponse(application_json(base_url(request), app))


@router.delete(APPS + "/{appID}", status_code=204, responses=error_responses(400, 404))
async def delete_app(
    request: Request, envID: str, appID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    """Deletes the application and its role assignments; its tokens stop working at once."""
    svc = services(request)
    async with svc.database.write() as conn, keeping_an_organization_admin(conn) as repo:
        await _covered(conn, actor, envID, appID)
        await repo.delete(envID, appID)
    svc.principals.forget(appID)
    return Response(status_code=204)


@router.post(APPS + "/{appID}/secret", responses={200: ok(SECRET), **error_responses(404)})
async def rotate_secret(
    request: Request, envID: str, appID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    """Issue a new client secret (returned once); the old one stops working at once."""
    svc = services(request)
    secret = new_client_secret()
    async with svc.database.write() as conn:
        await _covered(conn, actor, envID, appID)
        await ApplicationRepository(conn).set_secret_hash(envID, appID, hash_client_secret(secret), now_ms())
    return JsonResponse({"secret": secret, "previousSecretExpiresAt": None})


@router.get(
    APPS + "/{appID}/roleAssignments",
    responses={200: collection("roleAssignments", ROLE_ASSIGNMENT), **error_responses(404)},
)
async def list_roles(
    request: Request, envID: str, appID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    svc = services(request)
    async with svc.database.read() as conn:
        _, _, roles = await _covered(conn, actor, envID, appID, lock=False)
    base = base_url(request)
    return JsonResponse(
        {
            "_embedded": {"roleAssignments": [role_json(base, envID, r) for r in roles]},
            "count": len(roles),
            "size": len(roles),
        }
    )


@router.post(
    APPS + "/{appID}/roleAssignments",
    status_code=201,
    openapi_extra=body_of(RoleAssignmentCreate),
    responses={201: ok(ROLE_ASSIGNMENT), **error_responses(404)},
)
async def add_role(request: Request, envID: str, appID: str, actor: Principal = Depends(environment_admin)) -> Response:
    """Grant ENVIRONMENT_ADMIN of an environment the caller administers, or (organization admins only)
    ORGANIZATION_ADMIN, to an application whose roles the caller already holds."""
    svc = services(request)
    model = parse(RoleAssignmentCreate, await read_json_object(request, svc.settings.max_body_bytes))
    role = model.role.id
    scope_env = model.scope.id
    if role == ORGANIZATION_ADMIN and model.scope.type != "ORGANIZATION":
        raise InvalidData.single("INVALID_VALUE", "scope.type", "ORGANIZATION_ADMIN takes scope type ORGANIZATION.")
    if role != ORGANIZATION_ADMIN and (model.scope.type != "ENVIRONMENT" or not scope_env):
        raise InvalidData.single(
            "REQUIRED_VALUE", "scope.id", "ENVIRONMENT_ADMIN needs scope type ENVIRONMENT and the environment id."
        )
    async with svc.database.write() as conn:
        actor, _, _ = await _covered(conn, actor, envID, appID)
        if role == ORGANIZATION_ADMIN and not actor.organization_admin:
            raise Forbidden("Only an Organization Admin can grant ORGANIZATION_ADMIN.")
        if role != ORGANIZATION_ADMIN and not actor.can_administer(str(scope_env)):
            raise Forbidden("You can only grant Environment Admin of environments you administer.")
        if scope_env and role != ORGANIZATION_ADMIN and await EnvironmentRepository(conn).get(scope_env) is None:
            raise InvalidData.single("INVALID_VALUE", "scope.id", "The scope environment does not exist.")
        assignment = await assign_role(conn, appID, role, scope_env)
    svc.principals.forget(appID)
    return JsonResponse(role_json(base_url(request), envID, assignment), status_code=201)


@router.delete(APPS + "/{appID}/roleAssignments/{assignmentID}", status_code=204, responses=error_responses(400, 404))
async def remove_role(
    request: Request, envID: str, appID: str, assignmentID: str, actor: Principal = Depends(environment_admin)
) -> Response:
    svc = services(request)
    async with svc.database.write() as conn, keeping_an_organization_admin(conn) as repo:
        await _covered(conn, actor, envID, appID)
        if not await repo.remove_role(appID, assignmentID):
            raise NotFound("The role assignment was not found.")
    svc.principals.forget(appID)
    return Response(status_code=204)


@router.get("/v1/roles", tags=["Applications"], responses={200: ok(ROLE_NAMES)})
async def list_role_names() -> Response:
    return JsonResponse({"_embedded": {"roles": [{"id": r, "name": r.replace("_", " ").title()} for r in ROLES]}})
