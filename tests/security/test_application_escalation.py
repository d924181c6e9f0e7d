"""Hole 1: an Environment Admin must not take over an application that holds more than it does.

The rule (PingOne's, "you cannot give what you do not have"): rotating an application's secret,
reading or changing its role assignments, changing, disabling or deleting it needs every role that
application holds. The effect is checked, not only the status: the powerful application's secret
still works, its roles are still there, it still exists and is enabled.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from phone_delivery.store.database import Database
from tests.conftest import Stack
from tests.security.conftest import OwnService
from tests.security.tenants import Tenant, new_tenant, token_status
from tests.support import Api, Credentials, assert_pingone_error


def powerful_app(admin: Api, env: str, role: dict[str, Any]) -> dict[str, Any]:
    """An application in ``env`` that holds ``role`` (granted by the Organization Admin)."""
    app = admin.post(f"/v1/environments/{env}/applications", json={"name": "powerful"}).json()
    grant = admin.post(f"/v1/environments/{env}/applications/{app['id']}/roleAssignments", json=role)
    assert grant.status_code == 201, grant.text
    return dict(app)


async def organization_admin_holders(database_url: str) -> int:
    """Applications holding ORGANIZATION_ADMIN, read straight from the database."""
    database = Database(database_url)
    try:
        async with database.read() as conn:
            query = text(
                "SELECT COUNT(DISTINCT application_id) FROM role_assignments WHERE role = 'ORGANIZATION_ADMIN'"
            )
            return int((await conn.execute(query)).scalar_one())
    finally:
        await database.dispose()


ORG_ADMIN = {"role": {"id": "ORGANIZATION_ADMIN"}, "scope": {"type": "ORGANIZATION"}}


@pytest.fixture
def tenants(stack: Stack, admin_api: Api) -> tuple[Tenant, Tenant]:
    return new_tenant(stack, admin_api, "tenant-a"), new_tenant(stack, admin_api, "tenant-b")


def roles_of(admin: Api, env: str, app_id: str) -> list[dict[str, Any]]:
    response = admin.get(f"/v1/environments/{env}/applications/{app_id}/roleAssignments")
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["roleAssignments"])


def org_role_of(admin: Api, env: str, app_id: str) -> dict[str, Any]:
    [role] = [r for r in roles_of(admin, env, app_id) if r["role"]["id"] == "ORGANIZATION_ADMIN"]
    return role


@pytest.mark.parametrize("kind", ["organization-admin", "other-environment-admin"])
def test_environment_admin_cannot_take_over_a_more_powerful_application(
    stack: Stack, admin_api: Api, tenants: tuple[Tenant, Tenant], kind: str
) -> None:
    a, b = tenants
    role = (
        ORG_ADMIN
        if kind == "organization-admin"
        else {
            "role": {"id": "ENVIRONMENT_ADMIN"},
            "scope": {"type": "ENVIRONMENT", "id": b.environment_id},
        }
    )
    target = powerful_app(admin_api, a.environment_id, role)
    app_path = f"/v1/environments/{a.environment_id}/applications/{target['id']}"
    before = roles_of(admin_api, a.environment_id, target["id"])

    attempts = [
        a.api.post(f"{app_path}/secret"),
        a.api.get(f"{app_path}/roleAssignments"),
        a.api.delete(f"{app_path}/roleAssignments/{before[0]['id']}"),
        a.api.post(
            f"{app_path}/roleAssignments",
            json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": a.environment_id}},
        ),
        a.api.put(app_path, json={"name": "mine now", "enabled": False}),
        a.api.delete(app_path),
    ]
    for response in attempts:
        body = assert_pingone_error(response, 403, "ACCESS_FAILED")
        assert body["details"][0]["code"] == "INSUFFICIENT_PERMISSIONS"
        assert "secret" not in response.json()

    # Nothing changed: the old secret still works, the roles are the same, the app is there and enabled.
    assert token_status(stack.url, a.environment_id, target["id"], target["clientSecret"]) == 200
    assert roles_of(admin_api, a.environment_id, target["id"]) == before
    read = admin_api.get(app_path).json()
    assert read["enabled"] is True and read["name"] == "powerful"


def test_environment_admin_may_act_on_applications_it_covers(
    stack: Stack, admin_api: Api, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    helper = a.api.post(f"/v1/environments/{a.environment_id}/applications", json={"name": "helper"}).json()
    path = f"/v1/environments/{a.environment_id}/applications/{helper['id']}"
    grant = a.api.post(
        f"{path}/roleAssignments",
        json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": a.environment_id}},
    )
    assert grant.status_code == 201, grant.text
    rotated = a.api.post(f"{path}/secret")
    assert rotated.status_code == 200, rotated.text
    assert token_status(stack.url, a.environment_id, helper["id"], helper["clientSecret"]) == 401
    assert token_status(stack.url, a.environment_id, helper["id"], rotated.json()["secret"]) == 200

    renamed = a.api.put(path, json={"name": "renamed", "enabled": False, "description": "off"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["enabled"] is False and renamed.json()["name"] == "renamed"
    # Disabled: no new token, and the token it already had stops working.
    assert token_status(stack.url, a.environment_id, helper["id"], rotated.json()["secret"]) == 401

    assert a.api.delete(path).status_code == 204
    assert_pingone_error(admin_api.get(path), 404, "NOT_FOUND")
    assert token_status(stack.url, a.environment_id, helper["id"], rotated.json()["secret"]) == 401


def test_the_last_organization_admin_cannot_be_removed(fresh: OwnService) -> None:
    """A fresh service has exactly one Organization Admin: every way of losing it is refused."""
    admin, me = fresh.api(), fresh.admin
    path = f"/v1/environments/{me.environment_id}/applications/{me.client_id}"
    org_role = org_role_of(admin, me.environment_id, me.client_id)
    attempts = [
        admin.delete(f"{path}/roleAssignments/{org_role['id']}"),
        admin.put(path, json={"name": "Organization admin", "enabled": False}),
        admin.delete(path),
        admin.delete(f"/v1/environments/{me.environment_id}"),
    ]
    for response in attempts:
        body = assert_pingone_error(response, 400, "REQUEST_FAILED")
        assert "Organization Admin" in body["message"]
    assert admin.get(f"/v1/environments/{me.environment_id}").status_code == 200
    assert admin.get(path).json()["enabled"] is True
    assert org_role in roles_of(admin, me.environment_id, me.client_id)
    assert token_status(fresh.url, me.environment_id, me.client_id, me.client_secret) == 200


def test_two_organization_admins_removed_at_once_leave_one(fresh: OwnService) -> None:
    """An Organization Admin removes another admin's role and its own at the same moment: however the
    two requests interleave (PostgreSQL runs them in concurrent transactions), one admin remains.
    Eight rounds, each with a new second admin, so that the requests really overlap in some."""
    current = (fresh.api(), fresh.admin)
    for round_number in range(8):
        api, creds = current
        env = api.new_environment(f"second admins {round_number}")
        second = powerful_app(api, env, ORG_ADMIN)
        second_creds = Credentials(env, second["id"], second["clientSecret"])
        paths = [
            f"/v1/environments/{c.environment_id}/applications/{c.client_id}/roleAssignments/"
            + org_role_of(api, c.environment_id, c.client_id)["id"]
            for c in (creds, second_creds)
        ]
        with ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(lambda path, api=api: api.delete(path).status_code, paths))
        # The one that lost: refused as the last admin (400), or its caller no longer an admin (403).
        assert sorted(statuses)[0] == 204 and sorted(statuses)[1] in (400, 403), statuses
        assert asyncio.run(organization_admin_holders(fresh.database_url)) == 1
        current = (api, creds) if statuses[0] != 204 else (Api(fresh.url, second_creds), second_creds)


def test_two_organization_admins_disabled_at_once_leave_one_enabled(fresh: OwnService) -> None:
    """The same race through PUT enabled=false: a disabled admin is no admin."""
    current = (fresh.api(), fresh.admin)
    for round_number in range(6):
        api, creds = current
        env = api.new_environment(f"disabled admins {round_number}")
        second = powerful_app(api, env, ORG_ADMIN)
        second_creds = Credentials(env, second["id"], second["clientSecret"])
        paths = [f"/v1/environments/{c.environment_id}/applications/{c.client_id}" for c in (creds, second_creds)]
        with ThreadPoolExecutor(2) as pool:
            statuses = list(
                pool.map(lambda path, api=api: api.put(path, json={"name": "x", "enabled": False}).status_code, paths)
            )
        assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (400, 401), statuses
        assert asyncio.run(enabled_organization_admins(fresh.database_url)) == 1
        current = (api, creds) if statuses[0] != 200 else (Api(fresh.url, second_creds), second_creds)


async def enabled_organization_admins(database_url: str) -> int:
    database = Database(database_url)
    try:
        async with database.read() as conn:
            query = text(
                "SELECT COUNT(DISTINCT a.id) FROM applications a JOIN role_assignments r ON r.application_id = a.id "
                "WHERE r.role = 'ORGANIZATION_ADMIN' AND a.enabled"
            )
            return int((await conn.execute(query)).scalar_one())
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "line\r\nbreak", "enabled": True}, 200),  # stored and returned as JSON, never in a header
        ({"name": "caf\u00e9\u2028x", "enabled": True}, 200),
        ({"name": "x" * 257, "enabled": True}, 400),
        ({"name": "nul\u0000", "enabled": True}, 400),
        ({"name": "", "enabled": True}, 400),
        ({"name": "n", "enabled": "false"}, 400),  # no coercion: "false" is not a boolean
        ({"name": "n"}, 400),  # enabled is required on PUT
        ({"name": "n", "enabled": True, "type": "BROWSER"}, 400),
        ({"name": "n", "enabled": True, "tokenEndpointAuthMethod": "NONE"}, 400),
    ],
)
def test_application_put_inputs(admin_api: Api, env: str, body: dict[str, Any], status: int) -> None:
    app = admin_api.post(f"/v1/environments/{env}/applications", json={"name": "before"}).json()
    path = f"/v1/environments/{env}/applications/{app['id']}"
    response = admin_api.put(path, json=body)
    assert response.status_code == status, response.text
    stored = admin_api.get(path).json()
    if status == 200:
        assert stored["name"] == body["name"] and response.json()["name"] == body["name"]
    else:
        assert_pingone_error(response, 400, "INVALID_DATA")
        assert stored["name"] == "before" and stored["enabled"] is True  # nothing half-written


def test_a_second_organization_admin_makes_removal_possible(stack: Stack, admin_api: Api) -> None:
    env = admin_api.new_environment("second admins")
    second = powerful_app(admin_api, env, ORG_ADMIN)
    path = f"/v1/environments/{env}/applications/{second['id']}"
    assert admin_api.put(path, json={"name": "second", "enabled": False}).status_code == 200
    assert token_status(stack.url, env, second["id"], second["clientSecret"]) == 401
    assert admin_api.delete(f"/v1/environments/{env}").status_code == 204
