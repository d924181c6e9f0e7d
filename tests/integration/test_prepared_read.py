"""The hot reads straight on asyncpg (``Database.fetch``, ``store/prepared_read.py``) return what the
engine returns for the same statement: same keys, same values and types (JSON decoded, integers,
booleans, non-ASCII text), on both databases, and many at once share one pool."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from phone_delivery.store import environments_repo, notifications_repo, policies_repo, senders_repo
from phone_delivery.store.database import Database
from phone_delivery.store.environments_repo import ApplicationRepository
from phone_delivery.store.senders_repo import SenderRepository
from tests.conftest import Stack
from tests.support import Api, SandboxAdmin, wait_final

NAME = 'Ünïcode sender ☎ "quoted" \\ back'


def test_direct_reads_equal_the_engine_reads(stack: Stack, admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.account(services=2)
    for name in (NAME, "second"):
        created = admin_api.post(
            admin_api.senders_path(env),
            json={
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
                "name": name,
                "sid": account["accountSid"],
                "authToken": account["authToken"],
            },
        )
        assert created.status_code == 201, created.text
    sender_id = admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"][0]["id"]
    settings = admin_api.put(
        f"/v1/environments/{env}/notificationsSettings",
        json={"smsProvidersFallbackChain": [sender_id, "PINGONE_TWILIO"], "whitelist": [{"user": {"id": "ü"}}]},
    )
    assert settings.status_code == 200, settings.text
    for to in ("+14155550161", "+14155550162"):  # through PINGONE_TWILIO: the chain's first cannot send yet
        body = {"deliveryMethod": "SMS", "to": to, "message": "m"}
        sent = admin_api.post(f"/v1/environments/{env}/notifications", json=body)
        assert sent.status_code == 202, sent.text
        wait_final(admin_api, env, sent.json()["id"], ("DELIVERED",))  # nothing changes under the reads
    statuses = ["QUEUED", "SENDING", "SENT", "DELIVERED", "FAILED"]
    page = {"environment_id": env, "limit": 10, "statuses": statuses}
    admin = stack.admin

    async def both() -> dict[str, Any]:
        database = Database(stack.database_url)
        try:
            async with database.read() as conn:
                engine = {
                    "one": await SenderRepository(conn, None).get_public(env, sender_id),  # type: ignore[arg-type]
                    "all": await SenderRepository(conn, None).list_public(env),  # type: ignore[arg-type]
                    "credentials": await ApplicationRepository(conn).get_credentials(
                        admin.environment_id, admin.client_id
                    ),
                    "send context": [
                        dict(row._mapping)
                        for row in await conn.execute(policies_repo._CONTEXT_DEFAULT.statement, {"environment_id": env})
                    ],
                    # the IN form, against PostgreSQL's = ANY(array) form below
                    "page": [
                        dict(row._mapping)
                        for row in await conn.execute(
                            notifications_repo._page_statement(frozenset(page), True, statuses_array=False), page
                        )
                    ],
                }
                # bound in another order than given: the policy id comes before the environment's
                by_id = {"policy_id": engine["send context"][0]["policy_id"], "environment_id": env}
                engine["send context by id"] = [
                    dict(row._mapping) for row in await conn.execute(policies_repo._CONTEXT_BY_ID.statement, by_id)
                ]
                # the second page: the cursor's time is bound twice
                first = engine["page"][0]
                after = {**page, "after_at": first["created_at"], "after_id": first["id"]}
                engine["next page"] = [
                    dict(row._mapping)
                    for row in await conn.execute(
                        notifications_repo._page_statement(frozenset(after), True, statuses_array=False), after
                    )
                ]
            direct = {
                "one": await senders_repo.read_public(database, env, sender_id),
                "all": await senders_repo.read_all_public(database, env),
                "credentials": await environments_repo.read_credentials(
                    database, admin.environment_id, admin.client_id
                ),
                "send context": await database.fetch(policies_repo._CONTEXT_DEFAULT, {"environment_id": env}),
                "page": await notifications_repo.read_page(
                    database, env, 10, None, statuses, None, None, None, "PINGONE_TWILIO"
                ),
                "send context by id": await database.fetch(policies_repo._CONTEXT_BY_ID, by_id),
                "next page": await notifications_repo.read_page(
                    database, env, 10, (first["created_at"], first["id"]), statuses, None, None, None, "PINGONE_TWILIO"
                ),
            }
            context = await policies_repo.read_send_context(database, env, None)
            # many at once: one pool, opened once, every answer the same
            many = await asyncio.gather(*(senders_repo.read_public(database, env, sender_id) for _ in range(50)))
            missing = await senders_repo.read_public(database, env, "00000000-0000-4000-8000-000000000000")
            # on PostgreSQL they really ran on the direct pool, whose connections are asyncpg's own
            pool = database._direct._pool if database._direct is not None else None
            opened = pool.get_size() if pool is not None else 0
        finally:
            await database.dispose()
        return {
            "engine": engine,
            "direct": direct,
            "many": many,
            "missing": missing,
            "opened": opened,
            "context": context,
        }

    found = asyncio.run(both())
    engine, direct = found["engine"], found["direct"]
    assert typed(direct) == typed(engine)  # values and their types (True is not 1, "1" is not 1)
    assert direct["one"]["name"] == NAME and isinstance(direct["one"]["config"], dict)
    assert isinstance(direct["one"]["created_at"], int)
    assert [s["name"] for s in direct["all"]] == [NAME, "second"]
    assert {n["to_number"] for n in direct["page"]} == {"+14155550161", "+14155550162"}
    assert [n["to_number"] for n in direct["next page"]] == [direct["page"][1]["to_number"]]
    assert direct["send context by id"] == direct["send context"]
    application, secret_hash = direct["credentials"]
    assert application.enabled is True and application.id == admin.client_id and secret_hash
    assert all(one == direct["one"] for one in found["many"])
    assert found["missing"] is None
    context = found["context"]
    assert context.fallback_chain == (sender_id, "PINGONE_TWILIO") and context.whitelist == {"ü"}
    assert context.policy_name == "Default Notification Policy" and isinstance(context.rules, dict)
    if stack.backend == "postgresql":  # on SQLite, fetch runs the engine's statement inline
        assert found["opened"] >= 1, "the direct reads did not run on their own pool"


def typed(value: Any) -> Any:
    """``value`` with the type of every leaf next to it, to compare types as well as values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return typed(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [typed(item) for item in value]
    return (type(value).__name__, value)
