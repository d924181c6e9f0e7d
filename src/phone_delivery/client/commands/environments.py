"""``phone-delivery environments list|create|delete``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from phone_delivery.client import lookup
from phone_delivery.client.commands.context import OutputOpt, ProfileOpt, group, session
from phone_delivery.client.errors import UsageError
from phone_delivery.client.output import Format, Output

app = group("Environments (tenants): list, create, delete.")


def _show(output: Output, items: list[dict[str, Any]]) -> None:
    output.table(
        ["Name", "Id", "Type", "Region", "Created"],
        [(e.get("name"), e.get("id"), e.get("type"), e.get("region"), e.get("createdAt")) for e in items],
    )


@app.command("list")
def list_environments(profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """List the environments the application administers."""
    with session(profile, output) as s:
        items = s.api.items("/v1/environments", "environments")
        s.output.result(items, lambda: _show(s.output, items))


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Name of the new environment.")],
    description: Annotated[str | None, typer.Option(help="A description.")] = None,
    type_: Annotated[str, typer.Option("--type", help="SANDBOX or PRODUCTION.")] = "SANDBOX",
    region: Annotated[str, typer.Option(help="NA, EU, CA, AP, AU or SG.")] = "NA",
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create an environment (needs an Organization Admin application)."""
    with session(profile, output) as s:
        body: dict[str, Any] = {"name": name, "type": type_.upper(), "region": region.upper()}
        if description is not None:
            body["description"] = description
        created = s.api.post("/v1/environments", body)
        s.output.result(created, lambda: s.output.text(f"created environment {created['name']!r} ({created['id']})"))


@app.command("delete")
def delete(
    environment: Annotated[str, typer.Argument(help="Name or id of the environment.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: delete it and everything in it.")] = False,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Delete an environment and everything in it (senders, applications, notifications, activities)."""
    with session(profile, output) as s:
        env = lookup.environment(s.api, environment)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError(f"deleting {env['name']!r} removes everything in it: confirm with --yes")
            typer.confirm(f"Delete environment {env['name']!r} ({env['id']}) and everything in it?", abort=True)
        s.api.delete(f"/v1/environments/{env['id']}")
        s.output.result(
            {"deleted": {"id": env["id"], "name": env["name"]}},
            lambda: s.output.text(f"deleted environment {env['name']!r} ({env['id']})"),
        )
