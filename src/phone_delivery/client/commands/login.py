"""``phone-delivery login``: check credentials against the server and save them as a profile."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from phone_delivery.client import lookup, profiles
from phone_delivery.client.api import ApiClient
from phone_delivery.client.commands.context import OutputOpt, session
from phone_delivery.client.errors import UsageError
from phone_delivery.client.output import Format


def login(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Name of the profile to write.")] = "default",
    server: Annotated[str | None, typer.Option(help="Base URL of the server, e.g. https://pd.example.com.")] = None,
    token_url: Annotated[
        str | None, typer.Option(help="Token endpoint (default: SERVER/ADMIN_ENV/as/token).", show_default=False)
    ] = None,
    admin_env: Annotated[
        str | None, typer.Option("--admin-env", help="Id of the environment the application lives in.")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="The worker application's client id.")] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            help="The client secret (default: $PHONE_DELIVERY_CLIENT_SECRET, else asked without echo). Prefer "
            "those: a secret on the command line shows in ps and stays in the shell's history.",
            show_default=False,
        ),
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="Default environment for commands (name or id).")
    ] = None,
    dev: Annotated[bool, typer.Option("--dev", help="Take everything from dev mode's dev-credentials.json.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="With --dev: dev mode's data folder (default .phone-delivery).")
    ] = None,
    verify: Annotated[bool, typer.Option(help="Get a token (and find --env) before saving.")] = True,
    output: OutputOpt = Format.table,
) -> None:
    """Save a server and an application's credentials as a profile (file mode 0600).

    The profile file is $PHONE_DELIVERY_PROFILES_FILE, else ~/.config/phone-delivery/profiles.json.
    """
    with session(None, output) as s:
        fields: dict[str, str] = {}
        if dev:
            path = profiles.dev_credentials_path(s.environ, data_dir)
            if not path.exists():
                raise UsageError(f"{path} does not exist: start 'phone-delivery dev' (with --data-dir) first")
            fields = profiles.profile_from_dev_credentials(profiles.read_dev_credentials(path), path)
        given = {
            "server": server,
            "tokenUrl": token_url,
            "adminEnvironmentId": admin_env,
            "clientId": client_id,
            "clientSecret": client_secret or (None if dev else s.environ.get("PHONE_DELIVERY_CLIENT_SECRET")),
            "environment": env,
        }
        fields.update({k: v for k, v in given.items() if v})
        if not fields.get("server") or not fields.get("clientId"):
            raise UsageError("give --server and --client-id (or --dev)")
        if not fields.get("tokenUrl") and not fields.get("adminEnvironmentId"):
            raise UsageError("give --token-url or --admin-env (the environment the application lives in)")
        if not fields.get("clientSecret"):
            if not sys.stdin.isatty():
                raise UsageError("give --client-secret or set PHONE_DELIVERY_CLIENT_SECRET")
            fields["clientSecret"] = typer.prompt("Client secret", hide_input=True)
        fields["server"] = fields["server"].rstrip("/")
        environment_name = None
        if verify:
            credentials = profiles.from_fields(fields, "the login options")
            with ApiClient(credentials) as api:
                api.token()
                if fields.get("environment"):
                    chosen = lookup.environment(api, fields["environment"])
                    fields["environment"], environment_name = chosen["id"], chosen["name"]
        target = profiles.profiles_path(s.environ)
        profiles.write_profile(target, profile, fields)
        summary = {
            "profile": profile,
            "file": str(target),
            "server": fields["server"],
            "clientId": fields["clientId"],
            "environment": fields.get("environment"),
            "verified": verify,
        }
        if s.output.json:
            s.output.data(summary)
        else:
            where = (
                f", environment {environment_name or fields.get('environment')}" if fields.get("environment") else ""
            )
            checked = "credentials checked" if verify else "credentials not checked (--no-verify)"
            s.output.text(f"saved profile {profile!r} to {target} (mode 0600): {fields['server']}{where}; {checked}")
