"""The typer command groups of the client side, and ``register`` that adds them to the CLI."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``login``, ``send`` and the groups (environments, senders, chain, notifications,
    policies, activities, apps) to the ``phone-delivery`` command."""
    from phone_delivery.client.commands import (
        activities,
        apps,
        chain,
        environments,
        login,
        notifications,
        policies,
        senders,
    )

    app.command("login")(login.login)
    app.add_typer(environments.app, name="environments")
    app.add_typer(senders.app, name="senders")
    app.add_typer(chain.app, name="chain")
    app.add_typer(policies.app, name="policies")
    app.command("send")(notifications.send)
    app.add_typer(notifications.app, name="notifications")
    app.add_typer(activities.app, name="activities")
    app.add_typer(apps.app, name="apps")
