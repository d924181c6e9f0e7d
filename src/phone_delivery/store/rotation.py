"""Re-encrypt every stored secret under the primary key (``phone-delivery keys rotate``)."""

from __future__ import annotations

from sqlalchemy import select, update

from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Database
from phone_delivery.store.tables import senders, signing_keys


async def reencrypt_all(database: Database, cipher: SecretCipher) -> int:
    """Returns how many ciphertexts were rewritten. Idempotent; one transaction."""
    rewritten = 0
    async with database.write() as conn:
        for row in await conn.execute(select(senders.c.id, senders.c.secrets_ciphertext)):
            if cipher.key_id_of(row.secrets_ciphertext) != cipher.primary_key_id:
                fresh = cipher.encrypt(cipher.decrypt(row.secrets_ciphertext))
                await conn.execute(update(senders).where(senders.c.id == row.id).values(secrets_ciphertext=fresh))
                rewritten += 1
        for row in await conn.execute(select(signing_keys.c.kid, signing_keys.c.private_key_ciphertext)):
            if cipher.key_id_of(row.private_key_ciphertext) != cipher.primary_key_id:
                fresh = cipher.encrypt(cipher.decrypt(row.private_key_ciphertext))
                await conn.execute(
                    update(signing_keys).where(signing_keys.c.kid == row.kid).values(private_key_ciphertext=fresh)
                )
                rewritten += 1
    return rewritten
