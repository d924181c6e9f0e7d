"""PostgreSQL: the tables a send's context is read from notify at every change

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The same names as tables.SEND_CONTEXT_TABLES and SEND_CONTEXT_CHANNEL (a migration keeps its own).
TABLES = ("environments", "notification_settings", "notification_policies")
CHANNEL = "phone_delivery_send_context"
FUNCTION = "phone_delivery_send_context_changed"


def upgrade() -> None:
    # A statement-level trigger: one notification per statement, whatever the number of rows (and
    # PostgreSQL delivers one per transaction, at its commit, for identical ones). SQLite keeps no
    # send contexts: nothing to do there.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_send_context_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_send_context_changed ON {table}")
    op.execute(f"DROP FUNCTION {FUNCTION}()")
