"""ES256 access tokens: issued by the token endpoint, verified once per token, claims cached.

The signing key's private half is kept in the database encrypted by the secret cipher.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from phone_delivery.domain.errors import Unauthenticated
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Database
from phone_delivery.store.signing_keys_repo import SigningKeyRepository, StoredSigningKey

ALGORITHM = "ES256"
_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class VerifiedToken:
    client_id: str
    environment_id: str
    expires_at: int
    issuer: str  # checked per request against the environment's issuer (``api/deps.caller``)


class TokenService:
    """Signs and verifies access tokens. Build with ``await TokenService.load(...)``."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        kid: str,
        public_keys: dict[str, Any],
        jwks: list[dict[str, Any]],
        audience: str,
        lifetime: int,
    ) -> None:
        self._private_key = private_key
        self._kid = kid
        self._public_keys = public_keys
        self._jwks = jwks
        self._audience = audience
        self.lifetime = lifetime
        self._cache: dict[str, VerifiedToken] = {}

    @classmethod
    async def load(cls, database: Database, cipher: SecretCipher, audience: str, lifetime: int) -> TokenService:
        async with database.write() as conn:
            repo = SigningKeyRepository(conn)
            stored = await repo.all()
            if not stored:
                stored = [await _create_key(repo, cipher)]
        newest = stored[0]
        pem = cipher.decrypt(newest.private_key_ciphertext)
        private_key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise RuntimeError("stored signing key is not an EC key")
        public_keys = {k.kid: ECAlgorithm.from_jwk(json.dumps(k.public_jwk)) for k in stored}
        return cls(private_key, newest.kid, public_keys, [k.public_jwk for k in stored], audience, lifetime)

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": self._jwks}

    def issue(self, client_id: str, environment_id: str, issuer: str) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": client_id,
            "aud": [self._audience],
            "iat": now,
            "exp": now + self.lifetime,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
            "env": environment_id,
        }
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> VerifiedToken:
        """Verify signature, expiry and audience once; later calls with the same token hit the cache."""
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at > now:
                return cached
            del self._cache[token]
            raise Unauthenticated("The access token has expired.")
        verified = self._verify_signature(token)
        if len(self._cache) >= _CACHE_LIMIT:
            self._evict(now)
        self._cache[token] = verified
        return verified

    def _verify_signature(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
            key = self._public_keys.get(str(header.get("kid")))
            if key is None:
                raise Unauthenticated("The access token was not issued by this server.")
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                options={"require": ["exp", "iat", "aud", "iss", "client_id", "env"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The access token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated("The access token is not intended for this API (wrong audience).") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The access token is invalid.") from exc
        client_id, env, iss = claims.get("client_id"), claims.get("env"), claims.get("iss")
        if not isinstance(client_id, str) or not isinstance(env, str) or not isinstance(iss, str):
            raise Unauthenticated("The access token is invalid.")
        return VerifiedToken(client_id=client_id, environment_id=env, expires_at=int(claims["exp"]), issuer=iss)

    def _evict(self, now: float) -> None:
        for token in [t for t, v in self._cache.items() if v.expires_at <= now]:
            del self._cache[token]
        while len(self._cache) >= _CACHE_LIMIT:
            del self._cache[next(iter(self._cache))]


async def _create_key(repo: SigningKeyRepository, cipher: SecretCipher) -> StoredSigningKey:
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = uuid.uuid4().hex
    public_jwk = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    key = StoredSigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        private_key_ciphertext=cipher.encrypt(pem),
        public_jwk=public_jwk,
        created_at=int(time.time() * 1000),
    )
    await repo.insert(key)
    return key
