"""User accounts: first admin, sign-in with lock-out, and admin management."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.auth.passwords import check_strength, hash_password, verify_password
from core.auth.roles import Role, User, require
from core.errors import NotFound, UserInputError
from core.store import Store
from core.store.models import UserRow, as_utc, utcnow

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `attempts` failed sign-ins in a row, refuse sign-in for `minutes`."""

    attempts: int = 5
    minutes: int = 15


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the admin page lists it."""

    user: User
    auth_source: str
    locked_until: datetime | None
    failed_attempts: int
    created_at: datetime
    last_login_at: datetime | None
    must_change_password: bool


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed email; raises on anything that is not an address."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise UserInputError(f"{email or 'An empty value'!r} is not an email address.")
    return email


def _to_user(row: UserRow) -> User:
    return User(
        id=row.id, email=row.email, role=Role.parse(row.role), name=row.name, active=row.active
    )


def _get(session: Session, user_id: int) -> UserRow:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"No user with id {user_id}.")
    return row


def needs_first_admin(store: Store) -> bool:
    """True on a fresh install: no account exists yet."""
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(UserRow)) == 0


def create_first_admin(store: Store, email: str, password: str, name: str = "") -> User:
    """Create the first account, an admin; refused once any account exists."""
    email = normalise_email(email)
    password_hash = hash_password(password)
    with store.session() as s:
        if s.scalar(select(func.count()).select_from(UserRow)):
            raise UserInputError("An admin already exists: sign in instead.")
        row = UserRow(email=email, name=name.strip(), role="admin", password_hash=password_hash)
        s.add(row)
        s.flush()
        audit.record(s, email, "user.create_first_admin", email)
        return _to_user(row)


def authenticate(
    store: Store, email: str, password: str, policy: LockoutPolicy, now: datetime | None = None
) -> User:
    """Check a local sign-in; counts failures and locks the account after too many."""
    now = now or utcnow()
    generic = UserInputError("Wrong email or password.")
    try:
        email = normalise_email(email)
    except UserInputError:
        verify_password(None, password)
        raise generic from None
    with store.session() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == email))
        locked_until = as_utc(row.locked_until) if row else None
        # Verify before the lock check so a locked account answers in the same time.
        ok = verify_password(row.password_hash if row else None, password)
        if row is not None and locked_until and locked_until > now:
            minutes = max(1, round((locked_until - now).total_seconds() / 60))
            raise UserInputError(
                f"Too many failed sign-ins: this account is locked for {minutes} more minute(s)."
            )
        if row is None:
            raise generic
        if not ok:
            row.failed_attempts += 1
            if row.failed_attempts >= policy.attempts:
                row.locked_until = now + timedelta(minutes=policy.minutes)
                row.failed_attempts = 0
                audit.record(s, email, "user.locked", email, minutes=policy.minutes)
                log.warning("account %s locked after repeated failed sign-ins", email)
            # The failure count must persist although we raise: commit it first.
            s.commit()
            raise generic
        if not row.active:
            raise UserInputError("This account is disabled: ask an admin to enable it.")
        row.failed_attempts = 0
        row.locked_until = None
        row.last_login_at = now
        return _to_user(row)


def get_user(store: Store, user_id: int) -> User:
    """The current state of an account (role and active flag may have changed)."""
    with store.session() as s:
        return _to_user(_get(s, user_id))


def must_change_password(store: Store, user_id: int) -> bool:
    """Whether the account still uses a temporary password."""
    with store.session() as s:
        return _get(s, user_id).must_change_password


def list_accounts(store: Store, actor: User) -> list[Account]:
    """Every account, for admins."""
    require(actor, Role.ADMIN, "Listing users")
    with store.session() as s:
        rows = s.scalars(select(UserRow).order_by(UserRow.email))
        return [
            Account(
                user=_to_user(r),
                auth_source=r.auth_source,
                locked_until=as_utc(r.locked_until),
                failed_attempts=r.failed_attempts,
                created_at=as_utc(r.created_at),
                last_login_at=as_utc(r.last_login_at),
                must_change_password=r.must_change_password,
            )
            for r in rows
        ]


def create_user(
    store: Store, actor: User, email: str, role: Role, name: str = "", password: str | None = None
) -> tuple[User, str | None]:
    """Create a local account; without a password, return a one-time temporary password."""
    require(actor, Role.ADMIN, "Creating users")
    email = normalise_email(email)
    temporary = None
    if password is None:
        temporary = secrets.token_urlsafe(12)
    password_hash = hash_password(temporary if password is None else password)
    try:
        with store.session() as s:
            row = UserRow(
                email=email,
                name=name.strip(),
                role=role.label,
                password_hash=password_hash,
                must_change_password=temporary is not None,
            )
            s.add(row)
            s.flush()
            audit.record(s, actor, "user.create", email, role=role.label)
            return _to_user(row), temporary
    except IntegrityError:
        raise UserInputError(f"An account for {email} already exists.") from None


def _active_admins(session: Session) -> int:
    query = select(func.count()).select_from(UserRow)
    return session.scalar(query.where(UserRow.role == "admin", UserRow.active.is_(True)))


def set_role(store: Store, actor: User, user_id: int, role: Role) -> User:
    """Change an account's role; the last active admin cannot be demoted."""
    require(actor, Role.ADMIN, "Changing roles")
    with store.session() as s:
        row = _get(s, user_id)
        if row.role == "admin" and role != Role.ADMIN and row.active and _active_admins(s) <= 1:
            raise UserInputError("Beacon needs at least one active admin: promote another first.")
        before = row.role
        row.role = role.label
        audit.record(s, actor, "user.set_role", row.email, before=before, after=role.label)
        return _to_user(row)


def set_active(store: Store, actor: User, user_id: int, active: bool) -> User:
    """Enable or disable an account; admins cannot disable themselves or the last admin."""
    require(actor, Role.ADMIN, "Enabling or disabling users")
    with store.session() as s:
        row = _get(s, user_id)
        if not active and row.id == actor.id:
            raise UserInputError("You cannot disable your own account.")
        if not active and row.role == "admin" and row.active and _active_admins(s) <= 1:
            raise UserInputError("Beacon needs at least one active admin.")
        row.active = active
        if active:
            row.locked_until, row.failed_attempts = None, 0
        audit.record(s, actor, "user.enable" if active else "user.disable", row.email)
        return _to_user(row)


def reset_password(store: Store, actor: User, user_id: int) -> str:
    """Give an account a new one-time temporary password and return it."""
    require(actor, Role.ADMIN, "Resetting passwords")
    temporary = secrets.token_urlsafe(12)
    with store.session() as s:
        row = _get(s, user_id)
        if row.auth_source != "local":
            raise UserInputError(
                f"{row.email} signs in through single sign-on; it has no password."
            )
        row.password_hash = hash_password(temporary)
        row.must_change_password = True
        row.locked_until, row.failed_attempts = None, 0
        audit.record(s, actor, "user.reset_password", row.email)
    return temporary


def change_password(store: Store, user: User, current: str, new: str) -> None:
    """Let a signed-in user replace their password (e.g. a temporary one)."""
    check_strength(new)
    if new == current:
        raise UserInputError("Choose a new password different from the current one.")
    with store.session() as s:
        row = _get(s, user.id)
        if not verify_password(row.password_hash, current):
            raise UserInputError("The current password is wrong.")
        row.password_hash = hash_password(new)
        row.must_change_password = False
        audit.record(s, user, "user.change_password", row.email)


def sign_in_external(store: Store, email: str, name: str, role: Role | None) -> User | None:
    """Find or create the account of a single-sign-on user; None when no role applies."""
    email = normalise_email(email)
    with store.session() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == email))
        if row is None:
            if role is None:
                return None
            row = UserRow(email=email, name=name, role=role.label, auth_source="oidc")
            s.add(row)
            s.flush()
            audit.record(s, email, "user.create_sso", email, role=role.label)
        if not row.active:
            raise UserInputError("This account is disabled: ask an admin to enable it.")
        row.last_login_at = utcnow()
        return _to_user(row)
