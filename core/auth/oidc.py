"""Single sign-on: turn the identity provider's claims into a Beacon role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.auth.roles import Role
from core.config import OidcRoleMapping


def _groups(claims: Mapping[str, Any], claim: str) -> Iterable[str]:
    value = claims.get(claim) or []
    if isinstance(value, str):
        value = [value]
    return [str(g).lower() for g in value]


def role_for_claims(claims: Mapping[str, Any], mapping: OidcRoleMapping) -> Role | None:
    """Highest role any rule grants (exact email, email domain, group); else the default."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or str(claims.get("email_verified", True)).strip().lower() in ("false", "0"):
        return None
    granted: list[str] = []
    if email in mapping.email_roles:
        granted.append(mapping.email_roles[email])
    domain = email.rpartition("@")[2]
    if domain in mapping.domain_roles:
        granted.append(mapping.domain_roles[domain])
    granted += [
        mapping.group_roles[g]
        for g in _groups(claims, mapping.groups_claim)
        if g in mapping.group_roles
    ]
    if granted:
        return max(Role.parse(r) for r in granted)
    return Role.parse(mapping.default_role) if mapping.default_role else None
