"""Small behaviours at the API's edges: 405's Allow header, JWKS of an unknown environment, and an
attempt whose sender could not be loaded."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import Stack
from tests.security.conftest import own_service, restarted
from tests.support import Api, SandboxAdmin, assert_pingone_error, wait_final


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/v1/environments", {"GET", "POST"}),
        ("PATCH", "/v1/environments/{env}", {"GET", "PUT", "DELETE"}),
        ("PATCH", "/v1/environments/{env}/notificationsSettings/phoneDeliverySettings", {"GET", "POST"}),
        ("POST", "/v1/environments/{env}/notificationsSettings", {"GET", "PUT", "DELETE"}),
        ("DELETE", "/v1/environments/{env}/notifications", {"GET", "POST"}),
        ("PATCH", "/v1/environments/{env}/applications/{id}", {"GET", "PUT", "DELETE"}),
    ],
)
def test_405_lists_every_allowed_method(admin_api: Api, env: str, method: str, path: str, allowed: set[str]) -> None:
    response = admin_api.request(method, path.format(env=env, id=uuid.uuid4()))
    assert_pingone_error(response, 405, "INVALID_REQUEST")
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed, listed
    assert method not in listed


def test_jwks_and_discovery_of_an_unknown_environment_are_404(stack: Stack) -> None:
    unknown = uuid.uuid4()
    for path in (f"/{unknown}/as/jwks", f"/{unknown}/as/.well-known/openid-configuration", "/not-a-uuid/as/jwks"):
        assert_pingone_error(httpx.get(stack.url + path), 404, "NOT_FOUND")
    known = stack.admin.environment_id
    assert httpx.get(f"{stack.url}/{known}/as/jwks").json()["keys"]


def test_an_attempt_whose_sender_is_gone_names_no_provider(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> None:
    """A notification keeps the chain it was accepted with; a sender deleted meanwhile (after leaving
    the environment's chain) cannot be loaded: the attempt says so and names no provider. The
    notification is accepted while no worker runs, so the order is certain."""
    with own_service(stack, sandbox, tmp_path, worker_enabled=False) as service:
        api = service.api()
        env = api.new_environment("gone")
        template = {"deliveryMethod": "SMS", "method": "GET", "url": "https://93.184.216.34/?t=${to}&m=${message}"}
        body = {"provider": "CUSTOM_PROVIDER", "name": "gone", "requests": [template]}
        sender = api.post(
            api.senders_path(env), json={**body, "authentication": {"method": "BEARER", "authToken": "t"}}
        ).json()
        settings = f"/v1/environments/{env}/notificationsSettings"
        api.put(settings, json={"smsProvidersFallbackChain": [sender["id"]]})
        accepted = api.post(
            f"/v1/environments/{env}/notifications",
            json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "x"},
        ).json()
        api.put(settings, json={"smsProvidersFallbackChain": []})
        assert api.delete(api.senders_path(env, sender["id"])).status_code == 204
        working = dataclasses.replace(service, settings=service.settings.model_copy(update={"worker_enabled": True}))
        with restarted(working) as again:
            done = wait_final(again.api(), env, accepted["id"])
    [attempt] = done["attempts"]
    assert attempt["outcome"] == "FAILED_SENDER" and attempt["sender"]["id"] == sender["id"]
    assert "provider" not in attempt, attempt
    assert "deleted" in attempt["errorMessage"]
    assert done["status"] == "FAILED" and done["sender"] == {"id": sender["id"]}
