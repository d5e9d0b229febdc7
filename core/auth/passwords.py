"""Password hashing with Argon2id (memory-hard), via argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import UserInputError

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2-cffi's RFC 9106 low-memory profile: 64 MiB, t=3
# Verified against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("beacon-timing-equaliser")


def check_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_LENGTH:
        raise UserInputError(f"Choose a password of at least {MIN_LENGTH} characters.")
    if password.strip() != password or not password.strip():
        raise UserInputError("A password may not start or end with spaces.")


def hash_password(password: str) -> str:
    """Argon2id hash of a password that passed `check_strength`."""
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; takes the same time for unknown accounts."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
