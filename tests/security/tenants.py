"""Tenants for attack tests: environments with their own Environment Admin applications.

Every helper acts through the public API with the credentials an attacker would really hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Stack
from tests.security.conftest import OwnService
from tests.support import Api, Credentials, SandboxAdmin


@dataclass
class Tenant:
    environment_id: str
    creds: Credentials  # Environment Admin of environment_id only (the application lives in it)
    api: Api


def new_tenant(stack: Stack | OwnService, admin: Api, name: str) -> Tenant:
    """An environment and a worker application in it that holds Environment Admin of it alone, on
    ``stack`` (the session's service, or one of the test's own)."""
    env = admin.new_environment(name)
    app = admin.post(f"/v1/environments/{env}/applications", json={"name": f"{name} admin"}).json()
    grant = admin.post(
        f"/v1/environments/{env}/applications/{app['id']}/roleAssignments",
        json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": env}},
    )
    assert grant.status_code == 201, grant.text
    creds = Credentials(env, app["id"], app["clientSecret"])
    return Tenant(env, creds, Api(stack.url, creds))


def token_status(base: str, environment_id: str, client_id: str, secret: str) -> int:
    """The token endpoint's status for these client credentials (200: they work)."""
    response = httpx.post(
        f"{base}/{environment_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    return response.status_code


def messaging_service_sender(api: Api, env: str, sandbox: SandboxAdmin) -> tuple[str, dict[str, Any]]:
    """A CUSTOM_TWILIO_MESSAGING_SERVICE sender on a new sandbox account, its one service selected:
    (sender id, the account)."""
    account = sandbox.http.post("/_admin/accounts", json={"messagingServices": ["Tenant service"]}).json()
    created = api.post(
        api.senders_path(env),
        json={
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            "name": "tenant twilio",
            "sid": account["accountSid"],
            "authToken": account["authToken"],
        },
    ).json()
    services = [{**s, "selected": True} for s in created["messagingServices"]]
    replaced = api.put(
        api.senders_path(env, created["id"]),
        json={**created, "authToken": account["authToken"], "messagingServices": services},
    )
    assert replaced.status_code == 200, replaced.text
    return str(created["id"]), dict(account)
