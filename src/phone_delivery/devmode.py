"""``phone-delivery dev``: embedded default + sandbox + a seeded environment, credentials on disk.

``{data_dir}/dev-credentials.json`` is written with mode 0600 and reused on the next start (the
sandbox is seeded again with the same account, so senders created earlier keep working).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from pathlib import Path
from typing import Any

from phone_delivery.accounts import assign_role, create_environment, create_organization_admin
from phone_delivery.domain.models import ENVIRONMENT_ADMIN
from phone_delivery.sandbox.state import SandboxState, new_sid
from phone_delivery.security.client_secrets import client_secret_matches
from phone_delivery.settings import Settings
from phone_delivery.store.database import Database
from phone_delivery.store.environments_repo import ApplicationRepository, EnvironmentRepository
from phone_delivery.store.migrate import upgrade_to_head

CREDENTIALS_FILE = "dev-credentials.json"
MESSAGING_SERVICE_NAMES = ("Sandbox OTP service", "Sandbox marketing service", "Sandbox alerts service")
# The dev account's numbers: SMS+voice, SMS only, toll-free; plus a short code and a Verify Service.
DEV_NUMBERS = (
    {"phoneNumber": "+15005550006", "sms": True, "voice": True},
    {"phoneNumber": "+15005550007", "sms": True, "voice": False},
    {"phoneNumber": "+18005550100", "sms": True, "voice": True},
)
DEV_SHORT_CODE = "55501"
DEV_SYNIVERSE_SENDERS = (
    {"address": "+15005550200", "type": "LONGCODE", "capabilities": ["SMS", "VOICE"]},
    {"address": "+18885550201", "type": "TOLLFREE", "capabilities": ["SMS"]},
    {"address": "55502", "type": "SHORTCODE", "capabilities": ["SMS"]},
)
DEV_SYNIVERSE_CHANNELS = (
    {"name": "Sandbox SMS channel", "capabilities": ["SMS"]},
    {"name": "Sandbox voice channel", "capabilities": ["VOICE"]},
)


def credentials_path(settings: Settings) -> Path:
    return settings.data_dir / CREDENTIALS_FILE


def read_credentials(path: Path) -> dict[str, Any] | None:
    """dev-credentials.json as written, or None when it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


async def _still_valid(database: Database, data: dict[str, Any]) -> bool:
    try:
        admin_env, client_id, secret, env_id = (
            data["adminEnvironmentId"],
            data["clientId"],
            data["clientSecret"],
            data["environmentId"],
        )
    except KeyError:
        return False
    async with database.read() as conn:
        found = await ApplicationRepository(conn).get_credentials(admin_env, client_id)
        env_ok = await EnvironmentRepository(conn).exists(env_id)
    return bool(found and env_ok and client_secret_matches(secret, found[1]))


async def prepare(settings: Settings, api_base: str, sandbox: SandboxState) -> dict[str, Any]:
    """Migrate, seed (or reuse) the dev environment and its admin client, seed the sandbox."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    try:
        await upgrade_to_head(database)
        path = credentials_path(settings)
        data = read_credentials(path)
        if data is None or not await _still_valid(database, data):
            async with database.write() as conn:
                admin_env, issued = await create_organization_admin(conn, "Administrators")
                env = await create_environment(conn, "Development", "Seeded by phone-delivery dev.")
                await assign_role(conn, issued.application.id, ENVIRONMENT_ADMIN, env.id)
            previous = data or {}
            twilio = previous.get("twilio") or {}
            data = {
                "adminEnvironmentId": admin_env.id,
                "environmentId": env.id,
                "clientId": issued.application.id,
                "clientSecret": issued.client_secret,
                "twilio": {
                    "accountSid": twilio.get("accountSid") or new_sid("AC"),
                    "authToken": twilio.get("authToken") or secrets.token_hex(16),
                    "messagingServices": twilio.get("messagingServices")
                    or [{"sid": new_sid("MG"), "friendlyName": name} for name in MESSAGING_SERVICE_NAMES],
                    "verifyServiceId": twilio.get("verifyServiceId") or new_sid("VA"),
                },
                "syniverse": {
                    "authToken": (previous.get("syniverse") or {}).get("authToken") or secrets.token_urlsafe(24)
                },
                "oauth": {
                    "clientId": (previous.get("oauth") or {}).get("clientId") or secrets.token_hex(8),
                    "clientSecret": (previous.get("oauth") or {}).get("clientSecret") or secrets.token_urlsafe(24),
                },
            }
    finally:
        await database.dispose()
    sandbox_base = f"{api_base}/sandbox"
    data.update(
        {
            "apiBase": api_base,
            "apiPath": f"{api_base}/v1",
            "authBase": api_base,
            "tokenUrl": f"{api_base}/{data['adminEnvironmentId']}/as/token",
            "sandboxBase": sandbox_base,
        }
    )
    complete_sandbox_credentials(data)
    data["oauth"]["tokenUrl"] = f"{sandbox_base}/oauth/token"
    data["gatewayUrl"] = f"{sandbox_base}/gateway/sms"
    seed_sandbox(sandbox, data)
    _write(path, data)
    return data


def complete_sandbox_credentials(data: dict[str, Any]) -> None:
    """Sandbox credentials missing from an older file are generated once and then kept."""
    data["twilio"].setdefault("verifyServiceId", new_sid("VA"))
    data.setdefault("syniverse", {}).setdefault("authToken", secrets.token_urlsafe(24))
    oauth = data.setdefault("oauth", {})
    oauth.setdefault("clientId", secrets.token_hex(8))
    oauth.setdefault("clientSecret", secrets.token_urlsafe(24))


def seed_sandbox(sandbox: SandboxState, data: dict[str, Any]) -> None:
    twilio = data["twilio"]
    account = sandbox.add_account(twilio["accountSid"], twilio["authToken"], "Dev sandbox account")
    for service in twilio["messagingServices"]:
        sandbox.add_messaging_service(account.sid, service["friendlyName"], service["sid"])
    for number in DEV_NUMBERS:
        sandbox.add_number(account.sid, str(number["phoneNumber"]), bool(number["sms"]), bool(number["voice"]))
    sandbox.add_short_code(account.sid, DEV_SHORT_CODE)
    sandbox.add_verify_service(account.sid, "Sandbox Verify service", twilio["verifyServiceId"])
    sandbox.add_verify_template(account.sid, "Sandbox OTP template", ["sms", "voice"])
    sandbox.add_syniverse_account(
        data["syniverse"]["authToken"],
        [dict(s) for s in DEV_SYNIVERSE_SENDERS],
        [dict(c) for c in DEV_SYNIVERSE_CHANNELS],
    )
    sandbox.add_oauth_client(data["oauth"]["clientId"], data["oauth"]["clientSecret"], 3600)


def banner(data: dict[str, Any], path: Path) -> str:
    token_curl = (
        f"curl -s -u '{data['clientId']}:{data['clientSecret']}' -d grant_type=client_credentials {data['tokenUrl']}"
    )
    seed_curl = (
        f"curl -s -X POST {data['apiBase']}/v1/environments/{data['environmentId']}"
        "/notificationsSettings/phoneDeliverySettings \\\n"
        "  -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n"
        f'  -d \'{{"name": "Twilio Messaging Services sender", "sid": "{data["twilio"]["accountSid"]}", '
        f'"authToken": "{data["twilio"]["authToken"]}", "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE"}}\''
    )
    return "\n".join(
        [
            "phone-delivery dev mode (SQLite, sandbox mounted at " + data["sandboxBase"] + ")",
            f"credentials written to {path}:",
            json.dumps(data, indent=2),
            "",
            "Get a token:",
            f"  TOKEN=$({token_curl} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            "Create the Twilio Messaging Service sender:",
            "  " + seed_curl,
            f"API docs: {data['apiBase']}/docs",
            "",
            f"Console: {data['apiBase']}/console",
            f"Send a test SMS: {send_command(path)}",
            f"Sandbox inbox: {data['sandboxBase']}/inbox",
            "",
        ]
    )


def send_command(credentials: Path) -> str:
    """The command line's send through the dev environment (it finds dev-credentials.json itself in
    the default data directory; any other is named by PHONE_DELIVERY_DATA_DIR)."""
    folder = credentials.parent
    default = folder == Settings.model_fields["data_dir"].default
    prefix = "" if default else f"PHONE_DELIVERY_DATA_DIR={shlex.quote(str(folder.resolve()))} "
    return f"{prefix}phone-delivery send --to +14155552671 --message 'Your code is 123456' --wait"
