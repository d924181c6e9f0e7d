"""Notification policy rows, and the one query the send path makes to know what applies to a send."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, and_, bindparam, cast, delete, func, select, true, update

from phone_delivery.store.database import Conn, Database
from phone_delivery.store.prepared_read import PreparedRead
from phone_delivery.store.tables import environments, notification_policies, notification_settings

_COLUMNS = (
    notification_policies.c.id,
    notification_policies.c.environment_id,
    notification_policies.c.name,
    notification_policies.c.is_default,
    notification_policies.c.rules,
    notification_policies.c.created_at,
    notification_policies.c.updated_at,
)


def _send_context(by_id: bool) -> Any:
    """Built once (read on every send): the environment, its settings, and the policy that applies
    (the one named, else the default), in one round trip."""
    policy_match = (
        notification_policies.c.id == bindparam("policy_id") if by_id else notification_policies.c.is_default == true()
    )
    return (
        select(
            environments.c.id,
            notification_settings.c.sms_providers_fallback_chain,
            notification_settings.c.delivery_mode,
            notification_settings.c.whitelist,
            notification_policies.c.id.label("policy_id"),
            notification_policies.c.name.label("policy_name"),
            # As text, parsed once per distinct policy (``_parsed_rules``) instead of on every send.
            cast(notification_policies.c.rules, Text).label("rules"),
        )
        .select_from(
            environments.outerjoin(
                notification_settings, notification_settings.c.environment_id == environments.c.id
            ).outerjoin(
                notification_policies,
                and_(notification_policies.c.environment_id == environments.c.id, policy_match),
            )
        )
        .where(environments.c.id == bindparam("environment_id"))
    )


@lru_cache(maxsize=1024)
def _parsed_rules(text: str) -> dict[str, Any]:
    """A policy's rules, shared by every send that reads the same text: read only."""
    rules: dict[str, Any] = json.loads(text)
    return rules


_CONTEXT_DEFAULT = PreparedRead(_send_context(False))
_CONTEXT_BY_ID = PreparedRead(_send_context(True))


@dataclass(frozen=True)
class SendContext:
    """What the send path needs of an environment, read in one query. Shared by the sends that find
    it kept: read only."""

    fallback_chain: tuple[str, ...]
    delivery_mode: str
    whitelist: frozenset[str]  # user ids
    policy_id: str | None
    policy_name: str | None
    rules: dict[str, Any] | None  # shared between sends: read only


async def read_send_context(database: Database, environment_id: str, policy_id: str | None) -> SendContext | None:
    """What a send needs, in one query on its own (``Database.fetch``), or kept from an earlier send
    (``Database.send_contexts``: never used once a table it is read from has changed). None when
    there is no such environment; ``policy_id`` None when the named policy is not one of this
    environment's."""
    kept = database.send_contexts
    key = (environment_id, policy_id)
    token = None
    if kept is not None:
        token = kept.begin()
        hit: SendContext | None = kept.get(key, token)
        if hit is not None:
            return hit
    query = _CONTEXT_BY_ID if policy_id is not None else _CONTEXT_DEFAULT
    params = {"environment_id": environment_id}
    if policy_id is not None:
        params["policy_id"] = policy_id
    rows = await database.fetch(query, params)
    if not rows:
        return None
    m = rows[0]
    context = SendContext(
        fallback_chain=tuple(m["sms_providers_fallback_chain"] or ()),
        delivery_mode=m["delivery_mode"] or "ALL",
        whitelist=frozenset(item["user"]["id"] for item in (m["whitelist"] or [])),
        policy_id=m["policy_id"],
        policy_name=m["policy_name"],
        rules=_parsed_rules(m["rules"]) if m["rules"] is not None else None,
    )
    if kept is not None and (policy_id is None or context.policy_id is not None):
        kept.keep(key, context, token)
    return context


def policy_row(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {
        "id": m["id"],
        "environment_id": m["environment_id"],
        "name": m["name"],
        "default": bool(m["is_default"]),
        "rules": dict(m["rules"]),
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
    }


class PolicyRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def list(self, environment_id: str) -> list[dict[str, Any]]:
        query = (
            select(*_COLUMNS)
            .where(notification_policies.c.environment_id == environment_id)
            .order_by(notification_policies.c.created_at, notification_policies.c.id)
        )
        return [policy_row(r) for r in await self.conn.execute(query)]

    async def get(self, environment_id: str, policy_id: str) -> dict[str, Any] | None:
        query = select(*_COLUMNS).where(
            notification_policies.c.environment_id == environment_id, notification_policies.c.id == policy_id
        )
        row = (await self.conn.execute(query)).first()
        return policy_row(row) if row is not None else None

    async def count(self, environment_id: str) -> int:
        query = select(func.count()).where(notification_policies.c.environment_id == environment_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def name_taken(self, environment_id: str, name: str, except_id: str | None = None) -> str | None:
        """The id of another policy of the environment with this name."""
        query = select(notification_policies.c.id).where(
            notification_policies.c.environment_id == environment_id, notification_policies.c.name == name
        )
        if except_id is not None:
            query = query.where(notification_policies.c.id != except_id)
        row = (await self.conn.execute(query)).first()
        return str(row[0]) if row is not None else None

    async def clear_default(self, environment_id: str) -> None:
        await self.conn.execute(
            update(notification_policies)
            .where(notification_policies.c.environment_id == environment_id, notification_policies.c.is_default)
            .values(is_default=False)
        )

    async def insert(self, policy: dict[str, Any]) -> None:
        await self.conn.execute(
            notification_policies.insert().values(
                id=policy["id"],
                environment_id=policy["environment_id"],
                name=policy["name"],
                is_default=policy["default"],
                rules=policy["rules"],
                created_at=policy["created_at"],
                updated_at=policy["updated_at"],
            )
        )

    async def replace(self, policy: dict[str, Any]) -> None:
        await self.conn.execute(
            update(notification_policies)
            .where(
                notification_policies.c.environment_id == policy["environment_id"],
                notification_policies.c.id == policy["id"],
            )
            .values(
                name=policy["name"],
                is_default=policy["default"],
                rules=policy["rules"],
                updated_at=policy["updated_at"],
            )
        )

    async def delete(self, environment_id: str, policy_id: str) -> bool:
        result = await self.conn.execute(
            delete(notification_policies).where(
                notification_policies.c.environment_id == environment_id, notification_policies.c.id == policy_id
            )
        )
        return bool(result.rowcount)
