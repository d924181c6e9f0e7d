"""Request dependencies: the services container, the caller, and environment access."""

from __future__ import annotations

import re

from fastapi import Path
from starlette.requests import Request

from phone_delivery.api.links import issuer
from phone_delivery.domain.errors import Forbidden, NotFound, Unauthenticated
from phone_delivery.domain.models import Environment, Principal
from phone_delivery.runtime import Services
from phone_delivery.store.database import Conn
from phone_delivery.store.environments_repo import EnvironmentRepository


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def caller(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("An access token is required (Authorization: Bearer <token>).")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must use the Bearer scheme.")
    svc = services(request)
    verified = svc.tokens.verify(token.strip())
    if verified.issuer != issuer(request, verified.environment_id):
        raise Unauthenticated(
            "The access token was issued by another issuer than this environment's "
            "(its iss must be {base}/{envID}/as of this server)."
        )
    return await svc.principals.resolve(verified)


async def organization_admin(request: Request) -> Principal:
    principal = await caller(request)
    if not principal.organization_admin:
        raise Forbidden("This request needs the Organization Admin role.")
    return principal


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def is_uuid(value: str) -> bool:
    """The canonical hyphenated form, in either case (checked on every request with an id in the path)."""
    return _UUID.fullmatch(value) is not None


async def environment_admin(request: Request, envID: str = Path(description="Environment id")) -> Principal:
    """The caller, who must hold Environment Admin of ``envID`` or be an Organization Admin."""
    principal = await caller(request)
    if not principal.can_administer(envID):
        raise Forbidden("The access token has no Environment Admin role for this environment.")
    if not is_uuid(envID):
        raise NotFound("The environment was not found.")
    return principal


async def require_environment(conn: Conn, env_id: str, *, lock: bool = False) -> Environment:
    """The environment, or 404; ``lock`` takes its row lock in a write transaction (PostgreSQL)."""
    found = await EnvironmentRepository(conn).get(env_id, lock=lock)
    if found is None:
        raise NotFound("The environment was not found.")
    return found
