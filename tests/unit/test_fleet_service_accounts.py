"""Service accounts: hashed API keys, scopes, JWTs signed and checked with joserfc."""

from __future__ import annotations

import pytest
from joserfc import jwt as reference_jwt
from joserfc.jwk import OctKey
from sqlalchemy import select

from core.auth.roles import Role, User
from core.config import Secret
from core.errors import PermissionDenied, UserInputError
from core.fleet import service_accounts as accounts
from core.fleet.models import ServiceAccountRow
from core.fleet.tokens import TokenHasher
from core.secrets_box import new_key

SYSTEM = User.system()


@pytest.fixture
def hasher(services) -> TokenHasher:
    return TokenHasher.for_store(services.store)


def test_keys_are_stored_hashed_and_authenticate_with_their_scopes(services, hasher):
    account, key = accounts.create_key(
        services.store, hasher, SYSTEM, "ci", ["devices:write", "devices:read", "devices:read"]
    )
    assert account.scopes == ("devices:read", "devices:write") and key.startswith("bcn_key_")
    assert account.key_hint == f"bcn_key_…{key[-4:]}"
    with services.store.session() as s:
        row = s.scalar(select(ServiceAccountRow))
        assert row.key_hash == hasher.digest(key) and key not in str(vars(row))
    principal = accounts.authenticate_key(services.store, hasher, key)
    assert principal.scopes == {"devices:read", "devices:write"}
    assert principal.as_user().email == "key:ci" and principal.as_user().role == Role.ADMIN
    assert accounts.list_keys(services.store, SYSTEM)[0].last_used_at is not None
    accounts.revoke_key(services.store, SYSTEM, "ci")
    with pytest.raises(PermissionDenied, match="revoked"):
        accounts.authenticate_key(services.store, hasher, key)


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("ci", ["devices:admin"], "Unknown scope"),
        ("ci", [], "at least one scope"),
        ("bad name", ["devices:read"], "A key name has"),
    ],
)
def test_bad_keys_are_refused(services, hasher, name, scopes, message):
    with pytest.raises(UserInputError, match=message):
        accounts.create_key(services.store, hasher, SYSTEM, name, scopes)


def test_jwts_round_trip_narrow_expire_and_resist_tampering(services, hasher):
    secret = Secret(new_key())
    accounts.create_key(services.store, hasher, SYSTEM, "ci", ["devices:read", "devices:write"])
    principal = accounts.Principal("ci", frozenset({"devices:read", "devices:write"}))
    token, ttl = accounts.issue_jwt(principal, secret, scopes=["devices:read"], now=1_800_000_000)
    assert ttl == 900
    claims = reference_jwt.decode(token, accounts._signing_key(secret)).claims
    assert claims == {
        "iss": "beacon",
        "sub": "ci",
        "iat": 1_800_000_000,
        "exp": 1_800_000_900,
        "scope": "devices:read",
    }
    verified = accounts.verify_jwt(services.store, token, secret, now=1_800_000_100)
    assert verified.scopes == {"devices:read"}
    with pytest.raises(PermissionDenied, match="expired"):
        accounts.verify_jwt(services.store, token, secret, now=1_800_001_000)
    with pytest.raises(PermissionDenied, match="bad_signature"):
        accounts.verify_jwt(services.store, token, Secret(new_key()), now=1_800_000_100)
    forged = reference_jwt.encode(
        {"alg": "HS256"}, claims | {"sub": "ci"}, OctKey.import_key(b"k" * 32)
    )
    with pytest.raises(PermissionDenied):
        accounts.verify_jwt(services.store, forged, secret, now=1_800_000_100)
    with pytest.raises(PermissionDenied, match="may not grant devices:write"):
        accounts.issue_jwt(
            accounts.Principal("ci", frozenset({"devices:read"})), secret, scopes=["devices:write"]
        )


def test_a_revoked_account_invalidates_its_jwts(services, hasher):
    secret = Secret(new_key())
    accounts.create_key(services.store, hasher, SYSTEM, "ci", ["devices:read"])
    token, _ = accounts.issue_jwt(accounts.Principal("ci", frozenset({"devices:read"})), secret)
    assert accounts.verify_jwt(services.store, token, secret).name == "ci"
    accounts.revoke_key(services.store, SYSTEM, "ci")
    with pytest.raises(PermissionDenied, match="revoked"):
        accounts.verify_jwt(services.store, token, secret)


def test_jwts_need_the_secret_key():
    with pytest.raises(UserInputError, match="JWTs need BEACON_SECRET_KEY"):
        accounts.issue_jwt(accounts.Principal("ci", frozenset({"devices:read"})), None)


def test_only_admins_manage_keys(services, hasher, make_user):
    viewer = make_user(Role.VIEWER)
    with pytest.raises(PermissionDenied, match="Managing API keys needs the admin role"):
        accounts.create_key(services.store, hasher, viewer, "x", ["devices:read"])
    with pytest.raises(PermissionDenied):
        accounts.list_keys(services.store, viewer)
