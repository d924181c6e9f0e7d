"""The database side of ``domain.senders.SenderTransactions``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from phone_delivery.domain.models import Activity, Sender
from phone_delivery.domain.policies import chain_senders
from phone_delivery.store.activities_repo import ActivityRepository
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.environments_repo import EnvironmentRepository
from phone_delivery.store.notification_settings_repo import NotificationSettingsRepository
from phone_delivery.store.policies_repo import PolicyRepository
from phone_delivery.store.senders_repo import SenderRepository


class SqlSenderStore:
    def __init__(self, conn: Conn, cipher: SecretCipher) -> None:
        self._senders = SenderRepository(conn, cipher)
        self._environments = EnvironmentRepository(conn)
        self._activities = ActivityRepository(conn)
        self._settings = NotificationSettingsRepository(conn)
        self._policies = PolicyRepository(conn)

    async def environment_exists(self, environment_id: str, *, lock: bool = False) -> bool:
        return await self._environments.get(environment_id, lock=lock) is not None

    async def count(self, environment_id: str) -> int:
        return await self._senders.count(environment_id)

    async def name_taken(self, environment_id: str, name: str, except_id: str | None = None) -> str | None:
        return await self._senders.name_taken(environment_id, name, except_id)

    async def get(self, environment_id: str, sender_id: str) -> Sender | None:
        return await self._senders.get(environment_id, sender_id)

    async def insert(self, sender: Sender) -> None:
        await self._senders.insert(sender)

    async def replace(self, sender: Sender) -> None:
        await self._senders.replace(sender)

    async def delete(self, environment_id: str, sender_id: str) -> bool:
        return await self._senders.delete(environment_id, sender_id)

    async def record(self, activity: Activity) -> None:
        await self._activities.insert(activity)

    async def fallback_chain(self, environment_id: str) -> list[str]:
        settings = await self._settings.get(environment_id)
        return list(settings["smsProvidersFallbackChain"]) if settings else []

    async def policy_references(self, environment_id: str, sender_id: str) -> list[tuple[str, str]]:
        return [
            (policy["name"], target)
            for policy in await self._policies.list(environment_id)
            for entry, target in chain_senders(policy["rules"])
            if entry == sender_id
        ]


class SqlSenderTransactions:
    def __init__(self, database: Database, cipher: SecretCipher) -> None:
        self._database = database
        self._cipher = cipher

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlSenderStore]:
        async with self._database.read() as conn:
            yield SqlSenderStore(conn, self._cipher)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlSenderStore]:
        async with self._database.write() as conn:
            yield SqlSenderStore(conn, self._cipher)
