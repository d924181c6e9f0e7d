"""``phone-delivery apps list|create|rotate-secret``: worker applications and their secrets.

A client secret is shown once, when it is created or rotated: the server keeps only its hash.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from phone_delivery.client import lookup
from phone_delivery.client.commands.context import EnvOpt, OutputOpt, ProfileOpt, group, session
from phone_delivery.client.errors import ClientError
from phone_delivery.client.output import Format, Output

app = group("Worker applications: list, create (with a role), rotate a secret (shown once).")
AppArg = Annotated[str, typer.Argument(help="Application name or id.", show_default=False)]


def _once(output: Output, application: dict[str, Any], secret: str, token_url: str) -> None:
    output.fields(
        [
            ("name", application.get("name")),
            ("clientId", application["id"]),
            ("clientSecret", secret),
            ("tokenUrl", token_url),
        ]
    )
    output.note("Store the client secret now: it is kept only as a hash and is not shown again.")


def _token_url(server: str, env_id: str) -> str:
    return f"{server}/{env_id}/as/token"


@app.command("list")
def list_apps(env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """List the environment's applications."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        items = s.api.items(f"/v1/environments/{environment['id']}/applications", "applications")
        if s.output.json:
            s.output.data(items)
        else:
            s.output.table(
                ["Name", "Client id", "Enabled", "Created"],
                [(a.get("name"), a["id"], a.get("enabled"), a.get("createdAt")) for a in items],
            )


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Name of the application.")],
    description: Annotated[str | None, typer.Option(help="A description.")] = None,
    admin: Annotated[
        bool, typer.Option("--admin/--no-admin", help="Grant it Environment Admin of its environment.")
    ] = True,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create a worker application in an environment; its secret is shown once.

    The secret (and the client id) are shown first, then the role is granted: if that fails, the
    command says the application was created, and exits 1 with the secret already shown.
    """
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        base = f"/v1/environments/{environment['id']}/applications"
        body: dict[str, Any] = {"name": name, **({"description": description} if description else {})}
        created = s.api.post(base, body)
        secret = created.pop("clientSecret")
        token_url = _token_url(s.api.credentials.server, environment["id"])
        if not s.output.json:  # shown before anything else can fail: the server keeps only its hash
            _once(s.output, created, secret, token_url)
        roles: list[dict[str, Any]] = []
        try:
            if admin:
                role = {"role": {"id": "ENVIRONMENT_ADMIN"}, "scope": {"type": "ENVIRONMENT", "id": environment["id"]}}
                roles.append(s.api.post(f"{base}/{created['id']}/roleAssignments", role))
        except ClientError as exc:
            if s.output.json:
                s.output.data({**created, "clientSecret": secret, "tokenUrl": token_url, "roleAssignments": roles})
            exc.message = (
                f"created application {created.get('name')!r} ({created['id']}), but the role could not be granted: "
                f"{exc.message}"
            )
            raise
        if s.output.json:
            s.output.data({**created, "clientSecret": secret, "tokenUrl": token_url, "roleAssignments": roles})
        elif roles:
            s.output.note(f"granted Environment Admin of {environment['name']!r}")


@app.command("rotate-secret")
def rotate_secret(
    application: AppArg, env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table
) -> None:
    """Issue a new client secret (shown once); the old one stops working at once."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.application(s.api, environment, application)
        answer = s.api.post(f"/v1/environments/{environment['id']}/applications/{found['id']}/secret")
        token_url = _token_url(s.api.credentials.server, environment["id"])
        s.output.result(
            {"id": found["id"], "name": found.get("name"), "clientSecret": answer["secret"]},
            lambda: _once(s.output, found, answer["secret"], token_url),
        )
