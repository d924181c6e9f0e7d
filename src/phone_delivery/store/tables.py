"""SQLAlchemy Core tables. Times are epoch milliseconds (UTC) so SQLite and PostgreSQL agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from phone_delivery.domain.notifications import OPEN_STATUSES

# The notifications still to deliver, as SQL (migration 0006 wrote the same words).
OPEN_NOTIFICATIONS_SQL = "status IN (" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

environments = Table(
    "environments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("description", Text, nullable=True),
    Column("type", String(32), nullable=False),
    Column("region", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("description", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("token_endpoint_auth_method", String(32), nullable=False),
    Column("client_secret_hash", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_applications_environment_id", "environment_id"),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(64), nullable=False),
    # NULL for organization-wide roles; an environment id for Environment Admin.
    Column(
        "scope_environment_id",
        String(36),
        ForeignKey("environments.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_role_assignments_application_id", "application_id"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("private_key_ciphertext", Text, nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

senders = Table(
    "phone_delivery_settings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("name", String(256), nullable=True),
    # Non-secret, provider-specific configuration (sid, messagingServices, ...).
    Column("config", JSON, nullable=False),
    # Every secret of the sender, as one AES-GCM ciphertext of a JSON object, with its key id.
    Column("secrets_ciphertext", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("environment_id", "name", name="uq_phone_delivery_settings_environment_name"),
    Index("ix_phone_delivery_settings_environment_id", "environment_id"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("action_type", String(64), nullable=False),
    Column("actor_type", String(32), nullable=False),
    Column("actor_id", String(64), nullable=True),
    Column("actor_name", String(256), nullable=True),
    Column("resource_type", String(64), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("resource_name", String(256), nullable=True),
    Column("description", Text, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_activities_environment_recorded", "environment_id", "recorded_at"),
)

notification_settings = Table(
    "notification_settings",
    metadata,
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(36), nullable=False),
    Column("delivery_mode", String(16), nullable=False),
    Column("sms_providers_fallback_chain", JSON, nullable=False),
    Column("whitelist", JSON, nullable=False),
    Column("from_address", JSON, nullable=True),
    Column("reply_to", JSON, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
)

# The outbox: a notification is written here in the transaction that accepts it; workers claim
# due rows with a lease.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_method", String(8), nullable=False),
    Column("to_number", String(32), nullable=False),
    Column("country", String(2), nullable=True),
    Column("locale", String(35), nullable=True),
    Column("user_id", String(128), nullable=True),
    # message text and OTP, encrypted like every other secret
    Column("content_ciphertext", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("chain", JSON, nullable=False),
    Column("chain_position", Integer, nullable=False),
    Column("tries_at_position", Integer, nullable=False),
    Column("sender_id", String(36), nullable=True),
    Column("provider", String(64), nullable=True),
    Column("provider_message_id", String(128), nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("idempotency_key", String(255), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("next_attempt_at", BigInteger, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("environment_id", "idempotency_key", name="uq_notifications_environment_idempotency_key"),
    # The open notifications only (QUEUED, SENDING): the worker's claim and queue statistics read them
    # through it, and name the statuses as these literals (a bound parameter could not use it).
    Index(
        "ix_notifications_open",
        "next_attempt_at",
        sqlite_where=text(OPEN_NOTIFICATIONS_SQL),
        postgresql_where=text(OPEN_NOTIFICATIONS_SQL),
    ),
    Index("ix_notifications_environment_created", "environment_id", "created_at"),
)

attempts = Table(
    "notification_attempts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("notification_id", String(36), ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
    Column("sender_id", String(64), nullable=True),
    Column("provider", String(64), nullable=True),  # None: the sender could not be loaded
    Column("outcome", String(24), nullable=False),
    Column("provider_message_id", String(128), nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("worker", String(64), nullable=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Index("ix_notification_attempts_notification_id", "notification_id"),
)

# A signed Twilio status callback that arrived while a later try was in flight and before the worker
# recorded that try's MessageSid: it may be an earlier try's, so it waits here until the worker knows
# the sid (then it counts if the sids match) and is dropped when the notification is decided.
early_callbacks = Table(
    "early_callbacks",
    metadata,
    Column("notification_id", String(36), ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True),
    Column("provider_message_id", String(128), primary_key=True),
    Column("provider_state", String(32), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("received_at", BigInteger, nullable=False),
)

# PingOne's notification policies; ``rules`` holds quotas, countryLimit, providerConfiguration and
# cooldownConfiguration as answered. One default per environment (the partial unique index).
notification_policies = Table(
    "notification_policies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("environment_id", "name", name="uq_notification_policies_environment_name"),
    Index(
        "ix_notification_policies_one_default",
        "environment_id",
        unique=True,
        sqlite_where=text("is_default"),
        postgresql_where=text("is_default"),
    ),
)

# Counters of the send path's limits (a quota's day, a cooldown's series): one row per key, updated
# by a conditional upsert in the transaction that writes the notification, so that two sends never
# both take the last unit.
notification_counters = Table(
    "notification_counters",
    metadata,
    Column("environment_id", String(36), ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True),
    Column("counter_key", String(255), primary_key=True),
    Column("window_start", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("last_at", BigInteger, nullable=False),
    Column("blocked_until", BigInteger, nullable=True),
)

# What a send reads of its environment (``policies_repo.read_send_context``) comes from these tables.
# On PostgreSQL their triggers (migration 0007, which wrote the same names) notify this channel at
# the commit of every statement that changes them, so that each process forgets the contexts it
# keeps (``listened_cache``).
SEND_CONTEXT_TABLES = ("environments", "notification_settings", "notification_policies")
SEND_CONTEXT_CHANNEL = "phone_delivery_send_context"

# SQLite has no NOTIFY: there, triggers (migration 0008) add one to this table's single row at every
# row a statement changes in SEND_CONTEXT_TABLES, and a process keeps a send context only with the
# version it was read under (``versioned_cache``). On PostgreSQL the row is there and stays at 0.
send_context_versions = Table(
    "send_context_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
SEND_CONTEXT_VERSION_SQL = "SELECT version FROM send_context_versions WHERE id = 1"
