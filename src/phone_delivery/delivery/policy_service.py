"""Use cases of notification policies: create, replace, delete, read, and read their counters' use.

Each write runs in one transaction that first locks the environment row: policy writes, sender
deletes and notificationsSettings writes of one environment take turns, so a chain never ends up
naming a sender deleted meanwhile, and the "exactly one default" rule holds under concurrency.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from phone_delivery.domain.activities import new_activity
from phone_delivery.domain.clock import iso_ms, now_ms
from phone_delivery.domain.errors import Detail, InvalidData, NotFound, RequestFailed
from phone_delivery.domain.fraud_rules import HOUR_MS, hourly_key
from phone_delivery.domain.models import Principal
from phone_delivery.domain.policies import MAX_POLICIES_PER_ENVIRONMENT, RESOURCE_TYPE, new_policy_id, parse_policy
from phone_delivery.domain.policy_rules import (
    ENVIRONMENT_SUBJECT,
    day_window,
    number_subject,
    quota_limit,
    quota_prefix,
    user_subject,
)
from phone_delivery.domain.policy_usage import (
    BLOCKS_SHOWN,
    PHONE_METHODS,
    TOP,
    block_json,
    block_prefixes,
    hourly_json,
    quota_json,
)
from phone_delivery.store.activities_repo import ActivityRepository
from phone_delivery.store.counters_repo import CounterRepository
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.environments_repo import EnvironmentRepository
from phone_delivery.store.policies_repo import PolicyRepository
from phone_delivery.store.tables import senders

NOT_FOUND = "The notification policy was not found."


def _name_taken(existing_id: str) -> InvalidData:
    return InvalidData(
        details=[
            Detail(
                "UNIQUENESS_VIOLATION",
                "A resource with the specified name already exists.",
                "name",
                {"existingId": existing_id},
            )
        ]
    )


def _default_stays() -> InvalidData:
    return InvalidData(
        "The default notification policy stays the default until another policy is made the default.",
        [
            Detail(
                "CONSTRAINT_VIOLATION",
                "An environment always has one default policy: set default to true on another policy instead.",
                "default",
            )
        ],
    )


async def _locked_environment(conn: Conn, env: str) -> None:
    if await EnvironmentRepository(conn).get(env, lock=True) is None:
        raise NotFound("The environment was not found.")


async def _sender_ids(conn: Conn, env: str) -> set[str]:
    return {str(r[0]) for r in await conn.execute(select(senders.c.id).where(senders.c.environment_id == env))}


class PolicyService:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def list(self, env: str) -> list[dict[str, Any]]:
        async with self._database.read() as conn:
            if not await EnvironmentRepository(conn).exists(env):
                raise NotFound("The environment was not found.")
            return await PolicyRepository(conn).list(env)

    async def get(self, env: str, policy_id: str) -> dict[str, Any]:
        async with self._database.read() as conn:
            found = await PolicyRepository(conn).get(env, policy_id)
        if found is None:
            raise NotFound(NOT_FOUND)
        return found

    async def usage(self, env: str, policy_id: str, user_id: str | None, to: str | None) -> dict[str, Any]:
        """The policy's counters now: each quota's use today (and ``user_id``'s, else ``to``'s), the
        hourly cap's use by ``to``, the blocks in force (a few reads: counts may move between them)."""
        now = now_ms()
        async with self._database.read() as conn:
            policy = await PolicyRepository(conn).get(env, policy_id)
            if policy is None:
                raise NotFound(NOT_FOUND)
            counters = CounterRepository(conn, "sqlite" if self._database.sqlite else "postgresql")
            start, _ = day_window(now)
            prefix = quota_prefix(policy_id)
            quotas = []
            for index, quota in enumerate(policy["rules"].get("quotas", [])):
                counts, environment_used, subject = None, None, None
                if PHONE_METHODS & set(quota["deliveryMethods"]):
                    if quota["type"] == "ENVIRONMENT":
                        environment_used = await counters.used(env, prefix + ENVIRONMENT_SUBJECT, start)
                    else:
                        # a same-day change from ENVIRONMENT to USER leaves the environment's row: not a user
                        kinds = (user_subject(""), number_subject(""))
                        counts = await counters.quota_use(env, prefix, kinds, start, quota_limit(quota), TOP)
                        name = user_subject(user_id) if user_id else number_subject(to) if to else None
                        if name is not None:
                            subject = (name, await counters.used(env, prefix + name, start))
                quotas.append(quota_json(index, quota, now, counts, environment_used, subject))
            usage: dict[str, Any] = {"at": iso_ms(now), "quotas": quotas}
            cap = (policy["rules"].get("fraudProtection") or {}).get("numberHourlyCap") or {}
            if to is not None and cap.get("enabled"):
                used = await counters.used(env, hourly_key(policy_id, to), now - now % HOUR_MS)
                usage["numberHourlyCap"] = hourly_json(int(cap["limit"]), now, to, used)
            total, blocked = await counters.blocks(env, block_prefixes(policy_id), now, BLOCKS_SHOWN)
        usage["blocks"] = [block_json(policy_id, key, until) for key, until in blocked]
        usage["blockCount"] = total
        return {"policy": policy, "usage": usage}

    async def create(self, actor: Principal, env: str, body: dict[str, Any]) -> dict[str, Any]:
        now = now_ms()
        async with self._database.write() as conn:
            await _locked_environment(conn, env)
            name, default, rules = parse_policy(body, await _sender_ids(conn, env))
            repo = PolicyRepository(conn)
            if await repo.count(env) >= MAX_POLICIES_PER_ENVIRONMENT:
                raise RequestFailed(
                    f"The environment already has the maximum of {MAX_POLICIES_PER_ENVIRONMENT} notification "
                    "policies. Delete one before creating another.",
                    [
                        Detail(
                            "LIMIT_EXCEEDED",
                            f"At most {MAX_POLICIES_PER_ENVIRONMENT} notification policies per environment.",
                            None,
                            {"maximumValue": MAX_POLICIES_PER_ENVIRONMENT},
                        )
                    ],
                )
            if taken := await repo.name_taken(env, name):
                raise _name_taken(taken)
            if default:
                await repo.clear_default(env)
            policy = {
                "id": new_policy_id(),
                "environment_id": env,
                "name": name,
                "default": bool(default),
                "rules": rules,
                "created_at": now,
                "updated_at": now,
            }
            await repo.insert(policy)
            await self._record(conn, actor, policy, "CREATED", f"Notification policy '{name}' created.", now)
        return policy

    async def replace(self, actor: Principal, env: str, policy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT is a whole replacement; ``default`` left out keeps the policy's flag."""
        now = now_ms()
        async with self._database.write() as conn:
            await _locked_environment(conn, env)
            repo = PolicyRepository(conn)
            existing = await repo.get(env, policy_id)
            if existing is None:
                raise NotFound(NOT_FOUND)
            name, default, rules = parse_policy(body, await _sender_ids(conn, env))
            if existing["default"] and default is False:
                raise _default_stays()
            if taken := await repo.name_taken(env, name, except_id=policy_id):
                raise _name_taken(taken)
            becomes_default = existing["default"] or bool(default)
            if becomes_default and not existing["default"]:
                await repo.clear_default(env)
            policy = {
                **existing,
                "name": name,
                "default": becomes_default,
                "rules": rules,
                "updated_at": max(now, existing["updated_at"] + 1),
            }
            await repo.replace(policy)
            await self._record(conn, actor, policy, "UPDATED", f"Notification policy '{name}' updated.", now)
        return policy

    async def delete(self, actor: Principal, env: str, policy_id: str) -> None:
        now = now_ms()
        async with self._database.write() as conn:
            await _locked_environment(conn, env)
            repo = PolicyRepository(conn)
            existing = await repo.get(env, policy_id)
            if existing is None:
                raise NotFound(NOT_FOUND)
            if existing["default"]:
                raise InvalidData(
                    "The default notification policy cannot be deleted.",
                    [
                        Detail(
                            "CONSTRAINT_VIOLATION",
                            "Make another policy the default first; then this one can be deleted.",
                            "default",
                        )
                    ],
                )
            await repo.delete(env, policy_id)
            await self._record(
                conn, actor, existing, "DELETED", f"Notification policy '{existing['name']}' deleted.", now
            )

    @staticmethod
    async def _record(
        conn: Conn, actor: Principal, policy: dict[str, Any], verb: str, description: str, now: int
    ) -> None:
        activity = new_activity(
            policy["environment_id"], RESOURCE_TYPE, verb, policy["id"], description, actor, now, policy["name"]
        )
        await ActivityRepository(conn).insert(activity)
