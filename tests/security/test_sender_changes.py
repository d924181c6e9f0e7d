"""Holes 4 and 5: a PUT stores exactly the secrets it carries, and takes effect at once.

Each test changes a custom provider's credentials or authentication method and then sends right
away, through the test-send endpoint and through the outbox, asserting what the gateway received.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.security.gateway import Gateway, credentials_seen, custom_sender, oauth_client
from tests.support import Api, SandboxAdmin, wait_final


def authentications(sandbox: SandboxAdmin) -> dict[str, dict[str, Any]]:
    first, second = oauth_client(sandbox), oauth_client(sandbox)
    token_url = f"{sandbox.base}/oauth/token"
    return {
        "basic": {"method": "BASIC", "username": "pd-user", "password": "first-password"},
        "basic-new-password": {"method": "BASIC", "username": "pd-user", "password": "second-password"},
        "bearer": {"method": "BEARER", "authToken": "bearer-" + uuid.uuid4().hex},
        "header": {"method": "CUSTOM_HEADER", "headerName": "X-Api-Key", "headerValue": "key-" + uuid.uuid4().hex},
        "oauth2": {"method": "OAUTH2", "authUrl": token_url, **_client(first)},
        "oauth2-other-client": {"method": "OAUTH2", "authUrl": token_url, **_client(second)},
    }


def _client(client: dict[str, Any]) -> dict[str, str]:
    return {"clientId": client["clientId"], "clientSecret": client["clientSecret"]}


CHANGES = [
    ("basic", "basic-new-password"),
    ("basic", "bearer"),
    ("bearer", "header"),
    ("header", "oauth2"),
    ("oauth2", "oauth2-other-client"),
    ("oauth2", "basic"),
    ("bearer", "basic"),
]


def send_test_message(api: Api, env: str, sender_id: str) -> dict[str, Any]:
    response = api.post(
        f"{api.senders_path(env, sender_id)}/test", json={"deliveryMethod": "SMS", "to": "+14155552671"}
    )
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert body["status"] == "SENT", body
    return body


def notify(api: Api, env: str) -> dict[str, Any]:
    response = api.post(
        f"/v1/environments/{env}/notifications",
        json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "hello"},
    )
    assert response.status_code == 202, response.text
    return wait_final(api, env, response.json()["id"])


@pytest.mark.parametrize(("before", "after"), CHANGES)
def test_put_sends_exactly_the_new_credentials(
    admin_api: Api, env: str, sandbox: SandboxAdmin, before: str, after: str
) -> None:
    auth = authentications(sandbox)
    gateway = Gateway.new(sandbox)
    created = admin_api.post(admin_api.senders_path(env), json=custom_sender(gateway.url, auth[before]))
    assert created.status_code == 201, created.text
    sender = created.json()
    assert (
        admin_api.put(
            f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender["id"]]}
        ).status_code
        == 200
    )

    send_test_message(admin_api, env, sender["id"])
    assert credentials_seen(sandbox, gateway.last_headers(), auth[before])
    assert notify(admin_api, env)["status"] == "SENT"  # the worker has now resolved (and cached) the sender
    assert credentials_seen(sandbox, gateway.last_headers(), auth[before])

    replaced = admin_api.put(admin_api.senders_path(env, sender["id"]), json={**sender, "authentication": auth[after]})
    assert replaced.status_code == 200, replaced.text

    send_test_message(admin_api, env, sender["id"])
    headers = gateway.last_headers()
    assert credentials_seen(sandbox, headers, auth[after]), headers
    assert not credentials_seen(sandbox, headers, auth[before])
    done = notify(admin_api, env)
    assert done["status"] == "SENT", done
    headers = gateway.last_headers()
    assert credentials_seen(sandbox, headers, auth[after]), headers


def test_a_changed_url_is_used_by_the_next_send(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    first, second = Gateway.new(sandbox), Gateway.new(sandbox)
    auth = {"method": "BEARER", "authToken": "t-" + uuid.uuid4().hex}
    sender = admin_api.post(admin_api.senders_path(env), json=custom_sender(first.url, auth)).json()
    admin_api.put(f"/v1/environments/{env}/notificationsSettings", json={"smsProvidersFallbackChain": [sender["id"]]})
    assert notify(admin_api, env)["status"] == "SENT"
    assert len(first.received()) == 1
    moved = admin_api.put(
        admin_api.senders_path(env, sender["id"]),
        json={**sender, "authentication": auth, "requests": custom_sender(second.url, auth)["requests"]},
    )
    assert moved.status_code == 200, moved.text
    assert notify(admin_api, env)["status"] == "SENT"
    assert len(first.received()) == 1
    assert len(second.received()) == 1
