"""phoneDeliverySettings rows. Secrets pass through the cipher on the way in and out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from phone_delivery.domain.errors import Detail, InvalidData
from phone_delivery.domain.models import Sender
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.prepared_read import PreparedRead
from phone_delivery.store.tables import senders

_PUBLIC_COLUMNS = (
    senders.c.id,
    senders.c.environment_id,
    senders.c.provider,
    senders.c.name,
    senders.c.config,
    senders.c.created_at,
    senders.c.updated_at,
)


# Built once: the hot read paths only bind parameters to an already compiled statement.
_READ_ONE_PUBLIC = PreparedRead(
    select(*_PUBLIC_COLUMNS).where(
        senders.c.environment_id == bindparam("environment_id"), senders.c.id == bindparam("sender_id")
    )
)

_LIST_PUBLIC = PreparedRead(
    select(*_PUBLIC_COLUMNS)
    .where(senders.c.environment_id == bindparam("environment_id"))
    .order_by(senders.c.created_at, senders.c.id)
)


async def read_public(database: Database, environment_id: str, sender_id: str) -> dict[str, Any] | None:
    """Read One's query, on its own (``Database.fetch``): the non-secret columns of one sender."""
    rows = await database.fetch(_READ_ONE_PUBLIC, {"environment_id": environment_id, "sender_id": sender_id})
    return rows[0] if rows else None


async def read_all_public(database: Database, environment_id: str) -> list[dict[str, Any]]:
    """Read All's query, on its own: the non-secret columns of every sender of the environment."""
    return await database.fetch(_LIST_PUBLIC, {"environment_id": environment_id})


def public_row_to_dict(row: Any) -> dict[str, Any]:
    """A row of the public columns as a plain dict (used by the read path, which needs no secret)."""
    return dict(row._mapping)


class SenderRepository:
    def __init__(self, conn: Conn, cipher: SecretCipher) -> None:
        self.conn = conn
        self.cipher = cipher

    async def get(self, environment_id: str, sender_id: str) -> Sender | None:
        row = (
            await self.conn.execute(
                select(senders).where(senders.c.environment_id == environment_id, senders.c.id == sender_id)
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        return Sender(
            id=m["id"],
            environment_id=m["environment_id"],
            provider=m["provider"],
            name=m["name"],
            config=dict(m["config"]),
            secrets=self.cipher.decrypt_json(m["secrets_ciphertext"]),
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )

    async def get_public(self, environment_id: str, sender_id: str) -> dict[str, Any] | None:
        """The non-secret columns only: the hot read path never decrypts anything."""
        params = {"environment_id": environment_id, "sender_id": sender_id}
        row = (await self.conn.execute(_READ_ONE_PUBLIC.statement, params)).first()
        return public_row_to_dict(row) if row else None

    async def list_public(self, environment_id: str) -> list[dict[str, Any]]:
        rows = await self.conn.execute(_LIST_PUBLIC.statement, {"environment_id": environment_id})
        return [public_row_to_dict(r) for r in rows]

    async def count(self, environment_id: str) -> int:
        query = select(func.count()).select_from(senders).where(senders.c.environment_id == environment_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def name_taken(self, environment_id: str, name: str, except_id: str | None = None) -> str | None:
        """The id of another sender of the environment with this name, if any."""
        query = select(senders.c.id).where(senders.c.environment_id == environment_id, senders.c.name == name)
        if except_id is not None:
            query = query.where(senders.c.id != except_id)
        row = (await self.conn.execute(query.limit(1))).first()
        return str(row[0]) if row else None

    async def insert(self, sender: Sender) -> None:
        try:
            await self.conn.execute(
                senders.insert().values(
                    id=sender.id,
                    environment_id=sender.environment_id,
                    provider=sender.provider,
                    name=sender.name,
                    config=sender.config,
                    secrets_ciphertext=self.cipher.encrypt_json(sender.secrets),
                    created_at=sender.created_at,
                    updated_at=sender.updated_at,
                )
            )
        except IntegrityError as exc:
            raise _name_conflict() from exc

    async def replace(self, sender: Sender) -> None:
        try:
            await self.conn.execute(
                update(senders)
                .where(senders.c.environment_id == sender.environment_id, senders.c.id == sender.id)
                .values(
                    name=sender.name,
                    config=sender.config,
                    secrets_ciphertext=self.cipher.encrypt_json(sender.secrets),
                    updated_at=sender.updated_at,
                )
            )
        except IntegrityError as exc:
            raise _name_conflict() from exc

    async def delete(self, environment_id: str, sender_id: str) -> bool:
        result = await self.conn.execute(
            delete(senders).where(senders.c.environment_id == environment_id, senders.c.id == sender_id)
        )
        return bool(result.rowcount)


def _name_conflict() -> InvalidData:
    return InvalidData(
        details=[
            Detail(
                code="UNIQUENESS_VIOLATION",
                target="name",
                message="A resource with the specified name already exists.",
            )
        ]
    )
