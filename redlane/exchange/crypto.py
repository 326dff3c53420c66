"""Encryption at rest of message bodies: envelope encryption with a key per message.

Each message gets its own random AES-256-GCM data key. Its body (the JSON of the `Message`:
facts, assessment, entities, parts) and its subject are sealed with that key; the associated
data binds each ciphertext to the message id and to the part it is (`body`, `subject`), so a
ciphertext copied onto another row, or the subject swapped for the body, does not open. The
data key is itself sealed (AES-256-GCM, bound to the message id) by the node's key encryption
key (KEK) and stored in its own table (`message_keys`): destroying that row (retention) makes
the message unreadable, in the database and in every backup of it.

The KEK is 32 random bytes in a file named by REDLANE_NODE_KEK_FILE (mode 600), created with
`redlane mailbox keygen PATH`. Entity identifiers that are personal data are indexed as keyed
hashes (HMAC-SHA256 under a key derived from the KEK), so the index does not hold them in clear
and cannot be tested against guessed names without the KEK.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from redlane.config import ConfigError
from redlane.security.keys import write_secret_file

KEK_SETTING = "REDLANE_NODE_KEK_FILE"
KEY_BYTES = 32
NONCE_BYTES = 12
_VERSION = b"redlane-mailbox-v1"


class DecryptionError(ValueError):
    """A ciphertext does not open: wrong key, or a ciphertext moved or altered."""


def _derive(kek: bytes, purpose: bytes) -> bytes:
    return HKDF(SHA256(), KEY_BYTES, salt=_VERSION, info=purpose).derive(kek)


@dataclass(frozen=True)
class Kek:
    """The node's key encryption key, with the keys derived from it."""

    secret: bytes = field(repr=False)
    path: Path | None = None

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ConfigError(f"{KEK_SETTING}: the key must be {KEY_BYTES} bytes")

    @property
    def id(self) -> str:
        """A public fingerprint naming the KEK (stored beside each wrapped key)."""
        return _derive(self.secret, b"kek id").hex()[:16]

    @property
    def _index_key(self) -> bytes:
        return _index_key(self.secret)

    def blind(self, value: str) -> str:
        """The keyed hash under which a personal identifier is indexed."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()

    def wrap(self, data_key: bytes, message_id: str) -> bytes:
        return seal(self.secret, data_key, b"key|" + message_id.encode())

    def unwrap(self, wrapped: bytes, message_id: str) -> bytes:
        return open_sealed(self.secret, wrapped, b"key|" + message_id.encode())


@lru_cache(maxsize=8)
def _index_key(secret: bytes) -> bytes:
    return _derive(secret, b"entity index")


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """AES-256-GCM: a random 96-bit nonce followed by the ciphertext and its tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _VERSION + b"|" + associated)


def open_sealed(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _VERSION + b"|" + associated
        )
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("the ciphertext does not open with this key") from exc


def part_data(message_id: str, part: str) -> bytes:
    """The associated data of one part of a message (`body`, `subject`, `attachment/3`...)."""
    return f"{part}|{message_id}".encode()


def generate_kek(path: str | Path) -> Kek:
    """Write a new KEK (32 random bytes, mode 0600); an existing file is never replaced."""
    target = Path(path)
    secret = os.urandom(KEY_BYTES)
    write_secret_file(target, secret, "a key encryption key")
    return Kek(secret, target)


def kek_path(value: str | Path | None = None) -> Path:
    raw = str(value if value is not None else os.environ.get(KEK_SETTING, "")).strip()
    if not raw:
        raise ConfigError(
            f"{KEK_SETTING} is not set; it names the node's key encryption key that seals "
            "every message body (create one with `redlane mailbox keygen PATH`)"
        )
    return Path(raw)


def load_kek(path: str | Path | None = None) -> Kek:
    """The KEK from `path` (default: REDLANE_NODE_KEK_FILE); a ConfigError names the setting
    when it is missing, unreadable, not 32 bytes, or open to other users."""
    where = kek_path(path)
    setting = f"{KEK_SETTING}={str(where)!r}"
    try:
        mode = where.stat().st_mode
        secret = where.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read the key: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{setting}: the key is open to other users (mode {stat.S_IMODE(mode):04o}); "
            "run chmod 600 on it"
        )
    if len(secret) != KEY_BYTES:
        raise ConfigError(
            f"{setting}: the key is {len(secret)} bytes, not {KEY_BYTES} random bytes "
            "(create one with `redlane mailbox keygen PATH`)"
        )
    return Kek(secret, where)
