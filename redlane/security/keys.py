"""The node's Ed25519 key: it signs the audit chain's head (and, later, what the node sends).

The key is a PKCS#8 PEM file named by REDLANE_NODE_KEY_FILE, readable by its owner only. A
missing, unreadable, foreign or world-readable key stops start-up with the setting named.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from redlane.config import NODE_KEY_SETTING, ConfigError, node_key_path


@dataclass(frozen=True)
class NodeKey:
    private: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> str:
        """The raw 32-byte public key, base64."""
        return encode_public_key(self.private.public_key())

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of `data`, base64."""
        return base64.b64encode(self.private.sign(data)).decode()


def encode_public_key(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def fingerprint(public_key: str) -> str:
    """A short SHA-256 fingerprint of a base64 public key, for people to compare."""
    digest = hashlib.sha256(base64.b64decode(public_key)).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def verify_signature(public_key: str, signature: str, data: bytes) -> bool:
    """True when `signature` (base64) is the Ed25519 signature of `data` by `public_key`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def generate_node_key(path: str | Path) -> NodeKey:
    """Write a new Ed25519 key (PKCS#8 PEM, mode 0600); an existing file is never replaced."""
    target = Path(path)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret_file(target, pem, "a node key")
    return NodeKey(private, target)


def write_secret_file(target: Path, secret: bytes, what: str) -> None:
    """Create `target` readable by its owner only (0600) holding `secret`; an existing file is
    never replaced (ConfigError naming `what`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{target} exists; {what} is never overwritten") from None
    with os.fdopen(fd, "wb") as out:
        out.write(secret)


def load_node_key(path: str | Path | None = None) -> NodeKey:
    """The node key from `path` (default: REDLANE_NODE_KEY_FILE); a ConfigError names the
    setting when it is missing, unreadable, not an Ed25519 private key, or open to others."""
    where = Path(node_key_path(None if path is None else str(path)))
    setting = f"{NODE_KEY_SETTING}={str(where)!r}"
    try:
        mode = where.stat().st_mode
        data = where.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read the key: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{setting}: the key is open to other users (mode {stat.S_IMODE(mode):04o}); "
            "run chmod 600 on it"
        )
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{setting}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"{setting}: the key is not an Ed25519 key")
    return NodeKey(private, where)
