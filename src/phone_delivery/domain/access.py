"""Who may act on a worker application: nobody can give what they do not have.

Rotating an application's secret, reading or changing its role assignments, changing, disabling or
deleting it lets the caller act as that application, so the caller must already hold every role
the application holds. An Organization Admin holds every role; an Environment Admin holds
Environment Admin of the environments it administers and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from phone_delivery.domain.models import ORGANIZATION_ADMIN, Principal, RoleAssignment


def holds_role(actor: Principal, role: RoleAssignment) -> bool:
    if actor.organization_admin:
        return True
    if role.role == ORGANIZATION_ADMIN:
        return False
    return role.scope_environment_id is not None and role.scope_environment_id in actor.admin_of


def holds_every_role(actor: Principal, roles: Iterable[RoleAssignment]) -> bool:
    return all(holds_role(actor, role) for role in roles)
