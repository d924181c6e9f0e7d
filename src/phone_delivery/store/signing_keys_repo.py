"""Token signing keys. The private key is stored only as a ciphertext of the secret cipher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from phone_delivery.store.database import Conn
from phone_delivery.store.tables import signing_keys


@dataclass(frozen=True)
class StoredSigningKey:
    kid: str
    algorithm: str
    private_key_ciphertext: str
    public_jwk: dict[str, Any]
    created_at: int


class SigningKeyRepository:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def all(self) -> list[StoredSigningKey]:
        query = select(signing_keys).order_by(signing_keys.c.created_at.desc())
        return [StoredSigningKey(**dict(r._mapping)) for r in await self.conn.execute(query)]

    async def insert(self, key: StoredSigningKey) -> None:
        await self.conn.execute(
            signing_keys.insert().values(
                kid=key.kid,
                algorithm=key.algorithm,
                private_key_ciphertext=key.private_key_ciphertext,
                public_jwk=key.public_jwk,
                created_at=key.created_at,
            )
        )
