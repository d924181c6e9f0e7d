from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from phone_delivery.store.crypto import Keyring, KeyringError, SecretCipher, new_key, open_cipher


def test_round_trip_records_key_id() -> None:
    ring = Keyring(keys={"k1": os.urandom(32)}, primary="k1")
    cipher = SecretCipher(ring)
    token = cipher.encrypt(b"auth-token-value")
    assert token.startswith("v1.k1.")
    assert b"auth-token-value" not in token.encode()
    assert cipher.decrypt(token) == b"auth-token-value"
    assert cipher.encrypt(b"same") != cipher.encrypt(b"same")  # fresh nonce each time


def test_tampering_is_detected() -> None:
    cipher = SecretCipher(Keyring(keys={"k1": os.urandom(32)}, primary="k1"))
    token = cipher.encrypt(b"secret")
    prefix, kid, payload = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-1] ^= 1
    forged = f"{prefix}.{kid}." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(KeyringError):
        cipher.decrypt(forged)


def test_old_keys_still_decrypt_after_rotation() -> None:
    ring = Keyring(keys={"k1": os.urandom(32)}, primary="k1")
    old = SecretCipher(ring).encrypt(b"secret")
    rotated = ring.with_new_primary()
    cipher = SecretCipher(rotated)
    assert cipher.primary_key_id != "k1"
    assert cipher.decrypt(old) == b"secret"
    assert cipher.key_id_of(cipher.encrypt(b"x")) == rotated.primary


def test_missing_key_is_a_clear_error() -> None:
    token = SecretCipher(Keyring(keys={"k1": os.urandom(32)}, primary="k1")).encrypt(b"s")
    with pytest.raises(KeyringError, match="no key with id 'k1'"):
        SecretCipher(Keyring(keys={"k2": os.urandom(32)}, primary="k2")).decrypt(token)


def test_key_file_created_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret-keys.json"
    ring = Keyring.load_or_create_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.load_or_create_file(path).keys == ring.keys


def test_setting_format_first_key_is_primary() -> None:
    a, b = os.urandom(32), os.urandom(32)
    text = f"new:{base64.urlsafe_b64encode(a).decode()}, old:{base64.urlsafe_b64encode(b).decode()}"
    ring = Keyring.parse_setting(text)
    assert ring.primary == "new"
    assert ring.keys == {"new": a, "old": b}
    assert Keyring.parse_setting(ring.to_setting()).keys == ring.keys


@pytest.mark.parametrize("bad", ["", "nokey", "k1:!!!", f"k1:{base64.b64encode(b'short').decode()}"])
def test_bad_settings_are_refused(bad: str) -> None:
    with pytest.raises(KeyringError):
        Keyring.parse_setting(bad)


def test_a_key_file_cipher_takes_up_rotated_keys_and_never_drops_one(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = Keyring.load_or_create_file(path)
    cipher = open_cipher(None, path)
    old = cipher.encrypt(b"before")
    rotated = first.with_new_primary()
    rotated.write_file(path)  # what 'keys rotate' does to the file
    elsewhere = SecretCipher(rotated).encrypt(b"from another process")
    assert cipher.decrypt(elsewhere) == b"from another process"  # unknown key id: read the file at once
    assert cipher.primary_key_id == rotated.primary
    assert cipher.key_id_of(cipher.encrypt(b"after")) == rotated.primary
    stranger = Keyring.load_or_create_file(tmp_path / "other.json")
    stranger.write_file(path)  # a key file that lost our keys
    cipher.reload(force=True)
    assert cipher.decrypt(old) == b"before" and cipher.decrypt(elsewhere) == b"from another process"
    path.write_text("{broken")
    assert cipher.reload(force=True) is False
    assert cipher.decrypt(old) == b"before"


def test_a_setting_cipher_never_reads_a_file(tmp_path: Path) -> None:
    ring = Keyring(keys={"k1": new_key()}, primary="k1")
    cipher = open_cipher(ring.to_setting(), tmp_path / "absent.json")
    assert cipher.reload(force=True) is False
    with pytest.raises(KeyringError):
        cipher.decrypt(SecretCipher(Keyring(keys={"k2": new_key()}, primary="k2")).encrypt(b"x"))
