"""Environments, worker applications and their role assignments."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text, update

from phone_delivery.domain.models import ORGANIZATION_ADMIN, Application, Environment, RoleAssignment
from phone_delivery.store.database import Conn, Database, InlineConnection
from phone_delivery.store.prepared_read import PreparedRead
from phone_delivery.store.tables import (
    applications,
    environments,
    role_assignments,
)

# The key of the PostgreSQL advisory lock taken by lock_organization_admins (any fixed 64-bit number).
ORGANIZATION_ADMINS_LOCK = 0x70645F6F72675F61


def _environment(row: Any) -> Environment:
    m = row._mapping
    return Environment(
        id=m["id"],
        name=m["name"],
        description=m["description"],
        type=m["type"],
        region=m["region"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _application(row: Any) -> Application:
    return _application_of(row._mapping)


def _application_of(m: Mapping[str, Any]) -> Application:
    return Application(
        id=m["id"],
        environment_id=m["environment_id"],
        name=m["name"],
        description=m["description"],
        enabled=bool(m["enabled"]),
        token_endpoint_auth_method=m["token_endpoint_auth_method"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _role(row: Any) -> RoleAssignment:
    m = row._mapping
    return RoleAssignment(
        id=m["id"],
        application_id=m["application_id"],
        role=m["role"],
        scope_environment_id=m["scope_environment_id"],
        created_at=m["created_at"],
    )


class EnvironmentRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def get(self, environment_id: str, *, lock: bool = False) -> Environment | None:
        query = select(environments).where(environments.c.id == environment_id)
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return _environment(row) if row else None

    async def exists(self, environment_id: str) -> bool:
        query = select(environments.c.id).where(environments.c.id == environment_id)
        return (await self.conn.execute(query)).first() is not None

    async def list(self, only: Sequence[str] | None = None) -> list[Environment]:
        query = select(environments).order_by(environments.c.created_at, environments.c.id)
        if only is not None:
            query = query.where(environments.c.id.in_(list(only)))
        return [_environment(r) for r in await self.conn.execute(query)]

    async def count(self) -> int:
        return int((await self.conn.execute(select(func.count()).select_from(environments))).scalar_one())

    async def insert(self, env: Environment) -> None:
        await self.conn.execute(
            environments.insert().values(
                id=env.id,
                name=env.name,
                description=env.description,
                type=env.type,
                region=env.region,
                created_at=env.created_at,
                updated_at=env.updated_at,
            )
        )

    async def update(self, env: Environment) -> None:
        await self.conn.execute(
            update(environments)
            .where(environments.c.id == env.id)
            .values(name=env.name, description=env.description, type=env.type, updated_at=env.updated_at)
        )

    async def delete(self, environment_id: str) -> None:
        """Everything in the environment goes with it: every table's foreign key to it (directly or
        through applications and notifications) is ON DELETE CASCADE, which PostgreSQL always enforces
        and ``Database`` turns on for SQLite (PRAGMA foreign_keys=ON)."""
        await self.conn.execute(delete(environments).where(environments.c.id == environment_id))


# Built once: the token endpoint binds parameters to an already compiled statement.
_CREDENTIALS = PreparedRead(
    select(applications).where(
        applications.c.environment_id == bindparam("environment_id"), applications.c.id == bindparam("client_id")
    )
)


async def read_credentials(database: Database, environment_id: str, client_id: str) -> tuple[Application, str] | None:
    """The token endpoint's query, on its own (``Database.fetch``): the application of
    ``environment_id`` and its secret hash."""
    rows = await database.fetch(_CREDENTIALS, {"environment_id": environment_id, "client_id": client_id})
    return (_application_of(rows[0]), rows[0]["client_secret_hash"]) if rows else None


class ApplicationRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def get(self, environment_id: str, application_id: str, *, lock: bool = False) -> Application | None:
        """``lock`` takes the row lock in a write transaction (PostgreSQL): a role granted to the
        application meanwhile waits for this transaction, so what was checked is what is changed."""
        query = select(applications).where(
            applications.c.environment_id == environment_id, applications.c.id == application_id
        )
        if lock:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return _application(row) if row else None

    async def get_credentials(self, environment_id: str, client_id: str) -> tuple[Application, str] | None:
        """The application and its secret hash, for the token endpoint of ``environment_id``."""
        params = {"environment_id": environment_id, "client_id": client_id}
        row = (await self.conn.execute(_CREDENTIALS.statement, params)).first()
        return (_application(row), row._mapping["client_secret_hash"]) if row else None

    async def find_for_token(self, client_id: str) -> tuple[Application, list[RoleAssignment]] | None:
        row = (await self.conn.execute(select(applications).where(applications.c.id == client_id))).first()
        if row is None:
            return None
        roles = await self.roles(client_id)
        return _application(row), roles

    async def list(self, environment_id: str) -> list[Application]:
        query = (
            select(applications)
            .where(applications.c.environment_id == environment_id)
            .order_by(applications.c.created_at, applications.c.id)
        )
        return [_application(r) for r in await self.conn.execute(query)]

    async def insert(self, app: Application, secret_hash: str) -> None:
        await self.conn.execute(
            applications.insert().values(
                id=app.id,
                environment_id=app.environment_id,
                name=app.name,
                description=app.description,
                enabled=app.enabled,
                token_endpoint_auth_method=app.token_endpoint_auth_method,
                client_secret_hash=secret_hash,
                created_at=app.created_at,
                updated_at=app.updated_at,
            )
        )

    async def update(self, app: Application) -> None:
        await self.conn.execute(
            update(applications)
            .where(applications.c.environment_id == app.environment_id, applications.c.id == app.id)
            .values(
                name=app.name,
                description=app.description,
                enabled=app.enabled,
                token_endpoint_auth_method=app.token_endpoint_auth_method,
                updated_at=app.updated_at,
            )
        )

    async def delete(self, environment_id: str, application_id: str) -> bool:
        """Its role assignments go with it (ON DELETE CASCADE)."""
        result = await self.conn.execute(
            delete(applications).where(
                applications.c.environment_id == environment_id, applications.c.id == application_id
            )
        )
        return bool(result.rowcount)

    async def set_secret_hash(self, environment_id: str, application_id: str, secret_hash: str, now: int) -> None:
        await self.conn.execute(
            update(applications)
            .where(applications.c.environment_id == environment_id, applications.c.id == application_id)
            .values(client_secret_hash=secret_hash, updated_at=now)
        )

    async def roles(self, application_id: str) -> builtins.list[RoleAssignment]:
        query = (
            select(role_assignments)
            .where(role_assignments.c.application_id == application_id)
            .order_by(role_assignments.c.created_at, role_assignments.c.id)
        )
        return [_role(r) for r in await self.conn.execute(query)]

    async def add_role(self, assignment: RoleAssignment) -> None:
        await self.conn.execute(
            role_assignments.insert().values(
                id=assignment.id,
                application_id=assignment.application_id,
                role=assignment.role,
                scope_environment_id=assignment.scope_environment_id,
                created_at=assignment.created_at,
            )
        )

    async def remove_role(self, application_id: str, assignment_id: str) -> bool:
        result = await self.conn.execute(
            delete(role_assignments).where(
                role_assignments.c.application_id == application_id, role_assignments.c.id == assignment_id
            )
        )
        return bool(result.rowcount)

    async def lock_organization_admins(self) -> None:
        """Order every change that could remove an Organization Admin (``accounts.
        keeping_an_organization_admin``). PostgreSQL: a transaction-level advisory lock, so two such
        changes never both count the other's admin as remaining; SQLite runs one write transaction at
        a time anyway."""
        if not isinstance(self.conn, InlineConnection):
            await self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORGANIZATION_ADMINS_LOCK})

    async def usable_organization_admins(self) -> int:
        """Enabled applications that hold the Organization Admin role."""
        query = (
            select(func.count(func.distinct(applications.c.id)))
            .select_from(applications.join(role_assignments, role_assignments.c.application_id == applications.c.id))
            .where(role_assignments.c.role == ORGANIZATION_ADMIN, applications.c.enabled.is_(True))
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def organization_admin_exists(self) -> bool:
        query = select(role_assignments.c.id).where(role_assignments.c.role == ORGANIZATION_ADMIN).limit(1)
        return (await self.conn.execute(query)).first() is not None
