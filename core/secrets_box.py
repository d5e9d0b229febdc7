"""Credentials Beacon stores, encrypted at rest with Fernet under BEACON_SECRET_KEY.

Several keys separated by commas rotate: the first encrypts, every key decrypts
(cryptography's MultiFernet), so an admin adds a new key in front, re-saves the
credentials, then drops the old key. Without a key, storing a credential is refused
with a message that says how to set one; nothing is ever stored in the clear.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.config import Secret, Settings
from core.errors import IntegrationError, UserInputError

NO_KEY = (
    "Storing credentials needs an encryption key: set BEACON_SECRET_KEY (or secret_key "
    "under [beacon] in secrets.toml) to the output of `python -m core fleet secret-key`, "
    "then restart Beacon."
)


def new_key() -> str:
    """A fresh random Fernet key (URL-safe base64 of 32 bytes)."""
    return Fernet.generate_key().decode("ascii")


def mask(value: str, keep: int = 4) -> str:
    """A credential for display: its last `keep` characters only ('••••WXYZ')."""
    value = value or ""
    if len(value) <= keep * 2:
        return "•" * 8
    return "•" * 8 + value[-keep:]


class SecretBox:
    """Encrypts and decrypts short secrets; `available` is False when no key is set."""

    __slots__ = ("_fernet",)

    def __init__(self, key: Secret | str | None) -> None:
        raw = key.reveal() if isinstance(key, Secret) else (key or "")
        keys = [k.strip() for k in raw.split(",") if k.strip()]
        self._fernet: MultiFernet | None = None
        if not keys:
            return
        try:
            self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        except (ValueError, UnicodeEncodeError):
            raise UserInputError(
                "BEACON_SECRET_KEY is not a Fernet key (32 bytes, URL-safe base64): "
                "generate one with `python -m core fleet secret-key`."
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for this installation's BEACON_SECRET_KEY."""
        return cls(settings.secret_key)

    @property
    def available(self) -> bool:
        """Whether a key is configured (so credentials may be stored)."""
        return self._fernet is not None

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of `plaintext` as text; refused without a key."""
        if self._fernet is None:
            raise UserInputError(NO_KEY)
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of a stored ciphertext."""
        if self._fernet is None:
            raise IntegrationError(
                "A stored credential cannot be read: BEACON_SECRET_KEY is not set on this host."
            )
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise IntegrationError(
                "A stored credential cannot be decrypted with BEACON_SECRET_KEY: the key "
                "changed. Put the old key after the new one (comma-separated) or enter the "
                "credential again."
            ) from None
