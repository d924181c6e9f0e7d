"""The user's story of issue 2: PingOne's documented requests, end to end over real HTTP."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from tests.conftest import Stack
from tests.support import Api, SandboxAdmin, assert_pingone_error, bootstrap, private_service, sqlite_settings

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def create_body(account: dict[str, object], name: str = "Twilio Messaging Services sender") -> dict[str, object]:
    return {
        "name": name,
        "sid": account["accountSid"],
        "authToken": account["authToken"],
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    }


def test_create_select_read_list_delete(stack: Stack, admin_api: Api, env: str, account: dict[str, object]) -> None:
    created = admin_api.post(admin_api.senders_path(env), json=create_body(account))
    assert created.status_code == 201, created.text
    body = created.json()

    sender_id = body["id"]
    assert uuid.UUID(sender_id).version == 4
    assert body["_links"]["self"]["href"] == f"{stack.url}{admin_api.senders_path(env, sender_id)}"
    assert body["_links"]["environment"]["href"] == f"{stack.url}/v1/environments/{env}"
    assert body["environment"] == {"id": env}
    assert body["name"] == "Twilio Messaging Services sender"
    assert body["provider"] == "CUSTOM_TWILIO_MESSAGING_SERVICE"
    assert body["sid"] == account["accountSid"]
    assert TIMESTAMP.match(body["createdAt"]) and TIMESTAMP.match(body["updatedAt"])
    assert "authToken" not in body
    expected = [
        {"selected": False, "name": s["friendlyName"], "messagingServiceId": s["sid"]}
        for s in account["messagingServices"]  # type: ignore[attr-defined]
    ]
    assert sorted(body["messagingServices"], key=lambda s: s["messagingServiceId"]) == sorted(
        expected, key=lambda s: s["messagingServiceId"]
    )

    chosen = body["messagingServices"][1]["messagingServiceId"]
    update = {
        **{k: v for k, v in body.items() if k not in ("_links",)},
        "authToken": account["authToken"],
        "messagingServices": [{**s, "selected": s["messagingServiceId"] == chosen} for s in body["messagingServices"]],
    }
    replaced = admin_api.put(admin_api.senders_path(env, sender_id), json=update)
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert [s["messagingServiceId"] for s in after["messagingServices"] if s["selected"]] == [chosen]
    assert "authToken" not in after
    assert after["createdAt"] == body["createdAt"]
    assert datetime.fromisoformat(after["updatedAt"]) > datetime.fromisoformat(body["updatedAt"])

    one = admin_api.get(admin_api.senders_path(env, sender_id))
    assert one.status_code == 200
    assert one.json() == after

    listed = admin_api.get(admin_api.senders_path(env))
    assert listed.status_code == 200
    assert listed.json()["_embedded"]["phoneDeliverySettings"] == [after]
    assert listed.json()["_links"]["self"]["href"] == f"{stack.url}{admin_api.senders_path(env)}"

    deleted = admin_api.delete(admin_api.senders_path(env, sender_id))
    assert deleted.status_code == 204 and deleted.content == b""
    assert_pingone_error(admin_api.get(admin_api.senders_path(env, sender_id)), 404, "NOT_FOUND")
    assert admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"] == []


def test_public_base_url_setting_builds_links(stack: Stack, sandbox: SandboxAdmin, tmp_path, account) -> None:  # type: ignore[no-untyped-def]

    settings = sqlite_settings(tmp_path, sandbox, public_base_url="https://pd.example.com/")
    with private_service(settings, bootstrap(settings)) as api:
        env = api.new_environment()
        created = api.post(api.senders_path(env), json=create_body(account)).json()
    assert created["_links"]["environment"]["href"] == f"https://pd.example.com/v1/environments/{env}"
    assert created["_links"]["self"]["href"].startswith("https://pd.example.com/v1/environments/")


def test_all_messaging_services_over_several_twilio_pages(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.account(services=230)
    before = len(sandbox.requests(str(account["accountSid"])))
    created = admin_api.post(admin_api.senders_path(env), json=create_body(account))
    assert created.status_code == 201, created.text
    ids = {s["messagingServiceId"] for s in created.json()["messagingServices"]}
    assert ids == {s["sid"] for s in account["messagingServices"]}
    assert len(ids) == 230
    calls = sandbox.requests(str(account["accountSid"]))[before:]
    pages = [c for c in calls if c["path"].endswith("/v1/Services")]
    assert len(pages) == 3, pages  # 100 + 100 + 30 with PageSize=100
    assert all("PageSize=100" in c["query"] for c in pages)


def test_activities_record_who_did_what_without_secrets(admin_api: Api, env: str, account: dict[str, object]) -> None:
    created = admin_api.post(admin_api.senders_path(env), json=create_body(account)).json()
    body = {**created, "authToken": account["authToken"], "name": "Renamed"}
    assert admin_api.put(admin_api.senders_path(env, created["id"]), json=body).status_code == 200
    assert admin_api.delete(admin_api.senders_path(env, created["id"])).status_code == 204

    response = admin_api.get(f"/v1/environments/{env}/activities")
    assert response.status_code == 200
    activities = response.json()["_embedded"]["activities"]
    assert [a["action"]["type"] for a in activities] == [
        "PHONE_DELIVERY_SETTINGS.DELETED",
        "PHONE_DELIVERY_SETTINGS.UPDATED",
        "PHONE_DELIVERY_SETTINGS.CREATED",
    ]
    for activity in activities:
        assert activity["actors"]["client"]["id"] == admin_api.creds.client_id
        assert activity["resources"][0]["id"] == created["id"]
        assert TIMESTAMP.match(activity["recordedAt"])
    assert str(account["authToken"]) not in response.text

    first = admin_api.get(f"/v1/environments/{env}/activities", params={"limit": 2}).json()
    assert len(first["_embedded"]["activities"]) == 2
    rest = admin_api.http.get(first["_links"]["next"]["href"], headers={"Authorization": f"Bearer {admin_api.token}"})
    assert [a["action"]["type"] for a in rest.json()["_embedded"]["activities"]] == ["PHONE_DELIVERY_SETTINGS.CREATED"]
    assert "next" not in rest.json()["_links"]
