"""Our responses validate against the response schemas in Ping's OpenAPI file (secrets excepted:
Ping's spec marks ``authToken`` required in responses, but PingOne never returns it)."""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from tests.support import Api, SandboxAdmin

SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pingone" / "openapi.yaml"
SECRETS = {"authToken", "password"}


@functools.cache
def ping_validator() -> jsonschema.protocols.Validator:
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    for schema in spec["components"]["schemas"].values():
        _drop_required_secrets(schema)
    registry = Registry().with_resource("urn:ping", Resource.opaque(spec))  # type: ignore[var-annotated]
    schema = {"$ref": "urn:ping#/components/schemas/NotificationsSettingsPhoneDeliverySettings"}
    validator_cls = jsonschema.validators.validator_for({}, default=jsonschema.Draft202012Validator)
    return validator_cls(schema, registry=registry)  # type: ignore[call-arg]


def _drop_required_secrets(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("required"), list):
            node["required"] = [r for r in node["required"] if r not in SECRETS]
        for value in node.values():
            _drop_required_secrets(value)
    elif isinstance(node, list):
        for value in node:
            _drop_required_secrets(value)


def check(body: dict[str, Any]) -> None:
    ping_validator().validate(copy.deepcopy(body))
    assert not SECRETS & set(body)


# CI always has shared/ beside the clone, so there a missing spec is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    not SPEC.exists() and os.environ.get("CI") != "true",
    reason="shared/reference/pingone/openapi.yaml is not beside the repo",
)


def test_the_check_can_fail() -> None:
    with pytest.raises(jsonschema.ValidationError):
        ping_validator().validate({"provider": "CUSTOM_TWILIO", "sid": 5})


def test_custom_twilio_response(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.http.post(
        "/_admin/accounts", json={"numbers": [{"phoneNumber": "+15005550006"}], "shortCodes": ["55501"]}
    ).json()
    body = {"provider": "CUSTOM_TWILIO", "sid": account["accountSid"], "authToken": account["authToken"]}
    created = admin_api.post(admin_api.senders_path(env), json=body).json()
    check(created)
    numbers = [{**n, "selected": True} for n in created["numbers"]]
    numbers[1]["supportedCountries"] = ["US"]
    check(
        admin_api.put(
            admin_api.senders_path(env, created["id"]),
            json={**created, "authToken": account["authToken"], "numbers": numbers},
        ).json()
    )
    for item in admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"]:
        check(item)


def test_custom_syniverse_response(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.http.post(
        "/_admin/syniverse/accounts",
        json={"senderIds": [{"address": "+15005550200", "type": "LONGCODE", "capabilities": ["SMS", "VOICE"]}]},
    ).json()
    created = admin_api.post(
        admin_api.senders_path(env), json={"provider": "CUSTOM_SYNIVERSE", "authToken": account["authToken"]}
    ).json()
    check(created)
    check(admin_api.get(admin_api.senders_path(env, created["id"])).json())


def test_custom_provider_response(admin_api: Api, env: str) -> None:
    body = {
        "provider": "CUSTOM_PROVIDER",
        "name": "gw",
        "authentication": {"method": "BASIC", "username": "u", "password": "p"},
        "requests": [{"deliveryMethod": "SMS", "method": "GET", "url": "https://93.184.216.34/?t=${to}&m=${message}"}],
        "numbers": [{"number": "+15005550300", "type": "PHONE_NUMBER", "capabilities": ["SMS"]}],
    }
    created = admin_api.post(admin_api.senders_path(env), json=body)
    assert created.status_code == 201, created.text
    check(created.json())
    check(admin_api.get(admin_api.senders_path(env, created.json()["id"])).json())
