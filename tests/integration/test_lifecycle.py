"""Environments and applications, restarts, and the operator endpoints."""

from __future__ import annotations

import httpx

from tests.conftest import Stack
from tests.support import (
    Api,
    Credentials,
    SandboxAdmin,
    assert_pingone_error,
    bootstrap,
    private_service,
    sqlite_settings,
)


def test_environment_crud(admin_api: Api) -> None:
    created = admin_api.post("/v1/environments", json={"name": "Staging", "type": "PRODUCTION", "region": "EU"})
    assert created.status_code == 201
    env = created.json()
    assert (env["name"], env["type"], env["region"]) == ("Staging", "PRODUCTION", "EU")
    path = f"/v1/environments/{env['id']}"
    assert admin_api.get(path).json() == env
    updated = admin_api.put(path, json={"name": "Staging 2", "description": "renamed"})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Staging 2"
    assert updated.json()["region"] == "EU"
    assert env["id"] in {e["id"] for e in admin_api.get("/v1/environments").json()["_embedded"]["environments"]}
    assert admin_api.delete(path).status_code == 204
    assert_pingone_error(admin_api.get(path), 404, "NOT_FOUND")


def test_environment_validation(admin_api: Api) -> None:
    body = assert_pingone_error(admin_api.post("/v1/environments", json={"type": "LAB"}), 400, "INVALID_DATA")
    targets = {d["target"]: d for d in body["details"]}
    assert targets["name"]["code"] == "REQUIRED_VALUE"
    assert targets["type"]["innerError"]["allowedValues"] == ["SANDBOX", "PRODUCTION"]


def test_deleting_an_environment_removes_everything_in_it(stack: Stack, admin_api: Api, account) -> None:  # type: ignore[no-untyped-def]
    env = admin_api.new_environment("doomed")
    sender = admin_api.post(
        admin_api.senders_path(env),
        json={
            "name": "s",
            "sid": account["accountSid"],
            "authToken": account["authToken"],
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
        },
    ).json()
    app = admin_api.post(f"/v1/environments/{env}/applications", json={"name": "inside"}).json()
    grant = admin_api.post(
        f"/v1/environments/{env}/applications/{app['id']}/roleAssignments",
        json={"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": env}},
    )
    assert grant.status_code == 201
    worker = Api(stack.url, Credentials(env, app["id"], app["clientSecret"]))
    assert worker.get(worker.senders_path(env)).status_code == 200

    assert admin_api.delete(f"/v1/environments/{env}").status_code == 204
    assert_pingone_error(admin_api.get(admin_api.senders_path(env, sender["id"])), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.get(f"/v1/environments/{env}/activities"), 404, "NOT_FOUND")
    assert_pingone_error(worker.get(worker.senders_path(env)), 401, "ACCESS_FAILED")  # its application is gone
    token = httpx.post(
        f"{stack.url}/{env}/as/token", data={"grant_type": "client_credentials"}, auth=(app["id"], app["clientSecret"])
    )
    assert token.status_code == 401


def test_application_secret_shown_once(admin_api: Api, env: str) -> None:
    created = admin_api.post(f"/v1/environments/{env}/applications", json={"name": "w"}).json()
    assert len(created["clientSecret"]) >= 64
    read = admin_api.get(f"/v1/environments/{env}/applications/{created['id']}").json()
    assert "clientSecret" not in read
    listed = admin_api.get(f"/v1/environments/{env}/applications").text
    assert created["clientSecret"] not in listed


def test_data_and_tokens_survive_a_restart(sandbox: SandboxAdmin, tmp_path, account) -> None:  # type: ignore[no-untyped-def]
    settings = sqlite_settings(tmp_path, sandbox)
    creds = bootstrap(settings)
    with private_service(settings, creds) as api:
        env = api.new_environment()
        sender = api.post(
            api.senders_path(env),
            json={
                "name": "durable",
                "sid": account["accountSid"],
                "authToken": account["authToken"],
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            },
        ).json()
        token = api.token
        port = int(api.base.rsplit(":", 1)[1])
    with private_service(settings, creds, port=port) as restarted:  # same address: same issuer
        again = httpx.get(
            f"{restarted.base}{api.senders_path(env, sender['id'])}", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 200, again.text  # same signing key, same data
        assert again.json()["messagingServices"] == sender["messagingServices"]
        assert again.json()["name"] == "durable"


def test_health_metrics_and_docs(stack: Stack, admin_api: Api, env: str) -> None:
    assert httpx.get(f"{stack.url}/health/live").json() == {"status": "UP"}
    assert httpx.get(f"{stack.url}/health/ready").json()["database"] == "UP"
    admin_api.get(admin_api.senders_path(env))
    metrics = httpx.get(f"{stack.url}/metrics").text
    assert (
        'phone_delivery_http_requests_total{method="GET",route="/v1/environments/{envID}/notificationsSettings'
        in metrics
    )
    assert "phone_delivery_http_request_duration_seconds_bucket" in metrics
    docs = httpx.get(f"{stack.url}/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    spec = httpx.get(f"{stack.url}/openapi.json").json()
    ops = {op.get("operationId") for path in spec["paths"].values() for op in path.values()}
    assert {
        "createPhoneDeliverySettings",
        "readAllPhoneDeliverySettings",
        "readOnePhoneDeliverySettings",
        "updatePhoneDeliverySettings",
        "deletePhoneDeliverySettings",
    } <= ops
    response = httpx.get(f"{stack.url}/health/live")
    assert response.headers.get("x-request-id")
