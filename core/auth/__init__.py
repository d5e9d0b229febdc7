"""Sign-in, roles and account management."""

from core.auth.roles import Role, User, require

__all__ = ["Role", "User", "require"]
