"""The notificationsSettings singleton of each environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select

from phone_delivery.store.database import Conn
from phone_delivery.store.tables import environments, notification_settings

# Built once (read on every send): executing with parameters skips building and cache-keying.
_CHAIN = (
    select(environments.c.id, notification_settings.c.sms_providers_fallback_chain)
    .select_from(
        environments.outerjoin(notification_settings, notification_settings.c.environment_id == environments.c.id)
    )
    .where(environments.c.id == bindparam("environment_id"))
)


class NotificationSettingsRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def fallback_chain(self, environment_id: str) -> list[str] | None:
        """The environment's ``smsProvidersFallbackChain`` (empty when unset), or None when there is no
        such environment: one query on the send path."""
        row = (await self.conn.execute(_CHAIN, {"environment_id": environment_id})).first()
        if row is None:
            return None
        return list(row._mapping["sms_providers_fallback_chain"] or [])

    async def get(self, environment_id: str) -> dict[str, Any] | None:
        query = select(notification_settings).where(notification_settings.c.environment_id == environment_id)
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        m = row._mapping
        return {
            "id": m["id"],
            "deliveryMode": m["delivery_mode"],
            "smsProvidersFallbackChain": list(m["sms_providers_fallback_chain"]),
            "whitelist": list(m["whitelist"]),
            "from": m["from_address"],
            "replyTo": m["reply_to"],
            "updated_at": m["updated_at"],
        }

    async def put(self, environment_id: str, settings_id: str, settings: dict[str, Any], now: int) -> None:
        await self.delete(environment_id)
        await self.conn.execute(
            notification_settings.insert().values(
                environment_id=environment_id,
                id=settings_id,
                delivery_mode=settings["deliveryMode"],
                sms_providers_fallback_chain=settings["smsProvidersFallbackChain"],
                whitelist=settings["whitelist"],
                from_address=settings["from"],
                reply_to=settings["replyTo"],
                updated_at=now,
            )
        )

    async def delete(self, environment_id: str) -> None:
        await self.conn.execute(
            delete(notification_settings).where(notification_settings.c.environment_id == environment_id)
        )
