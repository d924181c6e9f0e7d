"""Hole 6: rotating keys against a running deployment, and what our own errors may never do.

``keys rotate`` while the service runs: the service picks up the new key by itself and the
tenant's message goes out through the tenant's sender. A key that is really missing is our fault,
not the sender's: the notification waits (never failing over, least of all to PINGONE_TWILIO, the
operator's own account), the error is logged and counted, and once the key is back it is sent.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from phone_delivery.store.crypto import Keyring, new_key, new_key_id
from phone_delivery.store.database import Database
from phone_delivery.store.tables import senders
from tests.conftest import Stack, captured_logs
from tests.security.conftest import OwnService, own_service
from tests.security.tenants import messaging_service_sender
from tests.support import Api, SandboxAdmin, assert_pingone_error, wait_final


def platform_settings(sandbox: SandboxAdmin) -> tuple[dict[str, Any], dict[str, Any]]:
    platform = sandbox.http.post(
        "/_admin/accounts",
        json={"messagingServices": ["Operator service"], "numbers": [{"phoneNumber": "+15005550100"}]},
    ).json()
    settings = {
        "platform_twilio_account_sid": platform["accountSid"],
        "platform_twilio_auth_token": platform["authToken"],
        "platform_twilio_messaging_service_sid": platform["messagingServices"][0]["sid"],
    }
    return platform, settings


def send(api: Api, env: str) -> str:
    response = api.post(
        f"/v1/environments/{env}/notifications",
        json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "Your code is 424242"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def rotate(service: OwnService) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phone_delivery", "keys", "rotate", "--data-dir", str(service.settings.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PHONE_DELIVERY_DATABASE_URL": service.database_url},
    )


def messages_of(sandbox: SandboxAdmin, account_sid: str) -> int:
    return len([r for r in sandbox.requests(account_sid) if r["path"].endswith("/Messages.json")])


def test_keys_rotate_against_a_running_service(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> None:
    platform, platform_env = platform_settings(sandbox)
    with own_service(stack, sandbox, tmp_path, **platform_env) as service:
        api = service.api()
        env = api.new_environment("rotating")
        sender_id, account = messaging_service_sender(api, env, sandbox)
        chain = api.put(
            f"/v1/environments/{env}/notificationsSettings",
            json={"smsProvidersFallbackChain": [sender_id, "PINGONE_TWILIO"]},
        )
        assert chain.status_code == 200, chain.text

        result = rotate(service)  # the sender's secrets are now under a key the service has not loaded
        assert result.returncode == 0, result.stderr
        new_primary = Keyring.load_file(service.settings.key_file).primary

        done = wait_final(api, env, send(api, env))
        assert done["status"] in ("SENT", "DELIVERED"), done
        assert done["sender"]["provider"] == "CUSTOM_TWILIO_MESSAGING_SERVICE", done
        assert [a["outcome"] for a in done["attempts"]] == ["SENT"], done["attempts"]
        assert messages_of(sandbox, account["accountSid"]) == 1
        assert messages_of(sandbox, platform["accountSid"]) == 0

        # New secrets are written under the new primary key: the service loaded it.
        template = {"deliveryMethod": "SMS", "method": "GET", "url": "https://93.184.216.34/?t=${to}&m=${message}"}
        body = {"provider": "CUSTOM_PROVIDER", "name": "after", "requests": [template]}
        another = api.post(
            api.senders_path(env), json={**body, "authentication": {"method": "BEARER", "authToken": "x"}}
        )
        assert another.status_code == 201, another.text
        assert asyncio.run(secrets_key_id(service.database_url, "after")) == new_primary


async def secrets_key_id(database_url: str, sender_name: str) -> str:
    """The key id of a sender's stored secrets, read from the database."""
    database = Database(database_url)
    try:
        async with database.read() as conn:
            row = (await conn.execute(select(senders.c.secrets_ciphertext).where(senders.c.name == sender_name))).one()
    finally:
        await database.dispose()
    return str(row[0]).split(".")[1]


def test_a_missing_key_is_our_fault_never_the_senders(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> None:
    platform, platform_env = platform_settings(sandbox)
    with own_service(stack, sandbox, tmp_path, **platform_env) as service:
        api = service.api()
        env = api.new_environment("lost key")
        sender_id, account = messaging_service_sender(api, env, sandbox)
        api.put(
            f"/v1/environments/{env}/notificationsSettings",
            json={"smsProvidersFallbackChain": [sender_id, "PINGONE_TWILIO"]},
        )
        key_file = service.settings.key_file
        assert rotate(service).returncode == 0
        rotated = key_file.read_text()
        # The operator loses the new key: only an unrelated one is left in the file.
        stranger = new_key_id()
        Keyring(keys={stranger: new_key()}, primary=stranger).write_file(key_file)

        notification = send(api, env)
        deadline = time.monotonic() + 3
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = api.get(f"/v1/environments/{env}/notifications/{notification}").json()
            if len(body.get("attempts", [])) >= 3:
                break
            time.sleep(0.05)
        assert body["status"] in ("QUEUED", "SENDING"), body  # waiting, not failed, not sent elsewhere
        assert len(body["attempts"]) >= 3, body
        assert {a["outcome"] for a in body["attempts"]} <= {"FAILED_INTERNAL", "IN_PROGRESS"}, body["attempts"]
        assert all(a["sender"]["id"] == sender_id for a in body["attempts"])
        assert messages_of(sandbox, platform["accountSid"]) == 0  # never the operator's own account
        assert messages_of(sandbox, account["accountSid"]) == 0
        assert '"event": "send_internal_error"' in captured_logs()
        metrics = httpx.get(f"{service.url}/metrics").text
        assert 'phone_delivery_internal_errors_total{stage="send"}' in metrics
        tested = api.post(
            f"{api.senders_path(env, sender_id)}/test", json={"deliveryMethod": "SMS", "to": "+14155552671"}
        )
        body = assert_pingone_error(tested, 503, "REQUEST_FAILED")
        assert body["details"][0]["code"] == "SERVICE_UNAVAILABLE" and tested.headers["Retry-After"]
        assert "key" in body["message"]
        assert api.get(api.senders_path(env, sender_id)).status_code == 200  # reading needs no secret

        key_file.write_text(rotated)  # the operator puts the key back
        done = wait_final(api, env, notification)
        assert done["status"] in ("SENT", "DELIVERED"), done
        assert done["sender"]["id"] == sender_id
        assert messages_of(sandbox, account["accountSid"]) == 1
        assert messages_of(sandbox, platform["accountSid"]) == 0
