"""A client generated from our /openapi.json (openapi-python-client, as a user would generate one)
works against the running service: it gets a token with client credentials, creates an
environment and a sender, selects a Messaging Service, sends an SMS that reaches the sandbox, and
reads PingOne's error body as the named ``Error`` model."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.integration.test_delivery import unique_number
from tests.support import SandboxAdmin

REQUEST_BODIES = {
    "createToken": "TokenRequest",
    "createEnvironment": "EnvironmentCreate",
    "createPhoneDeliverySettings": "PhoneDeliverySettingsCreate",
    "updatePhoneDeliverySettings": "PhoneDeliverySettingsUpdate",
    "createNotification": "NotificationCreate",
}


@pytest.fixture(scope="module")
def document(stack: Stack) -> dict[str, Any]:
    return dict(httpx.get(f"{stack.url}/openapi.json").json())


@pytest.fixture(scope="module")
def generated(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    import json

    folder = tmp_path_factory.mktemp("generated")
    (folder / "openapi.json").write_text(json.dumps(document))
    package = f"pd_client_{folder.name.replace('-', '_')}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(folder / package),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))


def test_every_operation_and_request_body_has_a_name(document: dict[str, Any]) -> None:
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(i.isidentifier() and "_" not in i for i in ids), ids  # PingOne style, not FastAPI's
    by_id = {op["operationId"]: op for op in operations}
    for operation in operations:
        for media in operation.get("requestBody", {}).get("content", {}).values():
            assert set(media["schema"]) == {"$ref"}, operation["operationId"]
    for operation_id, name in REQUEST_BODIES.items():
        [media] = by_id[operation_id]["requestBody"]["content"].values()
        assert media["schema"] == {"$ref": f"#/components/schemas/{name}"}
    assert set(document["components"]["securitySchemes"]) == {"bearer", "clientCredentials"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_generated_client_configures_and_sends(generated: ModuleType, stack: Stack, sandbox: SandboxAdmin) -> None:
    name = generated.__name__
    models = importlib.import_module(f"{name}.models")
    api = f"{name}.api"
    create_token = importlib.import_module(f"{api}.authorization.create_token")
    create_environment = importlib.import_module(f"{api}.environments.create_environment")
    senders = f"{api}.phone_delivery_settings"
    create_sender = importlib.import_module(f"{senders}.create_phone_delivery_settings")
    update_sender = importlib.import_module(f"{senders}.update_phone_delivery_settings")
    update_settings = importlib.import_module(f"{api}.notifications_settings.update_notifications_settings")
    create_notification = importlib.import_module(f"{api}.notifications_extension.create_notification")
    read_notification = importlib.import_module(f"{api}.notifications_extension.read_one_notification")

    anonymous = generated.Client(base_url=stack.url)
    token = create_token.sync(
        stack.admin.environment_id,
        client=anonymous,
        body=models.TokenRequest(
            grant_type=models.TokenRequestGrantType("client_credentials"),
            client_id=stack.admin.client_id,
            client_secret=stack.admin.client_secret,
        ),
    )
    assert isinstance(token, models.Token), token
    client = generated.AuthenticatedClient(base_url=stack.url, token=token.access_token)

    environment = create_environment.sync(client=client, body=models.EnvironmentCreate(name="generated client"))
    assert isinstance(environment, models.Environment), environment
    env = environment.id

    account = sandbox.account(services=2)
    created = create_sender.sync(
        env,
        client=client,
        body=models.PhoneDeliverySettingsCreate.from_dict(
            {
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
                "name": "from a generated client",
                "sid": account["accountSid"],
                "authToken": account["authToken"],
            }
        ),
    )
    assert isinstance(created, models.PhoneDeliverySettings), created
    body = created.to_dict()
    chosen = body["messagingServices"][1]["messagingServiceId"]
    body["messagingServices"] = [
        {**s, "selected": s["messagingServiceId"] == chosen} for s in body["messagingServices"]
    ]
    updated = update_sender.sync(
        env,
        created.id,
        client=client,
        body=models.PhoneDeliverySettingsUpdate.from_dict({**body, "authToken": account["authToken"]}),
    )
    assert isinstance(updated, models.PhoneDeliverySettings), updated
    settings = update_settings.sync(
        env,
        client=client,
        body=models.NotificationsSettingsUpdate.from_dict({"smsProvidersFallbackChain": [str(created.id)]}),
    )
    assert isinstance(settings, models.NotificationsSettings), settings

    to = unique_number()
    queued = create_notification.sync(
        env,
        client=client,
        body=models.NotificationCreate(
            delivery_method=models.NotificationCreateDeliveryMethod("SMS"), to=to, message="generated"
        ),
    )
    assert isinstance(queued, models.Notification), queued
    deadline = time.monotonic() + 15
    while (done := read_notification.sync(env, queued.id, client=client)).status.value != "DELIVERED":
        assert time.monotonic() < deadline, done
        time.sleep(0.05)
    [message] = sandbox.http.get("/_admin/inbox", params={"to": to}).json()["messages"]
    assert message["messagingServiceSid"] == chosen and message["body"] == "generated"

    refused = create_notification.sync(
        env,
        client=client,
        body=models.NotificationCreate(
            delivery_method=models.NotificationCreateDeliveryMethod("VOICE"), to=to, message="no voice here"
        ),
    )
    assert isinstance(refused, models.Error), refused
    assert refused.code == "INVALID_DATA"
    assert [d.target for d in refused.details] == ["deliveryMethod"]
