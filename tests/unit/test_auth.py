"""Roles, passwords, accounts, lock-out, the audit trail of account changes, and OIDC roles."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from core import audit
from core.auth import passwords, users
from core.auth.oidc import role_for_claims
from core.auth.passwords import MIN_LENGTH, check_strength, hash_password, verify_password
from core.auth.roles import Role, User, require
from core.auth.users import LockoutPolicy
from core.config import OidcRoleMapping, load_settings
from core.errors import NotFound, PermissionDenied, UserInputError
from core.services import Services
from core.store.models import AuditRow, UserRow
from tests.conftest import PASSWORD

SYSTEM = User.system()
POLICY = LockoutPolicy(attempts=3, minutes=15)
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
GENERIC = "Wrong email or password."
NEW_PASSWORD = "a brand new passphrase"
PRODUCTION_HASHER = passwords._hasher


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at minimal cost: the same code paths, ~100x faster than the 64 MiB profile.

    test_hashes_are_salted_argon2id_and_verify checks the production parameters.
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)


def account(services: Services, user_id: int) -> users.Account:
    """The admin-page view of one account (failure counter, lock, flags)."""
    return next(a for a in users.list_accounts(services.store, SYSTEM) if a.user.id == user_id)


def snapshot(services: Services) -> tuple[list[tuple[Any, ...]], int]:
    """Every column of every user row, and the number of audit events."""
    columns = [c.key for c in UserRow.__table__.columns]
    with services.store.session() as s:
        rows = s.scalars(select(UserRow).order_by(UserRow.id))
        accounts = [tuple(getattr(r, c) for c in columns) for r in rows]
        events = s.scalar(select(func.count()).select_from(AuditRow))
    return accounts, events


def triples(services: Services) -> list[tuple[str, str, str]]:
    """(actor, action, target) of every audit event, oldest first."""
    events = audit.list_events(services.store, SYSTEM)
    return [(e.actor, e.action, e.target) for e in reversed(events)]


# --- roles ------------------------------------------------------------------------------


def test_roles_are_ordered_and_parsed():
    assert Role.VIEWER < Role.ANALYST < Role.ADMIN
    assert max(Role.VIEWER, Role.ADMIN, Role.ANALYST) is Role.ADMIN
    assert Role.parse(" Analyst ") is Role.ANALYST
    assert [r.label for r in Role] == ["viewer", "analyst", "admin"]
    with pytest.raises(UserInputError, match="Unknown role 'owner': choose viewer, analyst"):
        Role.parse("owner")


def test_require_checks_the_role_and_the_active_flag():
    analyst = User(id=7, email="ana@example.com", role=Role.ANALYST)
    require(analyst, Role.VIEWER, "Reading")
    require(analyst, Role.ANALYST, "Ingesting")
    with pytest.raises(PermissionDenied) as denied:
        require(analyst, Role.ADMIN, "Creating users")
    assert str(denied.value) == "Creating users needs the admin role; ana@example.com is analyst."
    disabled_admin = User(id=8, email="old@example.com", role=Role.ADMIN, active=False)
    with pytest.raises(PermissionDenied):
        require(disabled_admin, Role.VIEWER, "Reading")
    assert SYSTEM.can(Role.ADMIN)


ADMIN_SERVICES: dict[str, Callable[[Services, User, User], object]] = {
    "create_user": lambda svc, actor, target: users.create_user(
        svc.store, actor, "new@example.com", Role.ADMIN, password=PASSWORD
    ),
    "set_role": lambda svc, actor, target: users.set_role(svc.store, actor, target.id, Role.ADMIN),
    "set_active": lambda svc, actor, target: users.set_active(svc.store, actor, target.id, False),
    "reset_password": lambda svc, actor, target: users.reset_password(svc.store, actor, target.id),
    "list_accounts": lambda svc, actor, target: users.list_accounts(svc.store, actor),
    "list_events": lambda svc, actor, target: audit.list_events(svc.store, actor),
}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
@pytest.mark.parametrize("service", ADMIN_SERVICES)
def test_non_admins_cannot_call_admin_services(services, make_user, role, service):
    actor = make_user(role)
    target = make_user(Role.VIEWER)
    before = snapshot(services)
    with pytest.raises(PermissionDenied, match=f"needs the admin role; {actor.email} is"):
        ADMIN_SERVICES[service](services, actor, target)
    assert snapshot(services) == before


# --- first admin and passwords ----------------------------------------------------------


def test_first_admin_is_created_once(services):
    store = services.store
    assert users.needs_first_admin(store)
    admin = users.create_first_admin(store, "  Root@Example.COM ", PASSWORD, name=" Ada ")
    assert (admin.email, admin.role, admin.name, admin.active) == (
        "root@example.com",
        Role.ADMIN,
        "Ada",
        True,
    )
    assert not users.needs_first_admin(store)
    with pytest.raises(UserInputError, match="An admin already exists"):
        users.create_first_admin(store, "other@example.com", PASSWORD)
    assert [a.user.email for a in users.list_accounts(store, SYSTEM)] == ["root@example.com"]
    assert triples(services) == [
        ("root@example.com", "user.create_first_admin", "root@example.com")
    ]


def test_first_admin_with_a_weak_password_creates_nothing(services):
    with pytest.raises(UserInputError, match=f"at least {MIN_LENGTH} characters"):
        users.create_first_admin(services.store, "root@example.com", "short")
    with pytest.raises(UserInputError, match="is not an email address"):
        users.create_first_admin(services.store, "root.example.com", PASSWORD)
    assert users.needs_first_admin(services.store)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 10 characters"),
        ("nine char", "at least 10 characters"),
        (" leading space pw", "may not start or end with spaces"),
        ("trailing space pw ", "may not start or end with spaces"),
        (" " * 12, "may not start or end with spaces"),
    ],
)
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(UserInputError, match=message):
        check_strength(password)


@pytest.mark.parametrize("password", ["ten chars!", "inner  spaces are fine", "é" * 10])
def test_strong_enough_passwords_pass(password):
    check_strength(password)


def test_hashes_are_salted_argon2id_and_verify(services, make_user, monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", PRODUCTION_HASHER)
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    # RFC 9106 low-memory profile: Argon2id, 64 MiB, 3 passes, 4 lanes.
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert second.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
    with pytest.raises(UserInputError):
        hash_password("short")

    user = make_user(Role.ANALYST)
    with services.store.session() as s:
        stored = [r.password_hash for r in s.scalars(select(UserRow))]
    assert len(stored) == 2  # root and the analyst
    for value in stored:
        assert value.startswith("$argon2id$")
        assert PASSWORD not in value
    assert users.authenticate(services.store, user.email, PASSWORD, POLICY).id == user.id


# --- authenticate -----------------------------------------------------------------------


def test_authenticate_returns_the_user_and_records_the_sign_in(services, make_user):
    user = make_user(Role.ANALYST)
    assert account(services, user.id).last_login_at is None
    signed_in = users.authenticate(services.store, user.email.upper(), PASSWORD, POLICY, now=T0)
    assert signed_in == user
    assert account(services, user.id).last_login_at == T0


def test_wrong_password_and_unknown_user_get_the_same_message(services, make_user):
    user = make_user(Role.VIEWER)
    messages = []
    for email, password in [
        (user.email, "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ]:
        with pytest.raises(UserInputError) as refused:
            users.authenticate(services.store, email, password, POLICY)
        messages.append(str(refused.value))
    assert messages == [GENERIC] * 3
    assert account(services, user.id).failed_attempts == 1


def test_disabled_account_cannot_sign_in(services, make_user):
    user = make_user(Role.ANALYST)
    users.set_active(services.store, SYSTEM, user.id, False)
    with pytest.raises(UserInputError, match="This account is disabled"):
        users.authenticate(services.store, user.email, PASSWORD, POLICY)
    with pytest.raises(UserInputError, match=GENERIC):  # no hint without the password
        users.authenticate(services.store, user.email, "wrong password!", POLICY)
    assert users.get_user(services.store, user.id).active is False


def test_lockout_after_repeated_failures_and_unlock_after_the_window(services, make_user):
    store, user = services.store, make_user(Role.ANALYST)
    for attempt in (1, 2):
        with pytest.raises(UserInputError, match=GENERIC):
            users.authenticate(store, user.email, "wrong password!", POLICY, now=T0)
        assert account(services, user.id).failed_attempts == attempt
        assert account(services, user.id).locked_until is None
    with pytest.raises(UserInputError, match=GENERIC):
        users.authenticate(store, user.email, "wrong password!", POLICY, now=T0)
    assert account(services, user.id).locked_until == T0 + timedelta(minutes=15)

    # Locked: even the right password is refused until the window has passed.
    for elapsed, left in [(timedelta(minutes=1), 14), (timedelta(minutes=14, seconds=50), 1)]:
        with pytest.raises(UserInputError) as locked:
            users.authenticate(store, user.email, PASSWORD, POLICY, now=T0 + elapsed)
        assert str(locked.value) == (
            f"Too many failed sign-ins: this account is locked for {left} more minute(s)."
        )
    later = T0 + timedelta(minutes=15, seconds=1)
    assert users.authenticate(store, user.email, PASSWORD, POLICY, now=later).id == user.id
    state = account(services, user.id)
    assert (state.locked_until, state.failed_attempts, state.last_login_at) == (None, 0, later)
    locks = audit.list_events(store, SYSTEM, action="user.locked")
    assert [(e.actor, e.target, e.detail) for e in locks] == [
        (user.email, user.email, {"minutes": 15})
    ]


def test_success_resets_the_failure_counter(services, make_user):
    store, user = services.store, make_user(Role.ANALYST)
    for _ in range(2):
        with pytest.raises(UserInputError):
            users.authenticate(store, user.email, "wrong password!", POLICY, now=T0)
    users.authenticate(store, user.email, PASSWORD, POLICY, now=T0)
    assert account(services, user.id).failed_attempts == 0
    for _ in range(2):  # two more failures: 2 < 3, so not locked
        with pytest.raises(UserInputError):
            users.authenticate(store, user.email, "wrong password!", POLICY, now=T0)
    assert account(services, user.id).locked_until is None
    assert users.authenticate(store, user.email, PASSWORD, POLICY, now=T0).id == user.id


def test_enabling_or_resetting_clears_a_lock(services, make_user):
    store, user = services.store, make_user(Role.ANALYST)
    one_try = LockoutPolicy(attempts=1, minutes=60)
    with pytest.raises(UserInputError):
        users.authenticate(store, user.email, "wrong password!", one_try, now=T0)
    assert account(services, user.id).locked_until is not None
    users.set_active(store, SYSTEM, user.id, True)
    assert account(services, user.id).locked_until is None
    with pytest.raises(UserInputError):
        users.authenticate(store, user.email, "wrong password!", one_try, now=T0)
    temporary = users.reset_password(store, SYSTEM, user.id)
    assert account(services, user.id).locked_until is None
    assert users.authenticate(store, user.email, temporary, one_try, now=T0).id == user.id


# --- admin management -------------------------------------------------------------------


def test_last_active_admin_cannot_be_demoted_or_disabled(services, make_user):
    store = services.store
    make_user(Role.VIEWER)
    root = users.authenticate(store, "root@example.com", PASSWORD, POLICY)
    with pytest.raises(UserInputError, match="at least one active admin"):
        users.set_role(store, root, root.id, Role.ANALYST)
    with pytest.raises(UserInputError, match="at least one active admin"):
        users.set_active(store, SYSTEM, root.id, False)  # someone else (the CLI) tries
    assert users.get_user(store, root.id) == root

    # A disabled second admin does not count: root is still the last *active* one.
    second = make_user(Role.ADMIN)
    users.set_active(store, root, second.id, False)
    with pytest.raises(UserInputError, match="at least one active admin"):
        users.set_role(store, root, root.id, Role.VIEWER)

    # With another active admin, the first may step down.
    users.set_active(store, root, second.id, True)
    assert users.set_role(store, root, root.id, Role.ANALYST).role is Role.ANALYST
    assert users.get_user(store, second.id).role is Role.ADMIN


def test_an_admin_cannot_disable_themselves(services, make_user):
    second = make_user(Role.ADMIN)  # two admins, so only the self-rule applies
    with pytest.raises(UserInputError, match="You cannot disable your own account"):
        users.set_active(services.store, second, second.id, False)
    assert users.get_user(services.store, second.id).active


def test_unknown_account_is_not_found(services):
    with pytest.raises(NotFound, match="No user with id 999"):
        users.set_role(services.store, SYSTEM, 999, Role.VIEWER)
    with pytest.raises(NotFound):
        users.reset_password(services.store, SYSTEM, 999)


def test_create_user_without_password_gives_a_temporary_one(services):
    store = services.store
    user, temporary = users.create_user(store, SYSTEM, "New@Example.com", Role.ANALYST, " Bo ")
    assert (user.email, user.role, user.name) == ("new@example.com", Role.ANALYST, "Bo")
    assert temporary is not None and len(temporary) >= MIN_LENGTH
    assert users.must_change_password(store, user.id)
    assert users.authenticate(store, user.email, temporary, POLICY).id == user.id

    users.change_password(store, user, temporary, NEW_PASSWORD)
    assert not users.must_change_password(store, user.id)
    assert users.authenticate(store, user.email, NEW_PASSWORD, POLICY).id == user.id
    with pytest.raises(UserInputError, match=GENERIC):
        users.authenticate(store, user.email, temporary, POLICY)


def test_create_user_with_a_password_needs_no_change(services):
    user, temporary = users.create_user(
        services.store, SYSTEM, "set@example.com", Role.VIEWER, password=PASSWORD
    )
    assert temporary is None
    assert not users.must_change_password(services.store, user.id)
    with pytest.raises(UserInputError, match="at least 10 characters"):
        users.create_user(services.store, SYSTEM, "weak@example.com", Role.VIEWER, password="x")


def test_reset_password_sets_a_temporary_password(services, make_user):
    store, user = services.store, make_user(Role.ANALYST)
    assert not users.must_change_password(store, user.id)
    temporary = users.reset_password(store, SYSTEM, user.id)
    assert len(temporary) >= MIN_LENGTH and temporary != PASSWORD
    assert users.must_change_password(store, user.id)
    with pytest.raises(UserInputError, match=GENERIC):
        users.authenticate(store, user.email, PASSWORD, POLICY)
    users.change_password(store, user, temporary, NEW_PASSWORD)
    assert not users.must_change_password(store, user.id)


def test_change_password_checks_current_new_and_strength(services, make_user):
    store, user = services.store, make_user(Role.VIEWER)
    with pytest.raises(UserInputError, match="The current password is wrong"):
        users.change_password(store, user, "not my password", NEW_PASSWORD)
    with pytest.raises(UserInputError, match="different from the current one"):
        users.change_password(store, user, PASSWORD, PASSWORD)
    with pytest.raises(UserInputError, match="at least 10 characters"):
        users.change_password(store, user, PASSWORD, "short")
    assert users.authenticate(store, user.email, PASSWORD, POLICY).id == user.id


def test_create_user_with_an_empty_password_is_refused(services):
    with pytest.raises(UserInputError, match="at least 10 characters"):
        users.create_user(services.store, SYSTEM, "empty@example.com", Role.VIEWER, password="")


def test_duplicate_email_is_refused_with_one_line(services, make_user):
    user = make_user(Role.ANALYST)
    with pytest.raises(UserInputError) as refused:
        users.create_user(services.store, SYSTEM, f" {user.email.upper()} ", Role.VIEWER)
    assert str(refused.value) == f"An account for {user.email} already exists."
    with pytest.raises(UserInputError, match=r"An account for root@example\.com already exists"):
        users.create_user(services.store, SYSTEM, "root@example.com", Role.ADMIN)
    emails = [a.user.email for a in users.list_accounts(services.store, SYSTEM)]
    assert sorted(emails) == emails and len(emails) == 2


def test_every_change_is_audited(services):
    store = services.store
    root = users.create_first_admin(store, "root@example.com", PASSWORD)
    user, temporary = users.create_user(store, root, "bo@example.com", Role.VIEWER)
    users.set_role(store, root, user.id, Role.ANALYST)
    users.set_active(store, root, user.id, False)
    users.set_active(store, root, user.id, True)
    temporary = users.reset_password(store, root, user.id)
    users.change_password(store, user, temporary, NEW_PASSWORD)
    users.sign_in_external(store, "sso@example.com", "Sso", Role.VIEWER)
    assert triples(services) == [
        ("root@example.com", "user.create_first_admin", "root@example.com"),
        ("root@example.com", "user.create", "bo@example.com"),
        ("root@example.com", "user.set_role", "bo@example.com"),
        ("root@example.com", "user.disable", "bo@example.com"),
        ("root@example.com", "user.enable", "bo@example.com"),
        ("root@example.com", "user.reset_password", "bo@example.com"),
        ("bo@example.com", "user.change_password", "bo@example.com"),
        ("sso@example.com", "user.create_sso", "sso@example.com"),
    ]
    details = {e.action: e.detail for e in audit.list_events(store, root)}
    assert details["user.create"] == {"role": "viewer"}
    assert details["user.set_role"] == {"before": "viewer", "after": "analyst"}
    assert details["user.create_sso"] == {"role": "viewer"}
    assert [e.action for e in audit.list_events(store, root, action="user.enable")] == [
        "user.enable"
    ]
    assert len(audit.list_events(store, root, limit=3)) == 3


def test_refused_changes_are_not_audited(services, make_user):
    root = make_user(Role.ADMIN, email="root@example.com")
    before = triples(services)
    with pytest.raises(UserInputError):
        users.set_role(services.store, root, root.id, Role.VIEWER)
    with pytest.raises(UserInputError):
        users.create_user(services.store, root, "root@example.com", Role.VIEWER)
    assert triples(services) == before


def test_passwords_never_reach_the_audit_log_or_the_logs(services, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # SQL and its parameters too
    store = services.store
    wrong = "Wrong-Guess-123"
    root = users.create_first_admin(store, "root@example.com", PASSWORD)
    user, temporary = users.create_user(store, root, "bo@example.com", Role.VIEWER)
    with pytest.raises(UserInputError):
        users.create_user(store, root, "weak@example.com", Role.VIEWER, password="weak-pw")
    for _ in range(POLICY.attempts):
        with pytest.raises(UserInputError):
            users.authenticate(store, user.email, wrong, POLICY)
    reset = users.reset_password(store, root, user.id)
    users.change_password(store, user, reset, NEW_PASSWORD)
    users.authenticate(store, root.email, PASSWORD, POLICY)

    secrets = [PASSWORD, temporary, reset, NEW_PASSWORD, wrong, "weak-pw"]
    events = audit.list_events(store, root)
    assert [e.action for e in events] == [
        "user.change_password",
        "user.reset_password",
        "user.locked",
        "user.create",
        "user.create_first_admin",
    ]
    recorded = repr(events) + repr(audit.events_frame(events).to_dict())
    logged = caplog.text + repr([r.args for r in caplog.records])
    assert "account bo@example.com locked" in logged  # the capture works
    assert "INSERT INTO users" in logged
    for secret in secrets:
        assert secret not in recorded
        assert secret not in logged


# --- OIDC -------------------------------------------------------------------------------

MAPPING = OidcRoleMapping(
    email_roles={"boss@corp.com": "admin", "intern@corp.com": "viewer"},
    domain_roles={"corp.com": "viewer", "partner.org": "analyst"},
    group_roles={"analysts": "analyst", "beacon-admins": "admin"},
)


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"email": "someone@corp.com"}, Role.VIEWER),  # domain
        ({"email": "Boss@Corp.com", "email_verified": True}, Role.ADMIN),  # exact email
        ({"email": "someone@partner.org"}, Role.ANALYST),
        ({"email": "intern@corp.com", "groups": ["analysts"]}, Role.ANALYST),  # highest wins
        ({"email": "boss@corp.com", "groups": ["analysts"]}, Role.ADMIN),  # highest wins
        ({"email": "x@partner.org", "groups": ["Beacon-Admins", "other"]}, Role.ADMIN),
        ({"email": "x@elsewhere.net", "groups": "analysts"}, Role.ANALYST),  # string claim
        ({"email": "x@elsewhere.net", "groups": ["unknown"]}, None),  # no default
        ({"email": "x@elsewhere.net"}, None),
        ({"email": "boss@corp.com", "email_verified": False}, None),  # unverified
        ({"email": "", "groups": ["beacon-admins"]}, None),  # no email
        ({"groups": ["beacon-admins"]}, None),
    ],
)
def test_role_for_claims(claims, role):
    assert role_for_claims(claims, MAPPING) == role


def test_role_for_claims_default_role_and_custom_groups_claim():
    mapping = OidcRoleMapping(
        group_roles={"admins": "admin"}, groups_claim="roles", default_role="viewer"
    )
    assert role_for_claims({"email": "a@x.com"}, mapping) is Role.VIEWER
    assert role_for_claims({"email": "a@x.com", "roles": ["admins"]}, mapping) is Role.ADMIN
    assert role_for_claims({"email": "a@x.com", "groups": ["admins"]}, mapping) is Role.VIEWER
    unverified = {"email": "a@x.com", "email_verified": False}
    assert role_for_claims(unverified, mapping) is None  # the default never applies then


def test_role_mapping_from_secrets_is_case_insensitive():
    secrets = {
        "beacon": {
            "oidc": {
                "domain_roles": {"Corp.COM": "analyst"},
                "group_roles": {"Beacon-Admins": "admin"},
                "default_role": "none",
            }
        }
    }
    mapping = load_settings(env={}, secrets=secrets).oidc
    assert role_for_claims({"email": "A@corp.com"}, mapping) is Role.ANALYST
    assert role_for_claims({"email": "a@x.com", "groups": ["BEACON-ADMINS"]}, mapping) is (
        Role.ADMIN
    )
    assert role_for_claims({"email": "a@x.com"}, mapping) is None


def test_sign_in_external_creates_the_account_once(services):
    store = services.store
    first = users.sign_in_external(store, "Sso@Example.com", "Sam", Role.ANALYST)
    assert first is not None
    assert (first.email, first.role, first.name) == ("sso@example.com", Role.ANALYST, "Sam")
    again = users.sign_in_external(store, "sso@example.com", "Sam", Role.ANALYST)
    assert again == first
    accounts = users.list_accounts(store, SYSTEM)
    assert [(a.user.id, a.auth_source) for a in accounts] == [(first.id, "oidc")]
    assert accounts[0].last_login_at is not None
    assert [e.target for e in audit.list_events(store, SYSTEM, action="user.create_sso")] == [
        "sso@example.com"
    ]
    # An SSO account has no password: local sign-in and password resets are refused.
    with pytest.raises(UserInputError, match=GENERIC):
        users.authenticate(store, "sso@example.com", PASSWORD, POLICY)
    with pytest.raises(UserInputError, match="single sign-on"):
        users.reset_password(store, SYSTEM, first.id)


def test_sign_in_external_without_a_role_creates_nothing(services):
    assert users.sign_in_external(services.store, "nobody@example.com", "No", None) is None
    assert users.needs_first_admin(services.store)
    assert triples(services) == []


def test_disabled_external_account_is_refused(services):
    user = users.sign_in_external(services.store, "sso@example.com", "Sam", Role.VIEWER)
    users.set_active(services.store, SYSTEM, user.id, False)
    with pytest.raises(UserInputError, match="disabled"):
        users.sign_in_external(services.store, "sso@example.com", "Sam", Role.VIEWER)
