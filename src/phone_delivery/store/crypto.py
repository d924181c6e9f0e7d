"""The one secret cipher: AES-256-GCM with the key id stored beside each ciphertext.

A ciphertext is ``v1.<kid>.<base64url(nonce || ciphertext+tag)>``. Keys come from the
``PHONE_DELIVERY_SECRET_KEYS`` setting or from a key file created at first start with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1"
_NONCE_BYTES = 12


class KeyringError(Exception):
    """The key configuration is unusable (bad format, missing key for a ciphertext)."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_id() -> str:
    return "k" + secrets.token_hex(4)


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@dataclass
class Keyring:
    """Named 256-bit keys; ``primary`` encrypts, every key decrypts."""

    keys: dict[str, bytes]
    primary: str

    def __post_init__(self) -> None:
        if self.primary not in self.keys:
            raise KeyringError("the primary key id is not among the keys")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise KeyringError(f"key {kid!r} must be 32 bytes (256 bits)")
            if not kid or "." in kid:
                raise KeyringError("key ids must be non-empty and contain no '.'")

    @classmethod
    def parse_setting(cls, value: str) -> Keyring:
        """Parse ``kid:base64key[,kid:base64key...]``; the first key is primary."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            kid, sep, encoded = part.partition(":")
            if not sep:
                raise KeyringError("PHONE_DELIVERY_SECRET_KEYS entries must look like 'kid:base64key'")
            try:
                keys[kid.strip()] = _b64d(encoded.strip())
            except (binascii.Error, ValueError) as exc:
                raise KeyringError(f"key {kid.strip()!r} is not valid base64") from exc
        if not keys:
            raise KeyringError("PHONE_DELIVERY_SECRET_KEYS holds no key")
        return cls(keys=keys, primary=next(iter(keys)))

    @classmethod
    def load_file(cls, path: Path) -> Keyring:
        try:
            data = json.loads(path.read_text())
            keys = {kid: _b64d(enc) for kid, enc in data["keys"].items()}
            return cls(keys=keys, primary=data["primary"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"cannot read key file {path}: {exc.__class__.__name__}") from exc

    @classmethod
    def load_or_create_file(cls, path: Path) -> Keyring:
        if path.exists():
            return cls.load_file(path)
        kid = new_key_id()
        ring = cls(keys={kid: new_key()}, primary=kid)
        ring.write_file(path)
        return ring

    def write_file(self, path: Path) -> None:
        """Write atomically with mode 0600 (the file never exists with wider permissions)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"primary": self.primary, "keys": {kid: _b64e(key) for kid, key in self.keys.items()}}
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def with_new_primary(self) -> Keyring:
        kid = new_key_id()
        while kid in self.keys:
            kid = new_key_id()
        return Keyring(keys={kid: new_key(), **self.keys}, primary=kid)

    def to_setting(self) -> str:
        ordered = [self.primary, *(k for k in self.keys if k != self.primary)]
        return ",".join(f"{kid}:{_b64e(self.keys[kid])}" for kid in ordered)


class SecretCipher:
    """Encrypts and decrypts secrets with the keyring's keys.

    With a ``key_file`` (key-file mode) the keyring is read again when the file changes, so a
    running process takes up the keys that ``phone-delivery keys rotate`` wrote: at once when it
    meets a ciphertext under a key id it does not know, and otherwise within ``RECHECK_SECONDS``
    (new secrets are then encrypted under the new primary key). Keys read are added to the ones
    already held, never swapped for them: removing a key takes a restart.
    """

    RECHECK_SECONDS = 1.0

    def __init__(self, keyring: Keyring, key_file: Path | None = None) -> None:
        self._key_file = key_file
        self._file_state = _file_state(key_file)
        self._checked_at = time.monotonic()
        self._use(keyring)

    @property
    def key_ids(self) -> list[str]:
        """The ids of the keys held, the primary (encrypting) one first."""
        primary = self._keyring.primary
        return [primary, *(kid for kid in self._keyring.keys if kid != primary)]

    def _use(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._aead = {kid: AESGCM(key) for kid, key in keyring.keys.items()}

    def reload(self, *, force: bool = False) -> bool:
        """Read the key file again if it changed (at most once per ``RECHECK_SECONDS`` unless
        ``force``); True when new keys were loaded. A file that cannot be read keeps the keys in use."""
        if self._key_file is None:
            return False
        now = time.monotonic()
        if not force and now - self._checked_at < self.RECHECK_SECONDS:
            return False
        self._checked_at = now
        state = _file_state(self._key_file)
        if state == self._file_state:
            return False
        try:
            keyring = Keyring.load_file(self._key_file)
        except KeyringError:
            return False  # half-written or broken: keep what works, try again later
        self._file_state = state
        # Keys are only ever added while running: a key this process knew stays usable until restart,
        # so whatever it encrypted a moment ago can always be read back.
        self._use(Keyring(keys={**self._keyring.keys, **keyring.keys}, primary=keyring.primary))
        return True

    @property
    def primary_key_id(self) -> str:
        return self._keyring.primary

    def encrypt(self, plaintext: bytes) -> str:
        self.reload()
        nonce = os.urandom(_NONCE_BYTES)
        primary = self._keyring.primary
        sealed = self._aead[primary].encrypt(nonce, plaintext, _PREFIX.encode())
        return f"{_PREFIX}.{primary}.{_b64e(nonce + sealed)}"

    def decrypt(self, token: str) -> bytes:
        prefix, kid, payload = self._split(token)
        aead = self._aead.get(kid)
        if aead is None and self.reload(force=True):
            aead = self._aead.get(kid)
        if aead is None:
            raise KeyringError(f"no key with id {kid!r} is configured; add it to the keyring")
        raw = _b64d(payload)
        try:
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], prefix.encode())
        except InvalidTag as exc:
            raise KeyringError(f"ciphertext under key {kid!r} failed authentication") from exc

    def key_id_of(self, token: str) -> str:
        return self._split(token)[1]

    def encrypt_json(self, value: dict[str, str]) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())

    def decrypt_json(self, token: str) -> dict[str, str]:
        data = json.loads(self.decrypt(token))
        if not isinstance(data, dict):
            raise KeyringError("decrypted secret is not an object")
        return {str(k): str(v) for k, v in data.items()}

    @staticmethod
    def _split(token: str) -> tuple[str, str, str]:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise KeyringError("not a phone-delivery ciphertext")
        return parts[0], parts[1], parts[2]


def _file_state(path: Path | None) -> tuple[int, int, int] | None:
    """What tells a changed key file apart: inode, size, modification time (ns)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def open_cipher(secret_keys_setting: str | None, key_file: Path) -> SecretCipher:
    """The cipher of a process: keys from the setting (fixed until restart) or from the key file
    (created when missing, read again when it changes)."""
    if secret_keys_setting:
        return SecretCipher(Keyring.parse_setting(secret_keys_setting))
    return SecretCipher(Keyring.load_or_create_file(key_file), key_file)
