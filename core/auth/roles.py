"""Roles (viewer < analyst < admin), the acting user, and the one role check."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from core.errors import PermissionDenied, UserInputError


class Role(IntEnum):
    """Ordered roles: each can do everything the ones below it can."""

    VIEWER = 1  # reads dashboards
    ANALYST = 2  # also uploads, edits and runs
    ADMIN = 3  # also manages users, settings, cloud targets and devices

    @classmethod
    def parse(cls, name: str) -> Role:
        """Role from its lower-case name."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise UserInputError(
                f"Unknown role {name!r}: choose viewer, analyst or admin."
            ) from None

    @property
    def label(self) -> str:
        """Lower-case name as stored and shown."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class User:
    """The acting user every core service receives."""

    id: int
    email: str
    role: Role
    name: str = ""
    active: bool = True

    @classmethod
    def system(cls) -> User:
        """The operator at the command line (shell access already means full control)."""
        return cls(id=0, email="system", role=Role.ADMIN, name="Command line")

    def can(self, role: Role) -> bool:
        """Whether this user holds at least `role`."""
        return self.active and self.role >= role


def require(user: User, role: Role, action: str) -> None:
    """Raise PermissionDenied unless `user` holds at least `role` for `action`."""
    if not user.can(role):
        raise PermissionDenied(
            f"{action} needs the {role.label} role; {user.email} is {user.role.label}."
        )
