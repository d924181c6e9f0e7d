"""Client secrets we issue: random, shown once, stored only as a hash.

They are 384-bit random strings, so a fast keyed-free SHA-256 is the right hash: a slow
password hash protects low-entropy secrets and would only slow the token endpoint down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_client_secret() -> str:
    return secrets.token_urlsafe(48)


def hash_client_secret(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def client_secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_client_secret(secret), stored_hash)
