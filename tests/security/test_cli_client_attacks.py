"""Attacks on the command line client: credentials sent where the user did not mean, files planted
in a cloned repository, terminal escapes from tenant-controlled text, a symlinked temporary file,
secrets echoed from a broken sender file, policy and sender names with escapes in `policies`, a
policy file naming a sender of another environment.

The commands run in-process against a fake API that records every request (who got the secret).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from phone_delivery.client import api as client_api
from phone_delivery.client import profiles
from phone_delivery.client.commands import context
from tests.unit.test_cli_client_commands import ENV, Cli, FakeApi, page

PRODUCTION = "https://pd.production.example"
DEV = "http://127.0.0.1:8080"


def dev_file(folder: Path, **overrides: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "apiBase": DEV,
        "tokenUrl": f"{DEV}/admin/as/token",
        "clientId": "dev-client",
        "clientSecret": "dev-secret",
        "environmentId": ENV["id"],
        **overrides,
    }
    path = folder / "dev-credentials.json"
    path.write_text(json.dumps(data))
    return path


def secrets_sent(fake: FakeApi) -> list[tuple[str, str]]:
    """(host, Authorization) of every token request: where a client secret went."""
    return [(r.url.host, r.headers.get("authorization", "")) for r in fake.requests if r.url.path.endswith("/token")]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    fake = FakeApi()
    transport = httpx.MockTransport(fake.handle)
    monkeypatch.setattr(context, "ApiClient", lambda creds: client_api.ApiClient(creds, transport=transport))
    for name in [n for n in os.environ if n.startswith("PHONE_DELIVERY_")]:
        monkeypatch.delenv(name)
    profiles.write_profile(
        tmp_path / "profiles.json",
        "default",
        {
            "server": PRODUCTION,
            "tokenUrl": f"{PRODUCTION}/admin/as/token",
            "clientId": "prod-client",
            "clientSecret": "prod-secret",
            "environment": ENV["id"],
        },
    )
    env = {
        "COLUMNS": "250",
        "PHONE_DELIVERY_PROFILES_FILE": str(tmp_path / "profiles.json"),
        "PHONE_DELIVERY_DATA_DIR": str(tmp_path / "data"),
    }
    return Cli(fake, CliRunner(), env)


def test_dev_mode_credentials_win_over_the_default_profile(cli: Cli, tmp_path: Path) -> None:
    """The dev banner's `send` in the dev folder goes to the dev server, not to the default profile's
    production (old code: the default profile won)."""
    dev_file(tmp_path / "data")
    result = cli.run("senders", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert {host for host, _ in secrets_sent(cli.fake)} == {"127.0.0.1"}
    assert {r.url.host for r in cli.fake.requests} == {"127.0.0.1"}

    cli.fake.requests.clear()  # a profile named explicitly still wins
    assert cli.run("senders", "list", "--profile", "default", "-o", "json").exit_code == 0
    assert {r.url.host for r in cli.fake.requests} == {"pd.production.example"}

    cli.fake.requests.clear()  # no dev file: the default profile
    (tmp_path / "data" / "dev-credentials.json").unlink()
    assert cli.run("senders", "list", "-o", "json").exit_code == 0
    assert {r.url.host for r in cli.fake.requests} == {"pd.production.example"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"apiBase": "http://pd.attacker.example"},
        {"tokenUrl": "https://pd.attacker.example/admin/as/token"},
        {"apiBase": "http://localhost.attacker.example:8080"},
        {"apiBase": "http://127.0.0.1.nip.io:8080"},
        {"tokenUrl": "http://10.0.0.1/as/token"},
        {"apiBase": "http://[::ffff:7f00:1]:8080"},
    ],
    ids=lambda o: next(iter(o.values())),
)
def test_a_planted_dev_credentials_file_pointing_elsewhere_is_refused(
    cli: Cli, tmp_path: Path, overrides: dict[str, str]
) -> None:
    """A cloned repository's .phone-delivery/dev-credentials.json must not receive anyone's secrets
    (old code: its tokenUrl got the file's secret, its apiBase the token)."""
    path = dev_file(tmp_path / "data", **overrides)
    result = cli.run("send", "--to", "+14155552671", "--message", "hi")
    assert result.exit_code == 2
    assert str(path) in result.stderr and "not on this machine" in result.stderr
    assert cli.fake.requests == []
    login = cli.run("login", "--dev", "--data-dir", str(tmp_path / "data"), "--profile", "planted")
    assert login.exit_code == 2 and cli.fake.requests == []
    assert "planted" not in json.loads((tmp_path / "profiles.json").read_text())["profiles"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:1", "http://[::1]:80"])
def test_loopback_dev_servers_are_accepted(url: str) -> None:
    assert profiles.is_loopback(url)


@pytest.mark.parametrize("with_dev", [False, True], ids=["profile", "dev mode"])
def test_an_environment_secret_never_goes_to_a_file_token_url(cli: Cli, tmp_path: Path, with_dev: bool) -> None:
    """PHONE_DELIVERY_CLIENT_SECRET alone does not patch a profile or dev mode's file (old code sent it
    to the file's token URL): the environment variables then have to give everything."""
    if with_dev:
        dev_file(tmp_path / "data")
    result = cli.run("senders", "list", env={"PHONE_DELIVERY_CLIENT_SECRET": "from-env"})
    assert result.exit_code == 2
    for variable in ("PHONE_DELIVERY_SERVER", "PHONE_DELIVERY_CLIENT_ID", "PHONE_DELIVERY_TOKEN_URL"):
        assert variable in result.stderr
    assert cli.fake.requests == []

    both = cli.run(
        "senders",
        "list",
        "--profile",
        "default",
        env={"PHONE_DELIVERY_SERVER": DEV, "PHONE_DELIVERY_CLIENT_ID": "c", "PHONE_DELIVERY_CLIENT_SECRET": "s"},
    )
    assert both.exit_code == 2 and "one place" in both.stderr and cli.fake.requests == []


def test_a_whole_environment_set_is_used_alone(cli: Cli) -> None:
    env = {
        "PHONE_DELIVERY_SERVER": "http://127.0.0.3:1",
        "PHONE_DELIVERY_TOKEN_URL": "http://127.0.0.3:1/admin/as/token",
        "PHONE_DELIVERY_CLIENT_ID": "env-client",
        "PHONE_DELIVERY_CLIENT_SECRET": "env-secret",
    }
    result = cli.run("senders", "list", "-o", "json", env=env)
    assert result.exit_code == 2 and "which environment" in result.stderr  # nothing from the profile
    assert cli.run("senders", "list", "-o", "json", env={**env, "PHONE_DELIVERY_ENVIRONMENT": "env-1"}).exit_code == 0
    assert {r.url.host for r in cli.fake.requests} == {"127.0.0.3"}
    cli.fake.requests.clear()
    alone = cli.run("senders", "list", "-o", "json", env={"PHONE_DELIVERY_ENVIRONMENT": "Development"})
    assert alone.exit_code == 0  # the one field that may override a profile's
    assert {r.url.host for r in cli.fake.requests} == {"pd.production.example"}


def test_terminal_escapes_from_the_server_are_shown_not_obeyed(cli: Cli) -> None:
    """A sender named with ESC[2J (clear screen) or an OSC title, an error message with C1 CSI: no
    raw control byte reaches the terminal in table mode (old code: rich.markup.escape kept ESC)."""
    cli.fake.senders.append(
        {"id": "s1", "name": "\x1b[2JEvil\x1b]0;pwned\x07", "provider": "CUSTOM_TWILIO_VERIFY", "verifyServiceId": "V"}
    )
    result = cli.run("senders", "list", "--profile", "default")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b[2JEvil\\x1b]0;pwned\\x07" in result.stdout
    as_json = cli.run("senders", "list", "--profile", "default", "-o", "json")
    assert json.loads(as_json.stdout)[0]["name"] == "\x1b[2JEvil\x1b]0;pwned\x07"  # JSON stays exact

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/v1/environments":
            return httpx.Response(400, json={"id": "x", "code": "INVALID_DATA", "message": "bad\x9b2J\x1b[31m\r"})
        return None

    cli.fake.routes.append(refuse)
    failed = cli.run("environments", "list", "--profile", "default")
    assert failed.exit_code == 1
    assert not any(c in failed.stderr for c in "\x1b\x9b\r") and "bad\\x9b2J\\x1b[31m\\x0d" in failed.stderr


def test_tail_lines_are_made_visible_too(cli: Cli) -> None:
    cli.fake.senders.append({"id": "s1", "name": "S\x1bc", "provider": "CUSTOM_TWILIO_VERIFY"})
    calls = {"n": 0}

    def notifications(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/notifications"):
            return None
        calls["n"] += 1
        if calls["n"] == 1:
            return page("notifications", [])
        item = {"id": "n1", "status": "FAILED", "to": "+1", "sender": {"id": "s1"}, "error": {"message": "\x1b[5m"}}
        return page("notifications", [{**item, "createdAt": "t", "updatedAt": "t"}])

    cli.fake.routes.append(notifications)
    result = cli.run("notifications", "tail", "--profile", "default", "--count", "1", "--interval", "0.1")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "via S\\x1bc" in result.stdout and "\\x1b[5m" in result.stdout


def test_profile_write_ignores_a_planted_temporary_symlink(tmp_path: Path) -> None:
    """Old code opened profiles.json.tmp without O_EXCL/O_NOFOLLOW: a symlink planted there had the
    profiles (secrets) written into its target, then chmod'ed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    victim.chmod(0o644)
    path = tmp_path / "config" / "profiles.json"
    path.parent.mkdir()
    (path.parent / "profiles.json.tmp").symlink_to(victim)
    profiles.write_profile(path, "p", {"server": "http://127.0.0.1:1", "clientId": "c", "clientSecret": "s3cret"})
    assert victim.read_text() == "untouched\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["profiles"]["p"]["clientSecret"] == "s3cret"
    assert sorted(p.name for p in path.parent.iterdir()) == ["profiles.json", "profiles.json.tmp"]  # no leftovers


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("inline.yaml", "name: S\nprovider: CUSTOM_TWILIO_VERIFY\nauthToken: hunter2-inline-secret: x\n"),
        ("flow.yaml", "name: S\nauthToken: [hunter2-inline-secret\n"),
        ("inline.json", '{"name": "S", "authToken": "hunter2-inline-secret",, "sid": "AC1"}'),
    ],
)
def test_a_broken_sender_file_is_not_echoed(cli: Cli, tmp_path: Path, name: str, text: str) -> None:
    """The parser's error names file, line and column only (old code printed a snippet of the YAML,
    an inline secret included, into the CI log; JSON's error never had one: a guard)."""
    path = tmp_path / name
    path.write_text(text)
    result = cli.run("senders", "apply", "-f", str(path), "--profile", "default")
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "line " in result.stderr and "column " in result.stderr
    assert str(path) in result.stderr and cli.fake.requests == []


HOSTILE = "Evil\x1b[2J\x1b]0;pwned\x07\x9b31m"


def policy(**fields: Any) -> dict[str, Any]:
    return {
        "id": "p1",
        "environment": {"id": "env-1"},
        "name": HOSTILE,
        "default": True,
        "quotas": [{"type": "USER", "deliveryMethods": ["SMS"], "total": 5}],
        "countryLimit": {"type": "DENIED", "deliveryMethods": ["SMS"], "countries": ["GB"]},
        "providerConfiguration": {"conditions": [{"deliveryMethods": ["SMS"], "fallbackChain": [{"id": "s1"}]}]},
        "cooldownConfiguration": {m: {"enabled": False} for m in ("sms", "voice", "email", "whatsApp")},
        **fields,
    }


def serve_policies(cli: Cli, items: list[dict[str, Any]]) -> None:
    def route(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/notificationsPolicies") and request.method == "GET":
            return page("notificationsPolicies", items)
        return None

    cli.fake.routes.append(route)


def test_policy_and_sender_names_are_shown_not_obeyed(cli: Cli) -> None:
    cli.fake.senders.append({"id": "s1", "name": "S\x1bc", "provider": "CUSTOM_TWILIO_VERIFY"})
    serve_policies(cli, [policy()])
    for command in (["policies", "list"], ["policies", "show", HOSTILE], ["policies", "show", "p1"]):
        result = cli.run(*command, "--profile", "default")
        assert result.exit_code == 0, result.stderr
        assert not any(c in result.stdout for c in "\x1b\x07\x9b"), command
        assert "Evil\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m" in result.stdout
    shown = cli.run("policies", "show", "p1", "--profile", "default").stdout
    assert "S\\x1bc" in shown and "DENIED for SMS: GB" in shown
    as_json = cli.run("policies", "show", "p1", "--profile", "default", "-o", "json")
    assert json.loads(as_json.stdout)["name"] == HOSTILE  # JSON stays exact


def test_a_file_naming_another_environments_sender_sends_nothing(cli: Cli, tmp_path: Path) -> None:
    """The id of a sender the API does not list in this environment matches nothing: refused before
    any POST or PUT, whatever the server would have said."""
    cli.fake.senders.append({"id": "s1", "name": "Ours", "provider": "CUSTOM_TWILIO_VERIFY"})
    serve_policies(cli, [])
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: P\nquotas: []\nproviderConfiguration:\n  conditions:\n"
        "    - fallbackChain: [Ours, 0b6c5a1e-0000-4000-8000-000000000666]\n"
    )
    result = cli.run("policies", "apply", "-f", str(path), "--profile", "default")
    assert result.exit_code == 1 and "0b6c5a1e-0000-4000-8000-000000000666" in result.stderr
    assert [r for r in cli.fake.requests if r.method in ("POST", "PUT") and "/as/token" not in r.url.path] == []
