"""Secrets are write-only: in no response, no log line, no database column in plaintext."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys

from sqlalchemy import text

from phone_delivery.store.crypto import Keyring
from phone_delivery.store.database import Database
from tests.conftest import Stack, captured_logs
from tests.support import Api, bootstrap, private_service, sqlite_settings

MARKER_TOKEN = "sekret-" + os.urandom(8).hex()


async def _dump_all_tables(url: str) -> str:
    """Every row of every table as text: what a database dump would contain."""
    database = Database(url)
    chunks: list[str] = []
    try:
        async with database.read() as conn:
            if database.sqlite:
                names = [r[0] for r in await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
            else:
                names = [
                    r[0]
                    for r in await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                ]
            for name in names:
                for row in await conn.execute(text(f'SELECT * FROM "{name}"')):  # noqa: S608 - names from catalog
                    chunks.append(repr(tuple(row)))
    finally:
        await database.dispose()
    return "\n".join(chunks)


def test_auth_token_never_leaves_in_plaintext(stack: Stack, admin_api: Api, env: str, sandbox) -> None:  # type: ignore[no-untyped-def]
    account = sandbox.http.post(
        "/_admin/accounts", json={"authToken": MARKER_TOKEN, "messagingServices": ["a", "b"]}
    ).json()
    body = {
        "name": "secret test",
        "sid": account["accountSid"],
        "authToken": MARKER_TOKEN,
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    }
    responses = [admin_api.post(admin_api.senders_path(env), json=body)]
    sender = responses[0].json()
    chosen = sender["messagingServices"][0]["messagingServiceId"]
    services = [{**s, "selected": s["messagingServiceId"] == chosen} for s in sender["messagingServices"]]
    responses += [
        admin_api.put(
            admin_api.senders_path(env, sender["id"]),
            json={**sender, "authToken": MARKER_TOKEN, "messagingServices": services},
        ),
        admin_api.put(admin_api.senders_path(env, sender["id"]), json={**sender, "authToken": MARKER_TOKEN + "x"}),
        admin_api.post(admin_api.senders_path(env), json={**body, "authToken": MARKER_TOKEN + "bad"}),
        admin_api.get(admin_api.senders_path(env, sender["id"])),
        admin_api.get(admin_api.senders_path(env)),
        admin_api.get(f"/v1/environments/{env}/activities"),
    ]
    for response in responses:
        assert response.status_code < 500
        assert MARKER_TOKEN not in response.text
        assert 'authToken":' not in response.text.replace(" ", "")

    dump = asyncio.run(_dump_all_tables(stack.database_url))
    assert sender["id"] in dump  # the dump really holds the sender
    assert MARKER_TOKEN not in dump
    if stack.backend == "sqlite":
        db_file = stack.settings.data_dir / "phone-delivery.db"
        for path in [db_file, db_file.with_name(db_file.name + "-wal")]:
            if path.exists():
                assert MARKER_TOKEN.encode() not in path.read_bytes()

    logs = captured_logs()
    assert sender["id"] in logs  # the access log line of the read is there: logging is captured
    assert MARKER_TOKEN not in logs
    assert stack.admin.client_secret not in logs


def test_client_secrets_are_stored_only_as_hashes(stack: Stack) -> None:
    dump = asyncio.run(_dump_all_tables(stack.database_url))
    assert stack.admin.client_id in dump
    assert stack.admin.client_secret not in dump


def test_key_file_is_private(stack: Stack) -> None:
    if stack.settings.secret_keys:
        return
    mode = stat.S_IMODE(os.stat(stack.settings.key_file).st_mode)
    assert mode == 0o600


def test_keys_rotate_reencrypts_and_service_still_reads(tmp_path, sandbox) -> None:  # type: ignore[no-untyped-def]

    settings = sqlite_settings(tmp_path, sandbox)
    db_url = settings.resolved_database_url
    creds = bootstrap(settings)
    account = sandbox.account(services=2)
    with private_service(settings, creds) as api:
        env = api.new_environment()
        sender = api.post(
            api.senders_path(env),
            json={
                "name": "n",
                "sid": account["accountSid"],
                "authToken": account["authToken"],
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            },
        ).json()
    old_primary = Keyring.load_file(settings.key_file).primary

    result = subprocess.run(
        [sys.executable, "-m", "phone_delivery", "keys", "rotate", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PHONE_DELIVERY_DATABASE_URL": db_url},
    )
    assert result.returncode == 0, result.stderr
    ring = Keyring.load_file(settings.key_file)
    assert ring.primary != old_primary
    assert set(ring.keys) == {old_primary, ring.primary}
    assert "re-encrypted 2 secret(s)" in result.stdout  # the sender and the token signing key
    dump = asyncio.run(_dump_all_tables(db_url))
    assert f"v1.{old_primary}." not in dump
    assert f"v1.{ring.primary}." in dump

    with private_service(settings, creds) as api:
        body = {**sender, "authToken": account["authToken"], "name": "after rotation"}
        response = api.put(api.senders_path(env, sender["id"]), json=body)  # decrypts the stored token
        assert response.status_code == 200, response.text


def test_every_provider_secret_is_write_only_and_encrypted(stack: Stack, admin_api: Api, env: str, sandbox) -> None:  # type: ignore[no-untyped-def]
    marks = {name: f"{name}-{os.urandom(6).hex()}" for name in ("password", "bearer", "header", "client", "syni")}
    client = sandbox.http.post("/_admin/oauth/clients", json={"clientSecret": marks["client"]}).json()
    seeded = sandbox.http.post(
        "/_admin/syniverse/accounts", json={"authToken": marks["syni"], "senderIds": [{"address": "+15005550200"}]}
    ).json()
    gateway = f"{sandbox.base}/gateway/sms"
    request = [{"deliveryMethod": "SMS", "method": "GET", "url": gateway + "?t=${to}&m=${message}"}]
    bodies = [
        {"authentication": {"method": "BASIC", "username": "u", "password": marks["password"]}},
        {"authentication": {"method": "BEARER", "authToken": marks["bearer"]}},
        {"authentication": {"method": "CUSTOM_HEADER", "headerName": "X-Key", "headerValue": marks["header"]}},
        {
            "authentication": {
                "method": "OAUTH2",
                "authUrl": f"{sandbox.base}/oauth/token",
                "clientId": client["clientId"],
                "clientSecret": marks["client"],
            }
        },
    ]
    texts = []
    for index, extra in enumerate(bodies):
        response = admin_api.post(
            admin_api.senders_path(env),
            json={"provider": "CUSTOM_PROVIDER", "name": f"custom {index}", "requests": request, **extra},
        )
        assert response.status_code == 201, response.text
        texts.append(response.text)
    assert seeded["authToken"] == marks["syni"]
    created = admin_api.post(
        admin_api.senders_path(env), json={"provider": "CUSTOM_SYNIVERSE", "authToken": marks["syni"]}
    )
    assert created.status_code == 201, created.text
    texts += [created.text, admin_api.get(admin_api.senders_path(env)).text]
    dump = asyncio.run(_dump_all_tables(stack.database_url))
    logs = captured_logs()
    for mark in marks.values():
        for seen in [*texts, dump, logs]:
            assert mark not in seen
