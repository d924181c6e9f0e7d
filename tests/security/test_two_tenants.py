"""Two tenants, each with every sender type and every authentication method, each with a marked
secret in every secret field. Tenant A's Environment Admin attacks tenant B through every endpoint;
every send goes out with its own tenant's credentials; and no secret of either is ever in a
response, a log line, a database row or the SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Stack, captured_logs
from tests.integration.test_secrets import _dump_all_tables
from tests.security.gateway import Gateway, credentials_seen, sms_template
from tests.security.tenants import Tenant, new_tenant
from tests.support import Api, SandboxAdmin

PROBE = {"deliveryMethod": "SMS", "to": "+14155552671"}


@dataclass
class Estate:
    """A tenant with all its senders."""

    tenant: Tenant
    secrets: list[str]
    senders: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> sender as created
    twilio_sid: str = ""
    syniverse_token: str = ""
    gateways: dict[str, tuple[Gateway, dict[str, Any]]] = field(default_factory=dict)  # label -> (gateway, auth)
    notification: str = ""


def mark(name: str) -> str:
    return f"{name}-{os.urandom(8).hex()}"


def created(api: Api, env: str, body: dict[str, Any], responses: list[str]) -> dict[str, Any]:
    response = api.post(api.senders_path(env), json=body)
    responses.append(response.text)
    assert response.status_code == 201, response.text
    return dict(response.json())


def replaced(api: Api, env: str, body: dict[str, Any], responses: list[str]) -> dict[str, Any]:
    response = api.put(api.senders_path(env, body["id"]), json=body)
    responses.append(response.text)
    assert response.status_code == 200, response.text
    return dict(response.json())


def build_estate(stack: Stack, admin: Api, sandbox: SandboxAdmin, name: str, responses: list[str]) -> Estate:
    tenant = new_tenant(stack, admin, name)
    api, env = tenant.api, tenant.environment_id
    twilio_token, syniverse_token = mark("twilio"), mark("syniverse")
    password, bearer, client_secret, header = mark("password"), mark("bearer"), mark("client"), mark("header")
    estate = Estate(tenant, [twilio_token, syniverse_token, password, bearer, client_secret, header])

    account = sandbox.http.post(
        "/_admin/accounts",
        json={
            "authToken": twilio_token,
            "messagingServices": ["Service"],
            "numbers": [{"phoneNumber": "+15005550006"}],
            "verifyServices": ["Verify"],
        },
    ).json()
    estate.twilio_sid = account["accountSid"]
    twilio = {"sid": account["accountSid"], "authToken": twilio_token}
    numbers = created(api, env, {"provider": "CUSTOM_TWILIO", "name": "numbers", **twilio}, responses)
    numbers["numbers"] = [{**n, "selected": True} for n in numbers["numbers"]]
    estate.senders["twilio numbers"] = replaced(api, env, {**numbers, "authToken": twilio_token}, responses)
    service = created(api, env, {"provider": "CUSTOM_TWILIO_MESSAGING_SERVICE", "name": "service", **twilio}, responses)
    service["messagingServices"] = [{**s, "selected": True} for s in service["messagingServices"]]
    estate.senders["twilio service"] = replaced(api, env, {**service, "authToken": twilio_token}, responses)
    estate.senders["twilio verify"] = created(
        api,
        env,
        {
            "provider": "CUSTOM_TWILIO_VERIFY",
            "name": "verify",
            "verifyServiceId": account["verifyServices"][0]["sid"],
            **twilio,
        },
        responses,
    )

    sandbox.http.post(
        "/_admin/syniverse/accounts",
        json={
            "authToken": syniverse_token,
            "senderIds": [{"address": "+15005550200", "type": "LONGCODE", "capabilities": ["SMS"]}],
            "channels": [{"name": "SMS channel", "capabilities": ["SMS"]}],
        },
    )
    estate.syniverse_token = syniverse_token
    syniverse = created(
        api, env, {"provider": "CUSTOM_SYNIVERSE", "name": "syniverse", "authToken": syniverse_token}, responses
    )
    syniverse["numbers"] = [{**n, "selected": True} for n in syniverse["numbers"]]
    estate.senders["syniverse"] = replaced(api, env, {**syniverse, "authToken": syniverse_token}, responses)
    channels = created(
        api, env, {"provider": "CUSTOM_SYNIVERSE_CHANNELS", "name": "channels", "authToken": syniverse_token}, responses
    )
    channels.update(
        channels=[{**c, "selected": True} for c in channels["channels"]],
        deliveryConfigurationsExist=False,
        smsTopicSubscription={},
        voiceTopicSubscription={},
        authToken=syniverse_token,
    )
    estate.senders["syniverse channels"] = replaced(api, env, channels, responses)

    client = sandbox.http.post("/_admin/oauth/clients", json={"clientSecret": client_secret}).json()
    authentications = {
        "basic": {"method": "BASIC", "username": "user", "password": password},
        "bearer": {"method": "BEARER", "authToken": bearer},
        "oauth2": {
            "method": "OAUTH2",
            "authUrl": f"{sandbox.base}/oauth/token",
            "clientId": client["clientId"],
            "clientSecret": client_secret,
        },
        "header": {"method": "CUSTOM_HEADER", "headerName": "X-Api-Key", "headerValue": header},
    }
    for label, auth in authentications.items():
        gateway = Gateway.new(sandbox)
        body = {
            "provider": "CUSTOM_PROVIDER",
            "name": label,
            "authentication": auth,
            "requests": [sms_template(gateway.url)],
        }
        estate.senders[label] = created(api, env, body, responses)
        estate.gateways[label] = (gateway, auth)

    chain = api.put(
        f"/v1/environments/{env}/notificationsSettings",
        json={"smsProvidersFallbackChain": [estate.senders["twilio service"]["id"]]},
    )
    responses.append(chain.text)
    sent = api.post(f"/v1/environments/{env}/notifications", json={**PROBE, "message": f"hello {name}"})
    responses.append(sent.text)
    estate.notification = sent.json()["id"]
    return estate


@pytest.fixture(scope="module")
def world(stack: Stack, admin_api: Api, sandbox: SandboxAdmin) -> dict[str, Any]:
    responses: list[str] = []
    a = build_estate(stack, admin_api, sandbox, f"tenant-a-{uuid.uuid4().hex[:6]}", responses)
    b = build_estate(stack, admin_api, sandbox, f"tenant-b-{uuid.uuid4().hex[:6]}", responses)
    return {"a": a, "b": b, "responses": responses}


def test_every_sender_sends_with_its_own_tenants_credentials(world: dict[str, Any], sandbox: SandboxAdmin) -> None:
    for estate in (world["a"], world["b"]):
        api, env = estate.tenant.api, estate.tenant.environment_id
        twilio_before = len(sandbox.requests(estate.twilio_sid))
        syniverse_path = f"/_admin/syniverse/accounts/{estate.syniverse_token}/message-requests"
        syniverse_before = len(sandbox.http.get(syniverse_path).json()["messageRequests"])
        for label, sender in estate.senders.items():
            response = api.post(f"{api.senders_path(env, sender['id'])}/test", json=PROBE)
            world["responses"].append(response.text)
            assert response.status_code == 200 and response.json()["status"] == "SENT", (label, response.text)
        # Twilio and Syniverse answered the tenant's own account; the gateways saw the tenant's own credentials.
        assert len(sandbox.requests(estate.twilio_sid)) >= twilio_before + 3
        assert len(sandbox.http.get(syniverse_path).json()["messageRequests"]) == syniverse_before + 2
        for label, (gateway, auth) in estate.gateways.items():
            assert credentials_seen(sandbox, gateway.last_headers(), auth), label


def test_a_tenant_reaches_nothing_of_the_other(world: dict[str, Any]) -> None:
    a, b = world["a"], world["b"]
    attacker, mine, theirs = a.tenant.api, a.tenant.environment_id, b.tenant.environment_id
    their_sender = b.senders["bearer"]
    their_app = b.tenant.creds.client_id
    settings_path = f"/v1/environments/{theirs}/notificationsSettings"
    forbidden = [
        attacker.get(attacker.senders_path(theirs)),
        attacker.get(attacker.senders_path(theirs, their_sender["id"])),
        attacker.put(attacker.senders_path(theirs, their_sender["id"]), json={**their_sender, "name": "mine"}),
        attacker.delete(attacker.senders_path(theirs, their_sender["id"])),
        attacker.post(f"{attacker.senders_path(theirs, their_sender['id'])}/test", json=PROBE),
        attacker.post(attacker.senders_path(theirs), json={"provider": "CUSTOM_SYNIVERSE", "authToken": "x"}),
        attacker.get(settings_path),
        attacker.put(settings_path, json={"smsProvidersFallbackChain": []}),
        attacker.delete(settings_path),
        attacker.post(f"/v1/environments/{theirs}/notifications", json={**PROBE, "message": "spoofed"}),
        attacker.get(f"/v1/environments/{theirs}/notifications"),
        attacker.get(f"/v1/environments/{theirs}/notifications/{b.notification}"),
        attacker.get(f"/v1/environments/{theirs}/activities"),
        attacker.get(f"/v1/environments/{theirs}"),
        attacker.put(f"/v1/environments/{theirs}", json={"name": "taken"}),
        attacker.delete(f"/v1/environments/{theirs}"),
        attacker.get(f"/v1/environments/{theirs}/applications"),
        attacker.get(f"/v1/environments/{theirs}/applications/{their_app}"),
        attacker.post(f"/v1/environments/{theirs}/applications/{their_app}/secret"),
        attacker.get(f"/v1/environments/{theirs}/applications/{their_app}/roleAssignments"),
        attacker.post(f"/v1/environments/{theirs}/applications", json={"name": "planted"}),
        attacker.put(f"/v1/environments/{theirs}/applications/{their_app}", json={"name": "x", "enabled": False}),
        attacker.delete(f"/v1/environments/{theirs}/applications/{their_app}"),
    ]
    # B's ids under A's own environment: as if they did not exist.
    not_found = [
        attacker.get(attacker.senders_path(mine, their_sender["id"])),
        attacker.put(attacker.senders_path(mine, their_sender["id"]), json={**their_sender, "name": "mine"}),
        attacker.delete(attacker.senders_path(mine, their_sender["id"])),
        attacker.post(f"{attacker.senders_path(mine, their_sender['id'])}/test", json=PROBE),
        attacker.get(f"/v1/environments/{mine}/notifications/{b.notification}"),
        attacker.get(f"/v1/environments/{mine}/applications/{their_app}"),
        attacker.post(f"/v1/environments/{mine}/applications/{their_app}/secret"),
        attacker.put(f"/v1/environments/{mine}/applications/{their_app}", json={"name": "mine", "enabled": False}),
        attacker.delete(f"/v1/environments/{mine}/applications/{their_app}"),
        attacker.get(f"/v1/environments/{mine}/applications/{their_app}/roleAssignments"),
    ]
    chain = attacker.put(
        f"/v1/environments/{mine}/notificationsSettings", json={"smsProvidersFallbackChain": [their_sender["id"]]}
    )
    for response in forbidden:
        assert response.status_code == 403, (response.request.method, response.request.url, response.text)
    for response in not_found:
        assert response.status_code == 404, (response.request.method, response.request.url, response.text)
    assert chain.status_code == 400, chain.text  # another tenant's sender cannot be put in a chain
    for response in [*forbidden, *not_found, chain]:
        world["responses"].append(response.text)
        assert their_sender["name"] not in response.text or "UNIQUENESS" in response.text
        for secret in b.secrets:
            assert secret not in response.text

    # B is exactly as it was: its application still works, its sender, chain and notification are there.
    owner = b.tenant.api
    assert owner.get(f"/v1/environments/{theirs}/applications/{their_app}").json()["enabled"] is True
    assert owner.get(owner.senders_path(theirs, their_sender["id"])).json()["name"] == their_sender["name"]
    assert owner.get(owner.senders_path(theirs)).json()["count"] == len(b.senders)
    settings = owner.get(settings_path).json()
    assert settings["smsProvidersFallbackChain"] == [b.senders["twilio service"]["id"]]
    notifications = owner.get(f"/v1/environments/{theirs}/notifications").json()["_embedded"]["notifications"]
    assert [n["id"] for n in notifications] == [b.notification]


def test_no_secret_in_any_response_log_line_or_database_file(world: dict[str, Any], stack: Stack) -> None:
    """Runs last in the module: every response collected above, the whole log, a dump of every table
    and the SQLite files themselves."""
    secrets = [*world["a"].secrets, *world["b"].secrets]
    responses = "\n".join(world["responses"])
    assert len(world["responses"]) > 60
    dump = asyncio.run(_dump_all_tables(stack.database_url))
    assert world["a"].senders["bearer"]["id"] in dump  # the dump really holds the senders
    logs = captured_logs()
    files = b""
    if stack.backend == "sqlite":
        db_file = stack.settings.data_dir / "phone-delivery.db"
        for path in (db_file, db_file.with_name(db_file.name + "-wal")):
            if path.exists():
                files += path.read_bytes()
    for secret in secrets:
        assert secret not in responses, secret
        assert secret not in logs, secret
        assert secret not in dump, secret
        assert secret.encode() not in files, secret
        assert json.dumps(secret)[1:-1] not in logs
