"""the worker's claim and queue statistics read an index of the open notifications only

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN = "status IN ('QUEUED', 'SENDING')"


def upgrade() -> None:
    # Replaces the index of every notification's next_attempt_at: delivered ones, the great majority
    # of a grown table, were scanned by every claim and every queue statistic.
    op.create_index(
        "ix_notifications_open",
        "notifications",
        ["next_attempt_at"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.drop_index("ix_notifications_due", table_name="notifications")


def downgrade() -> None:
    op.create_index("ix_notifications_due", "notifications", ["next_attempt_at"])
    op.drop_index("ix_notifications_open", table_name="notifications")
