"""Tokens, roles and tenant isolation."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from phone_delivery.runtime import open_cipher
from phone_delivery.security.tokens import TokenService
from phone_delivery.store.database import Database
from tests.conftest import Stack
from tests.support import NOT_AUTHORIZED_PREFIX, Api, Credentials, assert_pingone_error


def token_service(stack: Stack, audience: str | None = None, lifetime: int = 3600) -> TokenService:
    async def load() -> TokenService:
        database = Database(stack.database_url)
        try:
            return await TokenService.load(
                database, open_cipher(stack.settings), audience or stack.settings.token_audience, lifetime
            )
        finally:
            await database.dispose()

    return asyncio.run(load())


def call(stack: Stack, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{stack.url}{path}", headers=headers)


def env_admin(api: Api, target_env: str) -> Credentials:
    """A new worker application in its own environment with Environment Admin of ``target_env``."""
    home = api.new_environment("worker home")
    app = api.post(f"/v1/environments/{home}/applications", json={"name": "worker"}).json()
    grant = api.post(
        f"/v1/environments/{home}/applications/{app['id']}/roleAssignments",
        json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": target_env}},
    )
    assert grant.status_code == 201, grant.text
    return Credentials(home, app["id"], app["clientSecret"])


def test_token_response_shape(stack: Stack) -> None:
    creds = stack.admin
    response = httpx.post(
        f"{stack.url}/{creds.environment_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{stack.url}/{creds.environment_id}/as"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"


def test_token_by_client_secret_post(stack: Stack) -> None:
    creds = stack.admin
    response = httpx.post(
        f"{stack.url}/{creds.environment_id}/as/token",
        data={"grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.client_secret},
    )
    assert response.status_code == 200, response.text


def test_jwks_and_discovery_verify_the_token(stack: Stack, admin_api: Api) -> None:
    env = stack.admin.environment_id
    discovery = httpx.get(f"{stack.url}/{env}/as/.well-known/openid-configuration").json()
    assert discovery["token_endpoint"] == f"{stack.url}/{env}/as/token"
    jwks = httpx.get(discovery["jwks_uri"]).json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(admin_api.token, key=key, algorithms=["ES256"], audience=stack.settings.token_audience)
    assert claims["client_id"] == stack.admin.client_id


@pytest.mark.parametrize(
    ("form", "auth", "error", "status"),
    [
        ({"grant_type": "client_credentials"}, ("wrong", "creds"), "invalid_client", 401),
        ({"grant_type": "password"}, None, "unsupported_grant_type", 400),
        ({}, None, "invalid_request", 400),
        ({"grant_type": "client_credentials"}, None, "invalid_client", 401),
    ],
)
def test_token_endpoint_errors(stack: Stack, form, auth, error, status) -> None:  # type: ignore[no-untyped-def]
    response = httpx.post(f"{stack.url}/{stack.admin.environment_id}/as/token", data=form, auth=auth)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_wrong_secret_and_wrong_environment(stack: Stack) -> None:
    creds = stack.admin
    url = f"{stack.url}/{creds.environment_id}/as/token"
    wrong = httpx.post(
        url, data={"grant_type": "client_credentials"}, auth=(creds.client_id, "x" + creds.client_secret)
    )
    assert wrong.status_code == 401
    other_env = httpx.post(
        f"{stack.url}/{uuid.uuid4()}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert other_env.status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-jwt", "Basic abc", "Bearer a.b.c"])
def test_missing_or_garbage_token_is_401(stack: Stack, env: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(
        f"{stack.url}/v1/environments/{env}/notificationsSettings/phoneDeliverySettings", headers=headers
    )
    body = assert_pingone_error(response, 401, "ACCESS_FAILED")
    assert body["details"][0]["code"] == "INVALID_TOKEN"
    assert not body["message"].startswith(NOT_AUTHORIZED_PREFIX)


def test_expired_token_is_401(stack: Stack, env: str) -> None:
    signer = token_service(stack)
    now = int(time.time())
    claims = {
        "iss": f"{stack.url}/{stack.admin.environment_id}/as",
        "aud": [stack.settings.token_audience],
        "iat": now - 7200,
        "exp": now - 3600,
        "client_id": stack.admin.client_id,
        "env": stack.admin.environment_id,
    }
    token = jwt.encode(claims, signer._private_key, algorithm="ES256", headers={"kid": signer._kid})
    body = assert_pingone_error(call(stack, f"/v1/environments/{env}", token), 401, "ACCESS_FAILED")
    assert "expired" in body["message"]


def test_wrong_audience_is_401(stack: Stack, env: str) -> None:
    token = token_service(stack, audience="https://someone-else.example").issue(
        stack.admin.client_id, stack.admin.environment_id, "issuer"
    )
    body = assert_pingone_error(call(stack, f"/v1/environments/{env}", token), 401, "ACCESS_FAILED")
    assert "audience" in body["message"]


def test_forged_token_is_401(stack: Stack, env: str) -> None:
    signer = token_service(stack)
    forger = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {
        "aud": [stack.settings.token_audience],
        "iat": now,
        "exp": now + 600,
        "client_id": stack.admin.client_id,
        "env": stack.admin.environment_id,
    }
    forged = jwt.encode(claims, forger, algorithm="ES256", headers={"kid": signer._kid})
    assert_pingone_error(call(stack, f"/v1/environments/{env}", forged), 401, "ACCESS_FAILED")
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": signer._kid})
    assert_pingone_error(call(stack, f"/v1/environments/{env}", unsigned), 401, "ACCESS_FAILED")


def test_environment_admin_reaches_only_its_environment(stack: Stack, admin_api: Api, account) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = admin_api.new_environment("mine"), admin_api.new_environment("theirs")
    sender = {
        "name": "s",
        "sid": account["accountSid"],
        "authToken": account["authToken"],
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    }
    secret_sender = admin_api.post(admin_api.senders_path(theirs), json=sender).json()
    worker = Api(stack.url, env_admin(admin_api, mine))

    assert worker.post(worker.senders_path(mine), json=sender).status_code == 201
    assert worker.get(worker.senders_path(mine)).status_code == 200

    attempts = [
        worker.get(worker.senders_path(theirs)),
        worker.get(worker.senders_path(theirs, secret_sender["id"])),
        worker.post(worker.senders_path(theirs), json=sender),
        worker.put(worker.senders_path(theirs, secret_sender["id"]), json={**secret_sender, "authToken": "x"}),
        worker.delete(worker.senders_path(theirs, secret_sender["id"])),
        worker.get(f"/v1/environments/{theirs}"),
        worker.get(f"/v1/environments/{theirs}/activities"),
        worker.get(f"/v1/environments/{theirs}/applications"),
        worker.get(worker.senders_path(str(uuid.uuid4()))),
    ]
    for response in attempts:
        body = assert_pingone_error(response, 403, "ACCESS_FAILED")
        assert body["details"][0]["code"] == "INSUFFICIENT_PERMISSIONS"
        assert not body["message"].startswith(NOT_AUTHORIZED_PREFIX)
        assert secret_sender["id"] not in response.text
        assert theirs not in response.text
    assert admin_api.get(admin_api.senders_path(theirs, secret_sender["id"])).status_code == 200

    listed = worker.get("/v1/environments").json()["_embedded"]["environments"]
    assert [e["id"] for e in listed] == [mine]
    assert_pingone_error(worker.post("/v1/environments", json={"name": "x"}), 403, "ACCESS_FAILED")


def test_environment_admin_cannot_grant_itself_more(stack: Stack, admin_api: Api) -> None:
    mine, theirs = admin_api.new_environment("mine"), admin_api.new_environment("theirs")
    creds = env_admin(admin_api, mine)
    worker = Api(stack.url, creds)
    app = worker.post(f"/v1/environments/{mine}/applications", json={"name": "helper"}).json()
    roles = f"/v1/environments/{mine}/applications/{app['id']}/roleAssignments"
    escalate = worker.post(roles, json={"role": {"id": "ORGANIZATION_ADMIN"}, "scope": {"type": "ORGANIZATION"}})
    assert_pingone_error(escalate, 403, "ACCESS_FAILED")
    sideways = worker.post(
        roles, json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": theirs}}
    )
    assert_pingone_error(sideways, 403, "ACCESS_FAILED")


def test_removed_role_and_rotated_secret_take_effect(stack: Stack, admin_api: Api) -> None:
    target = admin_api.new_environment("target")
    creds = env_admin(admin_api, target)
    worker = Api(stack.url, creds)
    assert worker.get(f"/v1/environments/{target}").status_code == 200

    roles_path = f"/v1/environments/{creds.environment_id}/applications/{creds.client_id}/roleAssignments"
    assignment = admin_api.get(roles_path).json()["_embedded"]["roleAssignments"][0]
    assert admin_api.delete(f"{roles_path}/{assignment['id']}").status_code == 204
    assert_pingone_error(worker.get(f"/v1/environments/{target}"), 403, "ACCESS_FAILED")

    rotated = admin_api.post(f"/v1/environments/{creds.environment_id}/applications/{creds.client_id}/secret")
    assert rotated.status_code == 200
    old = httpx.post(
        f"{stack.url}/{creds.environment_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert old.status_code == 401
    new = httpx.post(
        f"{stack.url}/{creds.environment_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, rotated.json()["secret"]),
    )
    assert new.status_code == 200
