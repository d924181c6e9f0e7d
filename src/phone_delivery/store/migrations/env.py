"""Alembic environment: always given a live connection by ``phone_delivery.store.migrate``."""

from __future__ import annotations

from alembic import context

from phone_delivery.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with 'phone-delivery migrate', which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
