"""Password hashing with argon2id (argon2-cffi), in the PHC string form that carries its
parameters and salt; a hash made with weaker parameters is upgraded at the next login."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

# OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane): ~40 ms per hash on one core.
# A hash made with other parameters is upgraded at the user's next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)


class PasswordError(ValueError):
    """A password is refused; the message says why."""


def check_password(password: str, username: str = "") -> None:
    """Refuse passwords that are too short, too long, or the account's name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(
            f"the password has {len(password)} characters; at least {MIN_PASSWORD_LENGTH} "
            "are needed"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    if username and username.casefold() in password.casefold():
        raise PasswordError("the password must not contain the user name")


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (a fresh random salt each time)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False on a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
