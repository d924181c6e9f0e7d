"""Creating environments and worker applications: shared by the API, ``bootstrap`` and ``dev``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from phone_delivery.domain.clock import now_ms
from phone_delivery.domain.errors import Detail, RequestFailed
from phone_delivery.domain.models import (
    ENVIRONMENT_ADMIN,
    ORGANIZATION_ADMIN,
    Application,
    Environment,
    RoleAssignment,
)
from phone_delivery.domain.policies import DEFAULT_POLICY_NAME, default_rules, new_policy_id
from phone_delivery.security.client_secrets import hash_client_secret, new_client_secret
from phone_delivery.store.database import Conn
from phone_delivery.store.environments_repo import ApplicationRepository, EnvironmentRepository
from phone_delivery.store.policies_repo import PolicyRepository


@dataclass(frozen=True)
class IssuedApplication:
    application: Application
    client_secret: str  # shown once, never stored


async def create_environment(
    conn: Conn, name: str, description: str | None = None, type_: str = "SANDBOX", region: str = "NA"
) -> Environment:
    now = now_ms()
    env = Environment(
        id=str(uuid.uuid4()),
        name=name,
        description=description,
        type=type_,
        region=region,
        created_at=now,
        updated_at=now,
    )
    await EnvironmentRepository(conn).insert(env)
    # Every environment has exactly one default notification policy, from its first moment.
    await PolicyRepository(conn).insert(
        {
            "id": new_policy_id(),
            "environment_id": env.id,
            "name": DEFAULT_POLICY_NAME,
            "default": True,
            "rules": default_rules(),
            "created_at": now,
            "updated_at": now,
        }
    )
    return env


async def create_worker_application(
    conn: Conn,
    environment_id: str,
    name: str,
    description: str | None = None,
    auth_method: str = "CLIENT_SECRET_BASIC",
    enabled: bool = True,
) -> IssuedApplication:
    now = now_ms()
    app = Application(
        id=str(uuid.uuid4()),
        environment_id=environment_id,
        name=name,
        description=description,
        enabled=enabled,
        token_endpoint_auth_method=auth_method,
        created_at=now,
        updated_at=now,
    )
    secret = new_client_secret()
    await ApplicationRepository(conn).insert(app, hash_client_secret(secret))
    return IssuedApplication(app, secret)


async def assign_role(conn: Conn, application_id: str, role: str, scope_environment_id: str | None) -> RoleAssignment:
    assignment = RoleAssignment(
        id=str(uuid.uuid4()),
        application_id=application_id,
        role=role,
        scope_environment_id=None if role == ORGANIZATION_ADMIN else scope_environment_id,
        created_at=now_ms(),
    )
    await ApplicationRepository(conn).add_role(assignment)
    return assignment


async def create_organization_admin(conn: Conn, environment_name: str) -> tuple[Environment, IssuedApplication]:
    """The first administrators environment with an Organization Admin worker application."""
    env = await create_environment(conn, environment_name, "Holds the organization's administrator applications.")
    issued = await create_worker_application(conn, env.id, "Organization admin", "Created by bootstrap.")
    await assign_role(conn, issued.application.id, ORGANIZATION_ADMIN, None)
    await assign_role(conn, issued.application.id, ENVIRONMENT_ADMIN, env.id)
    return env, issued


@asynccontextmanager
async def keeping_an_organization_admin(conn: Conn) -> AsyncIterator[ApplicationRepository]:
    """Around a change, in its write transaction, that could remove an Organization Admin: takes the
    lock that orders such changes, and refuses (so rolls back) a change that leaves the organization
    without an enabled Organization Admin application."""
    repo = ApplicationRepository(conn)
    await repo.lock_organization_admins()
    yield repo
    if await repo.usable_organization_admins() == 0:
        raise RequestFailed(
            "This would leave the organization without an enabled Organization Admin application; "
            "grant ORGANIZATION_ADMIN to another application first.",
            [
                Detail(
                    "CONSTRAINT_VIOLATION",
                    "At least one enabled application must hold the Organization Admin role.",
                    None,
                    {"referencedValues": [ORGANIZATION_ADMIN]},
                )
            ],
        )
