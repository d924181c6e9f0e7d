"""notification policies (one default per environment) and the send path's counters

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:40:00
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The default policy of domain/policies.py's default_rules(), as it was when this revision was written.
DEFAULT_NAME = "Default Notification Policy"
DEFAULT_RULES = {
    "quotas": [],
    "countryLimit": {"type": "NONE", "countries": []},
    "cooldownConfiguration": {m: {"enabled": False} for m in ("sms", "voice", "email", "whatsApp")},
}


def upgrade() -> None:
    policies = op.create_table(
        "notification_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_notification_policies_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_policies")),
        sa.UniqueConstraint("environment_id", "name", name="uq_notification_policies_environment_name"),
    )
    op.create_index(
        "ix_notification_policies_one_default",
        "notification_policies",
        ["environment_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "notification_counters",
        sa.Column("environment_id", sa.String(length=36), nullable=False),
        sa.Column("counter_key", sa.String(length=255), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.Column("blocked_until", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_notification_counters_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", "counter_key", name=op.f("pk_notification_counters")),
    )
    # Every existing environment gets its default policy, as new ones do when they are created.
    now = int(time.time() * 1000)
    environment_ids = [row[0] for row in op.get_bind().execute(sa.text("SELECT id FROM environments"))]
    if environment_ids:
        op.bulk_insert(
            policies,
            [
                {
                    "id": str(uuid.uuid4()),
                    "environment_id": env,
                    "name": DEFAULT_NAME,
                    "is_default": True,
                    "rules": DEFAULT_RULES,
                    "created_at": now,
                    "updated_at": now,
                }
                for env in environment_ids
            ],
        )


def downgrade() -> None:
    op.drop_table("notification_counters")
    op.drop_index("ix_notification_policies_one_default", table_name="notification_policies")
    op.drop_table("notification_policies")
