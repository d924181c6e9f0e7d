"""Hole 9 and the token family: only a token this server issued, for this audience, from this
environment's issuer, signed with ES256, unexpired, of an application that still exists and is
enabled, gets anything. Every forgery is tried against a real endpoint and must get 401."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.conftest import Stack
from tests.integration.test_auth import token_service
from tests.security.conftest import OwnService
from tests.support import Api, assert_pingone_error


def call(stack: Stack, env: str, token: str) -> httpx.Response:
    return httpx.get(f"{stack.url}/v1/environments/{env}", headers={"Authorization": f"Bearer {token}"})


def real_claims(stack: Stack) -> dict[str, Any]:
    admin = stack.admin
    now = int(time.time())
    return {
        "iss": f"{stack.url}/{admin.environment_id}/as",
        "sub": admin.client_id,
        "aud": [stack.settings.token_audience],
        "iat": now,
        "exp": now + 600,
        "jti": "t",
        "client_id": admin.client_id,
        "env": admin.environment_id,
    }


def signed(stack: Stack, claims: dict[str, Any], **header: Any) -> str:
    """Signed with this server's real signing key: only the claims are wrong."""
    signer = token_service(stack)
    return jwt.encode(claims, signer._private_key, algorithm="ES256", headers={"kid": signer._kid, **header})


def test_a_genuine_token_works(stack: Stack, env: str) -> None:
    assert call(stack, env, signed(stack, real_claims(stack))).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "https://auth.pingone.com/x/as"},
        {"iss": "http://127.0.0.1:1/{env}/as"},
        {"iss": None},
        {"iss": "{base}/00000000-0000-0000-0000-000000000000/as"},
        {"aud": ["https://api.example.com"]},
        {"aud": None},
        {"exp": 1},
        {"env": "00000000-0000-0000-0000-000000000000"},
        {"client_id": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_a_token_with_a_wrong_claim_is_401(stack: Stack, env: str, change: dict[str, Any]) -> None:
    claims = real_claims(stack)
    for key, value in change.items():
        if value is None:
            claims.pop(key)
        else:
            claims[key] = (
                value.format(base=stack.url, env=stack.admin.environment_id) if isinstance(value, str) else value
            )
    body = assert_pingone_error(call(stack, env, signed(stack, claims)), 401, "ACCESS_FAILED")
    assert body["details"][0]["code"] == "INVALID_TOKEN"


def test_without_a_public_base_the_issuer_is_the_host_the_token_came_from(fresh: OwnService) -> None:
    """With no PHONE_DELIVERY_PUBLIC_BASE_URL, a token issued at one host name carries that issuer and
    is refused when presented at another (behind a proxy, set the public base URL)."""
    assert fresh.settings.public_base_url is None
    admin = fresh.api()
    port = fresh.url.rsplit(":", 1)[1]
    env = admin.creds.environment_id
    mine = httpx.get(f"{fresh.url}/v1/environments/{env}", headers={"Authorization": f"Bearer {admin.token}"})
    assert mine.status_code == 200
    other = httpx.get(
        f"{fresh.url}/v1/environments/{env}",
        headers={"Authorization": f"Bearer {admin.token}", "Host": f"localhost:{port}"},
    )
    body = assert_pingone_error(other, 401, "ACCESS_FAILED")
    assert "issuer" in body["message"]


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256-other-key"])
def test_algorithm_confusion_is_401(stack: Stack, env: str, alg: str) -> None:
    claims = real_claims(stack)
    signer = token_service(stack)
    if alg == "none":
        token = jwt.encode(claims, None, algorithm="none", headers={"kid": signer._kid})
    elif alg == "HS256":  # the public key used as an HMAC secret
        public = json.dumps(ECAlgorithm.to_jwk(signer._private_key.public_key())).encode()
        token = jwt.encode(claims, public, algorithm="HS256", headers={"kid": signer._kid})
    else:
        token = jwt.encode(
            claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": signer._kid}
        )
    assert_pingone_error(call(stack, env, token), 401, "ACCESS_FAILED")


def test_a_disabled_or_deleted_application_loses_its_tokens(stack: Stack, admin_api: Api, env: str) -> None:
    app = admin_api.post(f"/v1/environments/{env}/applications", json={"name": "short-lived"}).json()
    path = f"/v1/environments/{env}/applications/{app['id']}"
    admin_api.post(
        f"{path}/roleAssignments",
        json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": env}},
    )
    token = httpx.post(
        f"{stack.url}/{env}/as/token", data={"grant_type": "client_credentials"}, auth=(app["id"], app["clientSecret"])
    ).json()["access_token"]
    assert call(stack, env, token).status_code == 200
    assert admin_api.put(path, json={"name": "short-lived", "enabled": False}).status_code == 200
    assert_pingone_error(call(stack, env, token), 401, "ACCESS_FAILED")
    assert admin_api.put(path, json={"name": "short-lived", "enabled": True}).status_code == 200
    assert call(stack, env, token).status_code == 200
    assert admin_api.delete(path).status_code == 204
    assert_pingone_error(call(stack, env, token), 401, "ACCESS_FAILED")
