"""Machine secrets: enrolment tokens, device credentials and API keys, and how they are stored.

Each is 256 random bits, so a slow password hash would add nothing but latency on
every request (the API checks a credential per heartbeat). They are stored as
HMAC-SHA256 under an installation key: the store holds no usable secret, and a lookup
is one indexed equality match. The installation key lives in the store's app_meta so
the app, the worker and the API (on any host) agree on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.store import Store
from core.store.models import MetaRow

ENROLMENT, DEVICE, API_KEY = "bcn_enrol_", "bcn_dev_", "bcn_key_"
META_KEY = "fleet.token_key"


def new_token(prefix: str) -> str:
    """A fresh secret: a readable prefix (what it is) and 43 URL-safe characters."""
    return prefix + secrets.token_urlsafe(32)


def hint(token: str) -> str:
    """What may be shown of a token: its prefix and last four characters."""
    prefix = next((p for p in (ENROLMENT, DEVICE, API_KEY) if token.startswith(p)), "")
    return f"{prefix}…{token[-4:]}"


class TokenHasher:
    """Keyed hashes of machine secrets (hex SHA-256 HMAC)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the token key needs 32 bytes or more")
        self._key = key

    def digest(self, token: str) -> str:
        """The stored form of `token`."""
        return hmac.new(self._key, token.encode("utf-8"), hashlib.sha256).hexdigest()

    @classmethod
    def for_store(cls, store: Store) -> TokenHasher:
        """The hasher of this installation, creating its key on first use."""
        with store.session() as s:
            value = s.scalar(select(MetaRow.value).where(MetaRow.key == META_KEY))
        if value is None:
            fresh = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            try:
                with store.session() as s:
                    s.add(MetaRow(key=META_KEY, value=fresh))
                value = fresh
            except IntegrityError:  # another process created it first: use theirs
                with store.session() as s:
                    value = s.scalar(select(MetaRow.value).where(MetaRow.key == META_KEY))
        return cls(base64.b64decode(value))
