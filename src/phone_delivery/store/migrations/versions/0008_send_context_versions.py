"""SQLite: a version that triggers bump at every change of the tables a send's context is read from

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The same names as tables.SEND_CONTEXT_TABLES (a migration keeps its own).
TABLES = ("environments", "notification_settings", "notification_policies")
CHANGES = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    # On both databases, so that the tables are the same; only SQLite's row moves (PostgreSQL
    # notifies instead, migration 0007).
    versions = op.create_table(
        "send_context_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_context_versions")),
    )
    op.bulk_insert(versions, [{"id": 1, "version": 0}])
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite's triggers are per row: a statement changing n rows adds n, which is just as good (only
    # "it moved" matters). They run in the changing transaction, whichever connection or tool runs it.
    # A later migration that rebuilds one of these tables (batch mode: copy, drop, rename) drops its
    # triggers with it and must create them again.
    for table in TABLES:
        for change in CHANGES:
            op.execute(
                f"CREATE TRIGGER {table}_{change.lower()}_send_context AFTER {change} ON {table} "  # noqa: S608 - constants
                "BEGIN UPDATE send_context_versions SET version = version + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for change in CHANGES:
                op.execute(f"DROP TRIGGER {table}_{change.lower()}_send_context")
    op.drop_table("send_context_versions")
