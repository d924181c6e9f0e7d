"""Use cases of the phoneDeliverySettings resource: create, replace, delete.

Each runs a quick read check, then the live provider call (outside any write transaction, so a
slow provider never holds the database), then one write transaction that locks the environment,
checks the limits again and writes the sender together with its activity.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from phone_delivery.domain.activities import new_activity
from phone_delivery.domain.clock import now_ms
from phone_delivery.domain.errors import (
    Detail,
    InvalidData,
    NotFound,
    ProviderRejected,
    RequestFailed,
)
from phone_delivery.domain.models import Activity, Principal, Sender
from phone_delivery.domain.ports import (
    EXPAND_VERIFY_TEMPLATES,
    AccountInventory,
    ProviderFactory,
    UrlGuard,
    VerifyTemplateInfo,
)
from phone_delivery.domain.sender_kinds import ALL_PROVIDERS, SENDER_KINDS, SenderDraft, SenderKind

RESOURCE_TYPE = "PHONE_DELIVERY_SETTINGS"


class SenderStore(Protocol):
    """One transaction's view of senders, environments and activities."""

    async def environment_exists(self, environment_id: str, *, lock: bool = False) -> bool: ...
    async def count(self, environment_id: str) -> int: ...
    async def name_taken(self, environment_id: str, name: str, except_id: str | None = None) -> str | None: ...
    async def get(self, environment_id: str, sender_id: str) -> Sender | None: ...
    async def insert(self, sender: Sender) -> None: ...
    async def replace(self, sender: Sender) -> None: ...
    async def delete(self, environment_id: str, sender_id: str) -> bool: ...
    async def record(self, activity: Activity) -> None: ...
    async def fallback_chain(self, environment_id: str) -> list[str]: ...
    async def policy_references(self, environment_id: str, sender_id: str) -> list[tuple[str, str]]:
        """(policy name, field path) of every notification policy chain entry naming the sender."""
        ...


class SenderTransactions(Protocol):
    def read(self) -> AbstractAsyncContextManager[SenderStore]: ...
    def write(self) -> AbstractAsyncContextManager[SenderStore]: ...


def kind_for(body: Mapping[str, Any]) -> SenderKind:
    provider = body.get("provider")
    if provider is None:
        raise InvalidData.single("REQUIRED_VALUE", "provider", "provider is required.")
    if not isinstance(provider, str) or provider not in ALL_PROVIDERS:
        raise InvalidData.single(
            "INVALID_VALUE",
            "provider",
            f"provider must be one of: {', '.join(ALL_PROVIDERS)}.",
            {"allowedValues": list(ALL_PROVIDERS)},
        )
    return SENDER_KINDS[provider]


def provider_error(exc: ProviderRejected) -> InvalidData:
    """A permanent provider refusal while configuring a sender is the caller's data problem.

    Providers name the offending field in ``extra["target"]`` when they know it."""
    target = exc.extra.get("target")
    if exc.is_authentication:
        message = (
            f"Authentication with {exc.provider} failed: check the credentials "
            f"({target or 'authToken'}). {exc.provider} error {exc.provider_code or exc.status}."
        )
        return InvalidData(
            f"Authentication Error: the credentials were rejected by {exc.provider}.",
            [Detail("INVALID_VALUE", message, target or "authToken")],
        )
    return InvalidData(details=[Detail("INVALID_VALUE", f"{exc.provider} refused: {exc.message}", target)])


class SenderService:
    def __init__(
        self,
        tx: SenderTransactions,
        providers: Mapping[str, ProviderFactory],
        limit: int,
        url_guard: UrlGuard,
        changed: Callable[[str, str], None] = lambda environment_id, sender_id: None,
    ) -> None:
        """``changed(environment_id, sender_id)`` is called after a replace or delete commits, so that
        whoever keeps resolved senders (the delivery worker) drops this one at once."""
        self._tx = tx
        self._providers = providers
        self._limit = limit
        self._url_guard = url_guard
        self._changed = changed

    async def create(self, actor: Principal, environment_id: str, body: dict[str, Any]) -> Sender:
        kind = kind_for(body)
        draft = kind.parse_create(body)
        async with self._tx.read() as store:
            await self._check_room(store, environment_id, draft, None)
        await self._check_urls(kind, draft)
        inventory = await self._inventory(draft)
        config = kind.build_config(draft, inventory, None)
        now = now_ms()
        sender = Sender(
            id=str(uuid.uuid4()),
            environment_id=environment_id,
            provider=draft.provider,
            name=draft.name,
            config=config,
            secrets=draft.secrets,
            created_at=now,
            updated_at=now,
        )
        async with self._tx.write() as store:
            if not await store.environment_exists(environment_id, lock=True):
                raise NotFound("The environment was not found.")
            await self._check_room(store, environment_id, draft, None)
            await store.insert(sender)
            await store.record(activity(actor, sender, "CREATED", now))
        return sender

    async def replace(self, actor: Principal, environment_id: str, sender_id: str, body: dict[str, Any]) -> Sender:
        async with self._tx.read() as store:
            existing = await store.get(environment_id, sender_id)
            if existing is None:
                raise NotFound("The phone delivery settings were not found.")
        if body.get("provider") is not None and body.get("provider") != existing.provider:
            raise InvalidData.single(
                "INVALID_VALUE",
                "provider",
                f"provider cannot be changed (it is {existing.provider}); create a new sender instead.",
            )
        kind = kind_for(body)
        draft = kind.parse_replace(body)
        if draft.body_id is not None and draft.body_id != sender_id:
            raise InvalidData.single("INVALID_VALUE", "id", "id in the body must match the id in the path.")
        kind.check_replace(existing, draft)
        async with self._tx.read() as store:
            await self._check_name(store, environment_id, draft, sender_id)
        await self._check_urls(kind, draft)
        config = kind.build_config(draft, await self._inventory(draft), existing)
        now = max(now_ms(), existing.updated_at + 1)
        updated = Sender(
            id=existing.id,
            environment_id=environment_id,
            provider=existing.provider,
            name=draft.name,
            config=config,
            secrets=draft.secrets,  # PUT is a full replacement: exactly the secrets it carries
            created_at=existing.created_at,
            updated_at=now,
        )
        async with self._tx.write() as store:
            if not await store.environment_exists(environment_id, lock=True):
                raise NotFound("The environment was not found.")
            if await store.get(environment_id, sender_id) is None:
                raise NotFound("The phone delivery settings were not found.")
            await self._check_name(store, environment_id, draft, sender_id)
            await store.replace(updated)
            await store.record(activity(actor, updated, "UPDATED", now))
        self._changed(environment_id, sender_id)
        return updated

    async def delete(self, actor: Principal, environment_id: str, sender_id: str) -> None:
        now = now_ms()
        async with self._tx.write() as store:
            # The environment's lock orders this delete with chain and policy writes, which check
            # their senders under the same lock: no chain can come to name a deleted sender.
            await store.environment_exists(environment_id, lock=True)
            existing = await store.get(environment_id, sender_id)
            if existing is None:
                raise NotFound("The phone delivery settings were not found.")
            chain = await store.fallback_chain(environment_id)
            if sender_id in chain:
                raise InvalidData(
                    "The sender is in use and cannot be deleted.",
                    [
                        Detail(
                            "CONSTRAINT_VIOLATION",
                            f"smsProvidersFallbackChain[{chain.index(sender_id)}] of the environment's "
                            "notificationsSettings refers to this sender; remove it from the chain first.",
                            "id",
                            {"referencedValues": ["notificationsSettings.smsProvidersFallbackChain"]},
                        )
                    ],
                )
            references = await store.policy_references(environment_id, sender_id)
            if references:
                names = sorted({name for name, _ in references})
                raise InvalidData(
                    "The sender is in use and cannot be deleted.",
                    [
                        Detail(
                            "CONSTRAINT_VIOLATION",
                            f"{target} of the notification policy '{name}' refers to this sender; "
                            "remove it from the policy's chain first.",
                            "id",
                            {"referencedValues": names},
                        )
                        for name, target in references
                    ],
                )
            if not await store.delete(environment_id, sender_id):
                raise NotFound("The phone delivery settings were not found.")
            await store.record(activity(actor, existing, "DELETED", now))
        self._changed(environment_id, sender_id)

    async def _check_room(
        self, store: SenderStore, environment_id: str, draft: SenderDraft, except_id: str | None
    ) -> None:
        if await store.count(environment_id) >= self._limit:
            raise RequestFailed(
                f"The environment already has the maximum of {self._limit} phone delivery settings. "
                "Delete one before creating another.",
                [
                    Detail(
                        "LIMIT_EXCEEDED",
                        f"At most {self._limit} senders per environment.",
                        None,
                        {"maximumValue": self._limit},
                    )
                ],
            )
        await self._check_name(store, environment_id, draft, except_id)

    @staticmethod
    async def _check_name(store: SenderStore, environment_id: str, draft: SenderDraft, except_id: str | None) -> None:
        if draft.name is None:
            return
        other = await store.name_taken(environment_id, draft.name, except_id)
        if other is not None:
            raise InvalidData(
                details=[
                    Detail(
                        "UNIQUENESS_VIOLATION",
                        "A resource with the specified name already exists.",
                        "name",
                        {"existingId": other},
                    )
                ]
            )

    async def verify_templates(self, environment_id: str, sender_id: str) -> list[VerifyTemplateInfo] | None:
        """The Verify templates of a CUSTOM_TWILIO_VERIFY sender's account, read live (None for others)."""
        async with self._tx.read() as store:
            sender = await store.get(environment_id, sender_id)
        if sender is None or sender.provider != "CUSTOM_TWILIO_VERIFY":
            return None
        provider = self._providers[sender.provider](sender.config, sender.secrets)
        try:
            inventory = await provider.inventory(frozenset({EXPAND_VERIFY_TEMPLATES}))
        except ProviderRejected as exc:
            raise RequestFailed(
                f"{exc.provider} refused to list the Verify templates: {exc.message}",
                [Detail("PROVIDER_ERROR", exc.message, None)],
            ) from exc
        return inventory.verify_templates or []

    async def _check_urls(self, kind: SenderKind, draft: SenderDraft) -> None:
        details = []
        for target, url in kind.urls(draft):
            problem = self._url_guard.problem(url)
            if problem is not None:
                details.append(Detail("INVALID_VALUE", problem, target))
        if details:
            raise InvalidData(details=details)

    async def _inventory(self, draft: SenderDraft) -> AccountInventory:
        provider = self._providers[draft.provider](draft.config, draft.secrets)
        try:
            return await provider.inventory()
        except ProviderRejected as exc:
            raise provider_error(exc) from exc


def activity(actor: Principal, sender: Sender, verb: str, at: int) -> Activity:
    label = sender.name or sender.provider
    description = f"Phone delivery settings '{label}' ({sender.provider}) {verb.lower()} by {actor.name}."
    return new_activity(sender.environment_id, RESOURCE_TYPE, verb, sender.id, description, actor, at, sender.name)
