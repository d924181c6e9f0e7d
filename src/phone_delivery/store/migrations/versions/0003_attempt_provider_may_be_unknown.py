"""an attempt's provider may be unknown (its sender could not be loaded)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification_attempts") as batch:
        batch.alter_column("provider", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE notification_attempts SET provider = sender_id WHERE provider IS NULL")
    with op.batch_alter_table("notification_attempts") as batch:
        batch.alter_column("provider", existing_type=sa.String(length=64), nullable=False)
