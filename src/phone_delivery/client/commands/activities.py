"""``phone-delivery activities list``: the audit trail."""

from __future__ import annotations

import itertools
from typing import Annotated

import typer

from phone_delivery.client import lookup
from phone_delivery.client.commands.context import EnvOpt, OutputOpt, ProfileOpt, group, session
from phone_delivery.client.output import Format

app = group("The audit trail: who changed what, newest first.")


@app.command("list")
def list_activities(
    action: Annotated[
        str | None,
        typer.Option("--type", help="Only this action type, e.g. PHONE_DELIVERY_SETTINGS.UPDATED.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many, newest first.")] = 50,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """List the environment's activities."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        path = f"/v1/environments/{environment['id']}/activities"
        pages = s.api.iter_items(path, "activities", limit=min(limit, 1000), actionType=action)
        items = list(itertools.islice(pages, limit))  # no page after the one that holds the limit-th
        if s.output.json:
            s.output.data(items)
            return
        rows = []
        for item in items:
            resource = (item.get("resources") or [{}])[0]
            actor = ((item.get("actors") or {}).get("client") or {}).get("name")
            rows.append(
                (
                    item.get("recordedAt"),
                    (item.get("action") or {}).get("type"),
                    resource.get("name") or resource.get("id"),
                    actor,
                    (item.get("action") or {}).get("description"),
                )
            )
        s.output.table(["Recorded", "Action", "Resource", "By", "Description"], rows)
