"""The client commands (docs/cli.md) as real processes against one real dev-mode server.

Every command's effect is read back through the API (or the sandbox inbox), not from its output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_cli import free_port, wait_ready

HELP = [
    ["login"],
    ["send"],
    ["environments"],
    ["environments", "list"],
    ["environments", "create"],
    ["environments", "delete"],
    ["senders"],
    *[["senders", c] for c in ("list", "show", "create", "apply", "delete", "test", "select")],
    ["chain"],
    ["chain", "show"],
    ["chain", "set"],
    ["policies"],
    *[["policies", c] for c in ("list", "show", "apply", "delete", "usage")],
    ["notifications"],
    *[["notifications", c] for c in ("list", "show", "tail")],
    ["activities"],
    ["activities", "list"],
    ["apps"],
    *[["apps", c] for c in ("list", "create", "rotate-secret")],
]


@dataclass
class Dev:
    """The dev server, its folder (commands run there, so its credentials work out of the box)."""

    folder: Path
    creds: dict[str, Any]
    profiles: Path

    @property
    def env_id(self) -> str:
        return str(self.creds["environmentId"])

    def run(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
        return subprocess.run(
            [sys.executable, "-m", "phone_delivery", *args],
            capture_output=True,
            text=True,
            timeout=90,
            cwd=self.folder,
            input=stdin if stdin is not None else "",
            env={**clean, "COLUMNS": "250", "PHONE_DELIVERY_PROFILES_FILE": str(self.profiles), **(env or {})},
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, env=env)
        assert result.returncode == 0, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return json.loads(self.ok(*args, "--output", "json", env=env).stdout)

    def api(self) -> httpx.Client:
        token = httpx.post(
            self.creds["tokenUrl"],
            data={"grant_type": "client_credentials"},
            auth=(self.creds["clientId"], self.creds["clientSecret"]),
        ).json()["access_token"]
        return httpx.Client(base_url=self.creds["apiBase"], headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def senders_path(self, env_id: str | None = None) -> str:
        return f"/v1/environments/{env_id or self.env_id}/notificationsSettings/phoneDeliverySettings"

    def activities(self, action: str) -> list[dict[str, Any]]:
        with self.api() as api:
            body = api.get(f"/v1/environments/{self.env_id}/activities", params={"actionType": action}).json()
        return list(body["_embedded"]["activities"])

    def inbox(self, to: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.creds['sandboxBase']}/_admin/inbox", params={"to": to}, timeout=10)
        return list(answer.json()["messages"])

    def twilio_env(self) -> dict[str, str]:
        return {
            "TWILIO_SID": self.creds["twilio"]["accountSid"],
            "TWILIO_AUTH_TOKEN": self.creds["twilio"]["authToken"],
        }


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    folder = tmp_path_factory.mktemp("cli-client")
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port)],
        cwd=folder,
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        creds = json.loads((folder / ".phone-delivery" / "dev-credentials.json").read_text())
        yield Dev(folder, creds, folder / "config" / "profiles.json")
    finally:
        process.terminate()
        process.wait(timeout=15)


def write(dev: Dev, name: str, text: str) -> Path:
    path = dev.folder / name
    path.write_text(text)
    return path


def service_names(dev: Dev) -> list[str]:
    return [s["friendlyName"] for s in dev.creds["twilio"]["messagingServices"]]


@pytest.mark.parametrize("command", HELP, ids=lambda c: " ".join(c))
def test_every_client_command_has_help(dev: Dev, command: list[str]) -> None:
    result = dev.ok(*command, "--help")
    assert "Usage" in result.stdout


def test_dev_credentials_work_out_of_the_box(dev: Dev) -> None:
    envs = dev.json("environments", "list")
    assert {"Administrators", "Development"} <= {e["name"] for e in envs}
    table = dev.ok("environments", "list").stdout
    assert "Development" in table and dev.env_id in table


def test_apply_creates_selects_and_then_changes_nothing(dev: Dev) -> None:
    first, second = service_names(dev)[:2]
    spec = (
        "name: Applied MS\nprovider: CUSTOM_TWILIO_MESSAGING_SERVICE\nsid: ${TWILIO_SID}\n"
        "authToken: ${TWILIO_AUTH_TOKEN}\nmessagingServices:\n  - name: %s\n    selected: true\n"
    )
    path = write(dev, "applied.yaml", spec % first)
    created = dev.json("senders", "apply", "-f", str(path), env=dev.twilio_env())
    assert [(r["name"], r["action"]) for r in created] == [("Applied MS", "created")]
    with dev.api() as api:
        sender = api.get(f"{dev.senders_path()}/{created[0]['id']}").json()
    assert [s["name"] for s in sender["messagingServices"] if s["selected"]] == [first]
    assert "authToken" not in sender

    updates = len(dev.activities("PHONE_DELIVERY_SETTINGS.UPDATED"))
    again = dev.json("senders", "apply", "-f", str(path), env=dev.twilio_env())
    assert again == [{"name": "Applied MS", "action": "unchanged", "changed": [], "id": created[0]["id"]}]
    assert len(dev.activities("PHONE_DELIVERY_SETTINGS.UPDATED")) == updates  # no PUT

    path.write_text(spec % second)
    planned = dev.json("senders", "apply", "-f", str(path), "--dry-run", env=dev.twilio_env())
    assert planned[0]["action"] == "update" and planned[0]["changed"] == ["messagingServices"]
    assert len(dev.activities("PHONE_DELIVERY_SETTINGS.UPDATED")) == updates  # a dry run changes nothing
    table = dev.ok("senders", "apply", "-f", str(path), env=dev.twilio_env()).stdout
    assert "updated" in table and "messagingServices" in table
    assert len(dev.activities("PHONE_DELIVERY_SETTINGS.UPDATED")) == updates + 1
    with dev.api() as api:
        sender = api.get(f"{dev.senders_path()}/{created[0]['id']}").json()
    assert [s["name"] for s in sender["messagingServices"] if s["selected"]] == [second]
    assert dev.creds["twilio"]["authToken"] not in table


def test_custom_provider_secrets_only_with_force(dev: Dev) -> None:
    """A JSON file; request templates keep their ${to}/${message}; a changed secret alone needs --force."""
    body = {
        "name": "Gateway",
        "provider": "CUSTOM_PROVIDER",
        "authentication": {"method": "BASIC", "username": "gw-user", "password": "${GW_PASSWORD}"},
        "requests": [
            {"deliveryMethod": "SMS", "method": "GET", "url": dev.creds["gatewayUrl"] + "?to=${to}&text=${message}"}
        ],
    }
    path = write(dev, "gateway.json", json.dumps(body))
    created = dev.json("senders", "apply", "-f", str(path), env={"GW_PASSWORD": "first"})
    with dev.api() as api:
        stored = api.get(f"{dev.senders_path()}/{created[0]['id']}").json()
    assert stored["requests"][0]["url"].endswith("?to=${to}&text=${message}")
    assert stored["authentication"] == {"method": "BASIC", "username": "gw-user"}

    updates = len(dev.activities("PHONE_DELIVERY_SETTINGS.UPDATED"))
    unchanged = dev.json("senders", "apply", "-f", str(path), env={"GW_PASSWORD": "second"})
    assert unchanged[0]["action"] == "unchanged"
    forced = dev.json("senders", "apply", "-f", str(path), "--force", env={"GW_PASSWORD": "second"})
    assert forced[0]["action"] == "updated" and forced[0]["changed"] == ["authentication.password (--force)"]
    assert len(dev.activities("PHONE_DELIVERY_SETTINGS.UPDATED")) == updates + 1
    dev.ok("senders", "delete", "Gateway")


def test_apply_refuses_bad_files_before_sending_anything(dev: Dev) -> None:
    before = dev.json("senders", "list")
    missing = write(
        dev, "missing.yaml", "name: M\nprovider: CUSTOM_TWILIO_VERIFY\nsid: AC1\nauthToken: ${NOT_SET_HERE}\n"
    )
    result = dev.run("senders", "apply", "-f", str(missing))
    assert result.returncode == 2
    assert "NOT_SET_HERE" in result.stderr and "not set" in result.stderr

    typo = write(
        dev,
        "typo.yaml",
        "name: T\nprovider: CUSTOM_TWILIO_MESSAGING_SERVICE\nsid: AC1\nauthToken: x\nmessagingService: []\n",
    )
    result = dev.run("senders", "apply", "-f", str(typo))
    assert result.returncode == 2
    assert "unknown field 'messagingService' (did you mean messagingServices?)" in result.stderr

    for text in (
        "name: [unclosed",
        "- 1\n- 2\n",
        "name: N\nprovider: CUSTOM_NOPE\n",
        "provider: CUSTOM_TWILIO_VERIFY\n",
    ):
        result = dev.run("senders", "apply", "-f", str(write(dev, "bad.yaml", text)))
        assert result.returncode == 2, text
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert dev.run("senders", "apply", "-f", str(dev.folder / "no-such.yaml")).returncode == 2
    assert dev.json("senders", "list") == before

    # The server's own refusal: PingOne's code, message and each detail's target.
    refused = write(
        dev, "refused.yaml", "name: R\nprovider: CUSTOM_TWILIO_MESSAGING_SERVICE\nsid: MG123\nauthToken: x\n"
    )
    result = dev.run("senders", "create", "-f", str(refused))
    assert result.returncode == 1
    assert "INVALID_DATA (HTTP 400)" in result.stderr and "  - sid: sid must be" in result.stderr
    as_json = json.loads(dev.run("senders", "create", "-f", str(refused), "-o", "json").stderr)
    assert as_json["error"]["code"] == "INVALID_DATA" and as_json["error"]["details"][0]["target"] == "sid"


def test_names_are_looked_up_in_the_one_environment(dev: Dev) -> None:
    """A sender named with another environment's sender id is still found by its name; environments
    are created and deleted by name."""
    other = dev.json("environments", "create", "Other tenant")
    spec = (
        "name: %s\nprovider: CUSTOM_TWILIO_VERIFY\nsid: ${TWILIO_SID}\nauthToken: ${TWILIO_AUTH_TOKEN}\n"
        "verifyServiceId: %s\n"
    )
    verify = dev.creds["twilio"]["verifyServiceId"]
    theirs = dev.json(
        "senders",
        "create",
        "-f",
        str(write(dev, "o.yaml", spec % ("Theirs", verify))),
        "--env",
        "Other tenant",
        env=dev.twilio_env(),
    )
    ours = dev.json(
        "senders", "create", "-f", str(write(dev, "d.yaml", spec % (theirs["id"], verify))), env=dev.twilio_env()
    )
    shown = dev.json("senders", "show", theirs["id"])
    assert shown["id"] == ours["id"] and shown["environment"]["id"] == dev.env_id
    assert dev.json("senders", "show", theirs["id"], "--env", other["id"])["name"] == "Theirs"
    not_here = dev.run("senders", "show", "Theirs")
    assert not_here.returncode == 1 and "no sender in environment 'Development'" in not_here.stderr

    dev.ok("senders", "delete", theirs["id"])  # ours, by its name
    with dev.api() as api:
        assert api.get(f"{dev.senders_path()}/{ours['id']}").status_code == 404
        assert api.get(f"{dev.senders_path(other['id'])}/{theirs['id']}").status_code == 200
    refused = dev.run("environments", "delete", "Other tenant")  # not a terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    dev.ok("environments", "delete", "Other tenant", "--yes")
    with dev.api() as api:
        assert api.get(f"/v1/environments/{other['id']}").status_code == 404


def test_select_chain_send_wait_and_inbox(dev: Dev) -> None:
    names = service_names(dev)
    body = {
        "name": "Selectable",
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
        "sid": "${TWILIO_SID}",
        "authToken": "${TWILIO_AUTH_TOKEN}",
    }
    created = dev.json("senders", "create", "-f", str(write(dev, "sel.json", json.dumps(body))), env=dev.twilio_env())
    assert not any(s["selected"] for s in created["messagingServices"])
    no_secret = dev.run("senders", "select", "Selectable", names[2])
    assert no_secret.returncode == 2 and "--secret" in no_secret.stderr
    unknown = dev.run("senders", "select", "Selectable", "No such service", "--secret", "x")
    assert unknown.returncode == 2 and names[0] in unknown.stderr
    dev.ok(
        "senders",
        "select",
        "Selectable",
        names[2],
        env={"PHONE_DELIVERY_SENDER_SECRET": dev.creds["twilio"]["authToken"]},
    )
    with dev.api() as api:
        stored = api.get(f"{dev.senders_path()}/{created['id']}").json()
    assert [s["name"] for s in stored["messagingServices"] if s["selected"]] == [names[2]]

    dev.ok("chain", "set", "Selectable", "PINGONE_TWILIO")
    with dev.api() as api:
        chain = api.get(f"/v1/environments/{dev.env_id}/notificationsSettings").json()["smsProvidersFallbackChain"]
    assert chain == [created["id"], "PINGONE_TWILIO"]
    shown = dev.ok("chain", "show").stdout
    assert shown.index("Selectable") < shown.index("PINGONE_TWILIO")
    bad = dev.run("chain", "set", "Nobody")
    assert bad.returncode == 1 and "Nobody" in bad.stderr
    assert dev.json("chain", "show")["smsProvidersFallbackChain"] == chain  # unchanged

    to = "+14155550123"
    sent = dev.json("send", "--to", to, "--message", "Your code is 424242", "--wait")
    assert sent["status"] == "DELIVERED"
    assert [a["sender"]["name"] for a in sent["attempts"]] == ["Selectable"]
    inbox = dev.inbox(to)
    assert inbox[0]["body"] == "Your code is 424242" and inbox[0]["messagingServiceName"] == names[2]

    failed = dev.run("send", "--to", "+15005550001", "--message", "never", "--wait")
    assert failed.returncode == 4, failed.stderr
    assert "FAILED" in failed.stdout and "Attempts" in failed.stdout

    in_use = dev.run("senders", "delete", "Selectable")
    assert in_use.returncode == 1 and "smsProvidersFallbackChain[0]" in in_use.stderr
    dev.ok("chain", "set", "PINGONE_TWILIO")
    dev.ok("senders", "delete", "Selectable")


POLICY = """\
name: CLI policy
quotas:
  - {type: USER, deliveryMethods: [SMS], total: 5}
countryLimit: {type: ALLOWED, deliveryMethods: [SMS], countries: [DE, FR, US]}
providerConfiguration:
  conditions:
    - {deliveryMethods: [SMS], countries: [DE], fallbackChain: [Policy sender, PINGONE_TWILIO]}
    - fallbackChain: [{id: PINGONE_TWILIO}]
cooldownConfiguration:
  sms:
    enabled: true
    groupBy: USER_ID
    resendLimit: 3
    periods: [{duration: 30, timeUnit: SECONDS}, {duration: 60, timeUnit: SECONDS}, {duration: 2, timeUnit: MINUTES}]
  voice: {enabled: false}
  email: {enabled: false}
  whatsApp: {enabled: false}
fraudProtection:
  prefixVelocity: {enabled: true, distinctNumbers: 50}
"""


def policies_path(dev: Dev, policy_id: str = "") -> str:
    return f"/v1/environments/{dev.env_id}/notificationsPolicies" + (f"/{policy_id}" if policy_id else "")


def verify_sender(dev: Dev, name: str, env: str | None = None) -> dict[str, Any]:
    spec = (
        f"name: {name}\nprovider: CUSTOM_TWILIO_VERIFY\nsid: ${{TWILIO_SID}}\nauthToken: ${{TWILIO_AUTH_TOKEN}}\n"
        f"verifyServiceId: {dev.creds['twilio']['verifyServiceId']}\n"
    )
    path = write(dev, f"{uuid.uuid4().hex}.yaml", spec)
    where = ["--env", env] if env else []
    result: dict[str, Any] = dev.json("senders", "create", "-f", str(path), *where, env=dev.twilio_env())
    return result


def test_policies_apply_is_idempotent_show_list_send_delete(dev: Dev) -> None:
    sender = verify_sender(dev, "Policy sender")
    path = write(dev, "policy.yaml", POLICY)
    created = dev.json("policies", "apply", "-f", str(path))
    assert [(r["name"], r["action"]) for r in created] == [("CLI policy", "created")]
    with dev.api() as api:
        stored = api.get(policies_path(dev, created[0]["id"])).json()
    assert stored["default"] is False and stored["quotas"] == [{"type": "USER", "deliveryMethods": ["SMS"], "total": 5}]
    chains = [c["fallbackChain"] for c in stored["providerConfiguration"]["conditions"]]
    assert chains == [[{"id": sender["id"]}, {"id": "PINGONE_TWILIO"}], [{"id": "PINGONE_TWILIO"}]]
    assert stored["cooldownConfiguration"]["sms"]["resendLimit"] == 3
    assert stored["fraudProtection"]["prefixVelocity"] == {
        "enabled": True,
        "prefixLength": 7,
        "distinctNumbers": 50,
        "windowSeconds": 600,
        "blockSeconds": 3600,
    }

    # The same file again: no PUT, so no NOTIFICATION_POLICY.UPDATED activity (defaults filled in
    # by the server, names resolved to ids, are no difference).
    updates = len(dev.activities("NOTIFICATION_POLICY.UPDATED"))
    creates = len(dev.activities("NOTIFICATION_POLICY.CREATED"))
    again = dev.json("policies", "apply", "-f", str(path))
    assert again == [{"name": "CLI policy", "action": "unchanged", "changed": [], "id": created[0]["id"]}]
    assert "unchanged" in dev.ok("policies", "apply", "-f", str(path)).stdout
    assert len(dev.activities("NOTIFICATION_POLICY.UPDATED")) == updates
    assert len(dev.activities("NOTIFICATION_POLICY.CREATED")) == creates

    # A PUT replaces the whole policy: leaving out a field that had a value is a change (to its default).
    path.write_text(POLICY.replace("deliveryMethods: [SMS], countries: [DE, FR, US]", "countries: [DE, FR, US]"))
    planned = dev.json("policies", "apply", "-f", str(path), "--dry-run")
    assert planned[0]["action"] == "update" and planned[0]["changed"] == ["countryLimit"]
    assert len(dev.activities("NOTIFICATION_POLICY.UPDATED")) == updates
    updated = dev.json("policies", "apply", "-f", str(path))
    assert updated[0]["action"] == "updated" and updated[0]["changed"] == ["countryLimit"]
    assert len(dev.activities("NOTIFICATION_POLICY.UPDATED")) == updates + 1
    with dev.api() as api:
        stored = api.get(policies_path(dev, created[0]["id"])).json()
    assert stored["countryLimit"]["deliveryMethods"] == ["SMS", "Voice"]
    assert dev.json("policies", "apply", "-f", str(path))[0]["action"] == "unchanged"

    shown = dev.ok("policies", "show", "CLI policy").stdout
    for text in (
        "ALLOWED for SMS/Voice: DE, FR, US",
        "USER",
        "5 per day",
        "Policy sender -> PINGONE_TWILIO",
        "30s, 60s, 2min",
        "USER_ID",
        "prefixVelocity",
        "distinctNumbers=50",
    ):
        assert text in shown, text
    assert dev.json("policies", "show", created[0]["id"]) == stored

    listed = dev.json("policies", "list")
    assert {p["name"]: p["default"] for p in listed} == {"Default Notification Policy": True, "CLI policy": False}
    table = dev.ok("policies", "list").stdout
    default_row = next(line for line in table.splitlines() if "Default Notification Policy" in line)
    ours = next(line for line in table.splitlines() if "CLI policy" in line)
    assert "default" in default_row.replace("Default Notification Policy", "") and "default" not in ours

    # send --policy passes policy.id: its country limit refuses Great Britain, the default policy does not.
    refused = dev.run("send", "--to", "+447400123456", "--message", "x", "--policy", "CLI policy")
    assert refused.returncode == 1 and "does not allow SMS to United Kingdom" in refused.stderr
    assert dev.json("send", "--to", "+447400123456", "--message", "x")["status"]

    in_use = dev.run("senders", "delete", "Policy sender")  # the server's rule, shown as PingOne's error
    assert in_use.returncode == 1 and "CLI policy" in in_use.stderr
    default_delete = dev.run("policies", "delete", "Default Notification Policy")
    assert default_delete.returncode == 1 and "CONSTRAINT_VIOLATION" in default_delete.stderr
    deleted = dev.json("policies", "delete", "CLI policy")
    assert deleted == {"deleted": {"id": created[0]["id"], "name": "CLI policy"}}
    with dev.api() as api:
        assert api.get(policies_path(dev, created[0]["id"])).status_code == 404
    assert len(dev.activities("NOTIFICATION_POLICY.DELETED")) >= 1
    missing = dev.run("policies", "show", "CLI policy")
    assert missing.returncode == 1 and "no notification policy" in missing.stderr
    dev.ok("senders", "delete", "Policy sender")


def test_policies_usage_shows_what_the_counters_hold(dev: Dev) -> None:
    path = write(dev, "usage.yaml", "name: Usage policy\nquotas:\n  - {type: USER, deliveryMethods: [SMS], total: 2}\n")
    made = dev.json("policies", "apply", "-f", str(path))[0]
    try:
        with dev.api() as api:
            for user in ("ann", "ann", "ann", "bob"):
                api.post(
                    f"/v1/environments/{dev.env_id}/notifications",
                    json={
                        "deliveryMethod": "SMS",
                        "to": "+14155550142",
                        "message": "m",
                        "user": {"id": user},
                        "policy": {"id": made["id"]},
                    },
                )
        body = dev.json("policies", "usage", "Usage policy", "--user", "ann")
        [quota] = body["quotas"]
        assert (quota["used"], quota["subjects"], quota["subjectsAtLimit"]) == (3, 2, 1)  # ann's third was refused
        assert quota["subject"] == {"user": {"id": "ann"}, "used": 2, "remaining": 0}
        shown = dev.ok("policies", "usage", "Usage policy", "--user", "ann").stdout
        for text in ("Quotas (UTC day)", "1 of 2 users at the limit", "Most used", "user ann", "2 used, 0 left today"):
            assert text in shown, (text, shown)
        default = dev.ok("policies", "usage").stdout  # the default policy: no quotas
        assert "Default Notification Policy" in default and "Quotas: none" in default
        bad = dev.run("policies", "usage", "Usage policy", "--to", "not a number")
        assert bad.returncode == 1 and "INVALID_VALUE" in bad.stderr and "to" in bad.stderr
    finally:
        dev.ok("policies", "delete", made["id"])


def test_policies_apply_moves_the_default_flag(dev: Dev) -> None:
    path = write(dev, "default.yaml", "name: Strict default\ndefault: true\nquotas: []\n")
    made = dev.json("policies", "apply", "-f", str(path))
    try:
        listed = {p["name"]: p["default"] for p in dev.json("policies", "list")}
        assert listed == {"Default Notification Policy": False, "Strict default": True}
        assert dev.json("policies", "apply", "-f", str(path))[0]["action"] == "unchanged"
    finally:
        back = write(dev, "back.yaml", "name: Default Notification Policy\ndefault: true\nquotas: []\n")
        assert dev.json("policies", "apply", "-f", str(back))[0]["changed"] == ["default"]
        dev.ok("policies", "delete", made[0]["id"])
    assert {p["name"]: p["default"] for p in dev.json("policies", "list")} == {"Default Notification Policy": True}


def test_policy_files_naming_what_is_not_here_change_nothing(dev: Dev) -> None:
    """Attack: a file naming another environment's sender by its id is refused before anything is
    sent (it matches no sender here); a name with control characters is the server's refusal, shown
    with the characters made visible; a typo is refused, not silently ignored."""
    other = dev.json("environments", "create", "Policy neighbour")
    try:
        theirs = verify_sender(dev, "Neighbour sender", env=other["id"])
        before = dev.json("policies", "list")
        for chain in (theirs["id"], f"{{id: {theirs['id']}}}", "{name: Neighbour sender}"):
            text = f"name: Stolen\nquotas: []\nproviderConfiguration:\n  conditions:\n    - fallbackChain: [{chain}]\n"
            result = dev.run("policies", "apply", "-f", str(write(dev, "stolen.yaml", text)))
            assert result.returncode == 1, result.stderr
            assert "no sender in environment 'Development'" in result.stderr
        assert dev.json("policies", "list") == before
        with dev.api() as api:  # the neighbour's policies are untouched too
            answer = api.get(f"/v1/environments/{other['id']}/notificationsPolicies").json()
            assert len(answer["_embedded"]["notificationsPolicies"]) == 1

        hostile = write(dev, "hostile.json", json.dumps({"name": "Evil\x1b[2J\x1b]0;pwned\x07", "quotas": []}))
        result = dev.run("policies", "apply", "-f", str(hostile))
        assert result.returncode == 1 and "INVALID_DATA" in result.stderr and "control characters" in result.stderr
        assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stderr
        assert dev.json("policies", "list") == before

        typo = write(dev, "typo.yaml", "name: Typo\nquotas: []\ncountryLimits: {type: DENIED, countries: [GB]}\n")
        result = dev.run("policies", "apply", "-f", str(typo))
        assert result.returncode == 2 and "unknown field 'countryLimits' (did you mean countryLimit?)" in result.stderr
        assert dev.json("policies", "list") == before
    finally:
        dev.ok("environments", "delete", other["id"], "--yes")


def test_sender_test_send(dev: Dev) -> None:
    spec = (
        "name: Tester\nprovider: CUSTOM_TWILIO_MESSAGING_SERVICE\nsid: ${TWILIO_SID}\n"
        "authToken: ${TWILIO_AUTH_TOKEN}\nmessagingServices:\n  - name: %s\n    selected: true\n"
    )
    dev.ok("senders", "apply", "-f", str(write(dev, "tester.yaml", spec % service_names(dev)[0])), env=dev.twilio_env())
    to = "+14155550177"
    result = dev.json("senders", "test", "Tester", "--to", to, "--message", "test 1234")
    assert result["status"] == "SENT" and result["providerMessageId"].startswith("SM")
    assert dev.inbox(to)[0]["id"] == result["providerMessageId"]
    failed = dev.run("senders", "test", "Tester", "--to", "+15005550001")
    assert failed.returncode == 4 and "FAILED" in failed.stdout
    dev.ok("senders", "delete", "Tester")


def test_notifications_tail_list_show(dev: Dev) -> None:
    to = "+14155550199"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
    tail = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "phone_delivery",
            "notifications",
            "tail",
            "--count",
            "2",
            "--timeout",
            "40",
            "--interval",
            "0.2",
            "--to",
            to,
            "-o",
            "json",
        ],
        cwd=dev.folder,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # tail reads its starting point first
        ids = [dev.json("send", "--to", to, "--message", f"tail {n}")["id"] for n in range(2)]
        out, err = tail.communicate(timeout=60)
    finally:
        tail.kill()
    assert tail.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    finals = {e["id"]: e["status"] for e in events if e["status"] in ("DELIVERED", "UNDELIVERED", "FAILED")}
    assert finals == {ids[0]: "DELIVERED", ids[1]: "DELIVERED"}
    assert {e["to"] for e in events} == {to}

    listed = dev.json("notifications", "list", "--to", to, "--since", "10m")
    assert {n["id"] for n in listed} == set(ids)
    assert dev.json("notifications", "list", "--to", to, "--status", "FAILED") == []
    bad = dev.run("notifications", "list", "--status", "LOST")
    assert bad.returncode == 1 and "INVALID_DATA" in bad.stderr and "status" in bad.stderr
    shown = dev.ok("notifications", "show", ids[0]).stdout
    assert "DELIVERED" in shown and "Attempts" in shown and "PINGONE_TWILIO" in shown
    missing = dev.run("notifications", "show", str(uuid.uuid4()))
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr


def test_activities_list(dev: Dev) -> None:
    dev.json("environments", "list")
    created = dev.json("activities", "list", "--type", "NOTIFICATION.CREATED", "--limit", "3")
    assert created and len(created) <= 3
    assert {a["action"]["type"] for a in created} == {"NOTIFICATION.CREATED"}
    assert "Action" in dev.ok("activities", "list").stdout


def test_apps_create_and_rotate_secret(dev: Dev) -> None:
    made = dev.json("apps", "create", "Onboarding app")
    secret, token_url = made["clientSecret"], made["tokenUrl"]
    assert made["roleAssignments"][0]["role"]["id"] == "ENVIRONMENT_ADMIN"

    def token(secret: str) -> int:
        return httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(made["id"], secret)).status_code

    assert token(secret) == 200
    as_new_app = {
        "PHONE_DELIVERY_SERVER": dev.creds["apiBase"],
        "PHONE_DELIVERY_TOKEN_URL": token_url,
        "PHONE_DELIVERY_CLIENT_ID": made["id"],
        "PHONE_DELIVERY_CLIENT_SECRET": secret,
        "PHONE_DELIVERY_ENVIRONMENT": dev.env_id,
    }
    assert dev.json("senders", "list", env=as_new_app) is not None  # its role lets it work there
    shown = dev.ok("apps", "rotate-secret", "Onboarding app")
    rotated = next(line.split()[-1] for line in shown.stdout.splitlines() if line.startswith("clientSecret"))
    assert "not shown again" in shown.stderr
    assert token(secret) == 401 and token(rotated) == 200
    listed = dev.ok("apps", "list").stdout
    assert "Onboarding app" in listed and rotated not in listed


def test_login_profiles_and_overrides(dev: Dev) -> None:
    creds = dev.creds
    login = dev.run(
        "login",
        "--profile",
        "ops",
        "--server",
        creds["apiBase"],
        "--admin-env",
        creds["adminEnvironmentId"],
        "--client-id",
        creds["clientId"],
        "--env",
        "Development",
        env={"PHONE_DELIVERY_CLIENT_SECRET": creds["clientSecret"]},
    )
    assert login.returncode == 0, login.stderr
    assert creds["clientSecret"] not in login.stdout + login.stderr
    assert dev.profiles.stat().st_mode & 0o777 == 0o600
    stored = json.loads(dev.profiles.read_text())["profiles"]["ops"]
    assert stored["environment"] == dev.env_id and stored["server"] == creds["apiBase"]

    elsewhere = dev.folder / "elsewhere"  # no dev-credentials.json here: only the profile can work
    elsewhere.mkdir(exist_ok=True)
    moved = Dev(elsewhere, creds, dev.profiles)
    assert moved.run("senders", "list").returncode == 2  # no profile named, no dev mode here
    assert moved.json("senders", "list", "--profile", "ops") is not None
    assert moved.json("senders", "list", env={"PHONE_DELIVERY_PROFILE": "ops"}) is not None
    unknown = moved.run("senders", "list", "--profile", "nope")
    assert unknown.returncode == 2 and "login --profile nope" in unknown.stderr

    whole_set = {
        "PHONE_DELIVERY_SERVER": creds["apiBase"],
        "PHONE_DELIVERY_TOKEN_URL": creds["tokenUrl"],
        "PHONE_DELIVERY_CLIENT_ID": creds["clientId"],
        "PHONE_DELIVERY_CLIENT_SECRET": "wrong",
        "PHONE_DELIVERY_ENVIRONMENT": dev.env_id,
    }
    wrong = moved.run("senders", "list", env=whole_set)
    assert wrong.returncode == 3 and "invalid_client" in wrong.stderr and "environment variables" in wrong.stderr
    # One variable does not patch the profile (its token URL would get this secret): a usage error.
    mixed = moved.run("senders", "list", "--profile", "ops", env={"PHONE_DELIVERY_CLIENT_SECRET": "wrong"})
    assert mixed.returncode == 2 and "one place" in mixed.stderr
    alone = moved.run("senders", "list", env={"PHONE_DELIVERY_CLIENT_SECRET": "wrong"})
    assert alone.returncode == 2 and "PHONE_DELIVERY_SERVER" in alone.stderr
    assert moved.json("senders", "list", "--profile", "ops", env={"PHONE_DELIVERY_ENVIRONMENT": "Development"}) == (
        dev.json("senders", "list")
    )
    refused = dev.run(
        "login",
        "--profile",
        "bad",
        "--server",
        creds["apiBase"],
        "--token-url",
        creds["tokenUrl"],
        "--client-id",
        creds["clientId"],
        "--client-secret",
        "wrong",
    )
    assert refused.returncode == 3 and "bad" not in json.loads(dev.profiles.read_text())["profiles"]

    dev_login = dev.run("login", "--dev", "--profile", "fromdev", "-o", "json")
    assert dev_login.returncode == 0 and json.loads(dev_login.stdout)["environment"] == creds["environmentId"]


def test_dev_mode_wins_over_a_default_profile(dev: Dev) -> None:
    """The dev banner's `send` run in the dev folder goes to the dev server even with a `default`
    profile (here a server that is down; old code used it: exit 3), and says which server it used."""
    other = dev.folder / "other-config" / "profiles.json"
    down = f"http://127.0.0.1:{free_port()}"
    env = {"PHONE_DELIVERY_PROFILES_FILE": str(other)}
    login = dev.run(
        "login",
        "--server",
        down,
        "--admin-env",
        "x",
        "--client-id",
        "c",
        "--client-secret",
        "s",
        "--env",
        "Production",
        "--no-verify",
        env=env,
    )
    assert login.returncode == 0, login.stderr
    sent = dev.run("send", "--to", "+14155550142", "--message", "dev first", env=env)
    assert sent.returncode == 0, sent.stderr
    assert f"server {dev.creds['apiBase']} (dev mode's" in sent.stderr
    assert dev.inbox("+14155550142")[0]["body"] == "dev first"
    assert dev.run("send", "--to", "+14155550142", "--message", "x", "-p", "default", env=env).returncode == 3


def test_ctrl_c_stops_tail_with_exit_130(dev: Dev) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHONE_DELIVERY_")}
    tail = subprocess.Popen(
        [sys.executable, "-m", "phone_delivery", "notifications", "tail", "--interval", "0.2"],
        cwd=dev.folder,
        env={**clean, "PHONE_DELIVERY_PROFILES_FILE": str(dev.profiles)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it: a test run started in the background (nohup, `cmd &` in a
        # script) ignores SIGINT, and an ignored signal stays ignored in the processes it starts
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        time.sleep(3)  # past its first read
        tail.send_signal(signal.SIGINT)
        _, err = tail.communicate(timeout=30)
    finally:
        tail.kill()
    assert tail.returncode == 130, err
    assert "interrupted" in err and "Aborted" not in err and "Traceback" not in err


def test_server_down_is_a_clean_error(dev: Dev) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    env = {
        "PHONE_DELIVERY_SERVER": down,
        "PHONE_DELIVERY_TOKEN_URL": f"{down}/x/as/token",
        "PHONE_DELIVERY_CLIENT_ID": "c",
        "PHONE_DELIVERY_CLIENT_SECRET": "SeCrEt-9876",
        "PHONE_DELIVERY_ENVIRONMENT": "e",
    }
    for command in (["senders", "list"], ["send", "--to", "+14155550100", "--message", "x"], ["environments", "list"]):
        result = dev.run(*command, env=env)
        assert result.returncode == 3, command
        assert "error: CONNECTION_FAILED: cannot reach" in result.stderr and "Traceback" not in result.stderr
        assert "SeCrEt-9876" not in result.stderr
    bad_url = dev.run(
        "senders", "list", env={**env, "PHONE_DELIVERY_SERVER": "not a url", "PHONE_DELIVERY_TOKEN_URL": "::"}
    )
    assert bad_url.returncode == 2 and "must be an http:// or https:// URL" in bad_url.stderr


def test_docs_show_every_command() -> None:
    """docs/cli.md has an example of every client command."""
    text = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    groups = {tuple(c[:1]) for c in HELP if len(c) == 2}
    for command in HELP:
        if tuple(command) in groups:
            continue  # a group: its commands are checked
        assert f"phone-delivery {' '.join(command)} " in text or f"phone-delivery {' '.join(command)}\n" in text, (
            command
        )
