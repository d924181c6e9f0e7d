"""Domain records. Plain dataclasses: no ORM, no web framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ORGANIZATION_ADMIN = "ORGANIZATION_ADMIN"
ENVIRONMENT_ADMIN = "ENVIRONMENT_ADMIN"
ROLES = (ORGANIZATION_ADMIN, ENVIRONMENT_ADMIN)

ENVIRONMENT_TYPES = ("SANDBOX", "PRODUCTION")
REGIONS = ("NA", "EU", "CA", "AP", "AU", "SG")


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    description: str | None
    type: str
    region: str
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class RoleAssignment:
    id: str
    application_id: str
    role: str
    scope_environment_id: str | None
    created_at: int


@dataclass(frozen=True)
class Application:
    id: str
    environment_id: str
    name: str
    description: str | None
    enabled: bool
    token_endpoint_auth_method: str
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Principal:
    """Who is calling: the worker application behind a verified access token, with its roles."""

    client_id: str
    environment_id: str
    name: str
    organization_admin: bool
    admin_of: frozenset[str]

    def can_administer(self, environment_id: str) -> bool:
        return self.organization_admin or environment_id in self.admin_of


@dataclass
class Sender:
    """A phoneDeliverySettings resource. ``secrets`` is plaintext only in memory, never rendered."""

    id: str
    environment_id: str
    provider: str
    name: str | None
    config: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Activity:
    id: str
    environment_id: str
    action_type: str
    actor_type: str
    actor_id: str | None
    actor_name: str | None
    resource_type: str
    resource_id: str
    resource_name: str | None
    description: str
    recorded_at: int
