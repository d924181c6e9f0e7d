"""The migrations create exactly the schema that ``store/tables.py`` describes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from phone_delivery.store.migrate import alembic_config
from phone_delivery.store.tables import metadata


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_0003_keeps_the_attempts_it_alters(tmp_path: Path) -> None:
    """0003 rebuilds the attempts table on SQLite (batch mode): the rows written under 0002 survive,
    and an attempt may then name no provider."""
    engine = create_engine(f"sqlite:///{tmp_path / 'upgrade.db'}")
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(text("INSERT INTO environments VALUES ('e', 'n', NULL, 'SANDBOX', 'NA', 1, 1)"))
        conn.execute(
            text(
                "INSERT INTO notifications (id, environment_id, delivery_method, to_number, content_ciphertext, "
                "status, chain, chain_position, tries_at_position, created_at, updated_at) "
                "VALUES ('n1', 'e', 'SMS', '+14155552671', 'x', 'SENT', '[]', 0, 1, 1, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO notification_attempts (id, notification_id, sender_id, provider, outcome, worker, "
                "started_at) VALUES ('a1', 'n1', 's', 'CUSTOM_PROVIDER', 'SENT', 'w', 1)"
            )
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        assert conn.execute(text("SELECT provider FROM notification_attempts")).scalars().all() == ["CUSTOM_PROVIDER"]
        conn.execute(
            text(
                "INSERT INTO notification_attempts (id, notification_id, sender_id, provider, outcome, worker, "
                "started_at) VALUES ('a2', 'n1', 'gone', NULL, 'FAILED_SENDER', 'w', 2)"
            )
        )
