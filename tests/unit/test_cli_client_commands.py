"""Client commands run in-process against a fake API (httpx.MockTransport) that records every request.

What these pin needs a server that misbehaves on purpose (a role grant refused, more pages than
asked for, Ctrl-C in the middle of a wait), which the real dev server of the integration tests does
not do on demand.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from phone_delivery.cli import app
from phone_delivery.client import api as client_api
from phone_delivery.client.commands import context

SERVER = "http://127.0.0.1:9"
ENV = {"id": "env-1", "name": "Development"}
Handler = Callable[[httpx.Request], httpx.Response | None]


def page(key: str, items: list[dict[str, Any]], following: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"_embedded": {key: items}, "_links": {}}
    if following:
        body["_links"]["next"] = {"href": following}
    return httpx.Response(200, json=body)


@dataclass
class FakeApi:
    """Token and environments by default; ``routes`` (first match wins) for the rest."""

    requests: list[httpx.Request] = field(default_factory=list)
    routes: list[Handler] = field(default_factory=list)
    senders: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for route in self.routes:
            answer = route(request)
            if answer is not None:
                return answer
        path = request.url.path
        if path.endswith("/as/token"):
            return httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
        if path == "/v1/environments":
            return page("environments", [ENV])
        if path.endswith("/phoneDeliverySettings") and request.method == "GET":
            return page("phoneDeliverySettings", self.senders)
        return httpx.Response(404, json={"id": "x", "code": "NOT_FOUND", "message": f"no {path} here"})

    def hits(self, fragment: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == fragment]


@dataclass
class Cli:
    fake: FakeApi
    runner: CliRunner
    env: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self.runner.invoke(app, list(args), env={**self.env, **(env or {})}, catch_exceptions=False)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    fake = FakeApi()
    transport = httpx.MockTransport(fake.handle)
    monkeypatch.setattr(context, "ApiClient", lambda creds: client_api.ApiClient(creds, transport=transport))
    for name in [n for n in os.environ if n.startswith("PHONE_DELIVERY_")]:
        monkeypatch.delenv(name)
    env = {
        "COLUMNS": "250",
        "PHONE_DELIVERY_PROFILES_FILE": str(tmp_path / "profiles.json"),
        "PHONE_DELIVERY_DATA_DIR": str(tmp_path / "no-dev-here"),
        "PHONE_DELIVERY_SERVER": SERVER,
        "PHONE_DELIVERY_TOKEN_URL": f"{SERVER}/admin/as/token",
        "PHONE_DELIVERY_CLIENT_ID": "client",
        "PHONE_DELIVERY_CLIENT_SECRET": "SeCrEt-1234",
        "PHONE_DELIVERY_ENVIRONMENT": "Development",
    }
    return Cli(fake, CliRunner(), env)


def test_apps_create_shows_the_secret_before_a_refused_role_grant(cli: Cli) -> None:
    """Old code: the secret was popped, the grant failed, the secret was never shown (lost)."""
    created = {"id": "app-1", "name": "Backend", "clientSecret": "the-only-copy-42", "enabled": True}

    def routes(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/applications") and request.method == "POST":
            return httpx.Response(201, json=created)
        if request.url.path.endswith("/roleAssignments"):
            return httpx.Response(403, json={"id": "x", "code": "ACCESS_FAILED", "message": "not allowed"})
        return None

    cli.fake.routes.append(routes)
    result = cli.run("apps", "create", "Backend")
    assert result.exit_code == 1
    assert "the-only-copy-42" in result.stdout and "app-1" in result.stdout
    assert "created application 'Backend' (app-1), but the role could not be granted: not allowed" in result.stderr

    as_json = cli.run("apps", "create", "Backend", "-o", "json")
    assert as_json.exit_code == 1
    shown = json.loads(as_json.stdout)
    assert shown["clientSecret"] == "the-only-copy-42" and shown["roleAssignments"] == []
    assert json.loads(as_json.stderr)["error"]["code"] == "ACCESS_FAILED"


@pytest.mark.parametrize(
    ("command", "key"),
    [(["notifications", "list"], "notifications"), (["activities", "list"], "activities")],
)
def test_limit_stops_reading_pages(cli: Cli, command: list[str], key: str) -> None:
    """Old code drained every page (list(...)[:limit]): here 50 pages for a limit of 3."""
    path = f"/v1/environments/{ENV['id']}/{key}"

    def routes(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != path:
            return None
        number = int(request.url.params.get("page", "0"))
        items = [
            {"id": f"{number}-{i}", "status": "SENT", "action": {"type": "X"}, "resources": [{"id": "r"}]}
            for i in range(3)
        ]
        return page(key, items, f"{SERVER}{path}?page={number + 1}" if number < 50 else None)

    cli.fake.routes.append(routes)
    result = cli.run(*command, "--limit", "3", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3
    assert len(cli.fake.hits(path)) == 1
    result = cli.run(*command, "--limit", "5", "-o", "json")
    assert [item["id"] for item in json.loads(result.stdout)] == ["0-0", "0-1", "0-2", "1-0", "1-1"]
    assert len(cli.fake.hits(path)) == 1 + 2


def sender(name: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"id-{name}", "name": name, "provider": "CUSTOM_TWILIO_VERIFY", "sid": "AC1", **fields}


def test_apply_lists_what_was_applied_before_a_failure(cli: Cli, tmp_path: Path) -> None:
    """Old code: the error alone, so the first sender's creation went unreported."""
    spec = "".join(
        f"---\nname: {name}\nprovider: CUSTOM_TWILIO_VERIFY\nsid: AC1\nauthToken: t\nverifyServiceId: VA1\n"
        for name in ("First", "Second", "Third")
    )
    path = tmp_path / "senders.yaml"
    path.write_text(spec)

    def routes(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/phoneDeliverySettings") and request.method == "POST":
            body = json.loads(request.content)
            if body["name"] == "Second":
                return httpx.Response(400, json={"id": "x", "code": "INVALID_DATA", "message": "refused Second"})
            return httpx.Response(201, json=sender(body["name"], verifyServiceId="VA1"))
        return None

    cli.fake.routes.append(routes)
    result = cli.run("senders", "apply", "-f", str(path))
    assert result.exit_code == 1
    assert "First" in result.stdout and "created" in result.stdout and "applied before the error" in result.stdout
    assert "Third" not in result.stdout and "refused Second" in result.stderr
    as_json = cli.run("senders", "apply", "-f", str(path), "-o", "json")
    assert as_json.exit_code == 1
    assert [(r["name"], r["action"]) for r in json.loads(as_json.stdout)] == [("First", "created")]


def test_ctrl_c_while_waiting_exits_130(cli: Cli) -> None:
    """Old code: click's "Aborted!" and exit 1, which the exit-code table gives to server refusals."""

    def routes(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/notifications") and request.method == "POST":
            return httpx.Response(202, json={"id": "n-1", "status": "QUEUED"})
        if request.url.path.endswith("/notifications/n-1"):
            raise KeyboardInterrupt
        return None

    cli.fake.routes.append(routes)
    result = cli.run("send", "--to", "+14155552671", "--message", "hi", "--wait")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "notifications show n-1" in result.stderr
    assert "Aborted" not in result.output


def test_send_says_which_server_it_used(cli: Cli) -> None:
    def routes(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/notifications") and request.method == "POST":
            return httpx.Response(202, json={"id": "n-1", "status": "QUEUED"})
        return None

    cli.fake.routes.append(routes)
    result = cli.run("send", "--to", "+14155552671", "--message", "hi")
    assert result.exit_code == 0, result.stderr
    assert f"server {SERVER} (environment variables" in result.stderr
    assert SERVER not in result.stdout
    assert json.loads(cli.run("send", "--to", "+1415555267", "--message", "hi", "-o", "json").stdout)["id"] == "n-1"


def test_create_hints_at_select_when_nothing_is_selected(cli: Cli, tmp_path: Path) -> None:
    services = [{"messagingServiceId": "MG1", "name": "OTP", "selected": False}]

    def routes(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/phoneDeliverySettings") and request.method == "POST":
            return httpx.Response(
                201,
                json=sender("Twilio MS", provider="CUSTOM_TWILIO_MESSAGING_SERVICE", messagingServices=services),
            )
        return None

    cli.fake.routes.append(routes)
    path = tmp_path / "ms.yaml"
    path.write_text("name: Twilio MS\nprovider: CUSTOM_TWILIO_MESSAGING_SERVICE\nsid: AC1\nauthToken: t\n")
    result = cli.run("senders", "create", "-f", str(path))
    assert result.exit_code == 0, result.stderr
    assert "phone-delivery senders select 'Twilio MS' NAME-OR-ID" in result.stderr


def test_twilio_error_codes_are_explained_in_tables_only(cli: Cli) -> None:
    item = {
        "id": "n-1",
        "status": "UNDELIVERED",
        "to": "+14155552671",
        "sender": {"id": "PINGONE_TWILIO", "provider": "PINGONE_TWILIO"},
        "error": {"code": "30003", "message": "Twilio reported undelivered."},
        "attempts": [
            {"sender": {"id": "s"}, "provider": "CUSTOM_SYNIVERSE", "outcome": "FAILED", "errorCode": "30003"},
        ],
    }

    def routes(request: httpx.Request) -> httpx.Response | None:
        return httpx.Response(200, json=item) if request.url.path.endswith("/notifications/n-1") else None

    cli.fake.routes.append(routes)
    shown = cli.run("notifications", "show", "n-1")
    assert "30003 Twilio reported undelivered. (the handset is unreachable" in shown.stdout
    assert shown.stdout.count("unreachable") == 1  # not for the Syniverse attempt's code
    assert json.loads(cli.run("notifications", "show", "n-1", "-o", "json").stdout) == item


@pytest.mark.parametrize(
    "command", [["send"], ["senders", "test"], ["senders", "apply"], ["policies", "apply"], ["environments", "delete"]]
)
def test_flags_take_no_value_in_help(cli: Cli, command: list[str]) -> None:
    """A guard: the trial saw ``--voice <bool>`` with another typer; this typer already shows plain flags."""
    shown = cli.run(*command, "--help").stdout
    assert "<bool>" not in shown and "BOOLEAN" not in shown
