"""The audit log: who changed what, when. Written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role, User, require
from core.store import Store
from core.store.models import AuditRow, as_utc


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded change."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def record(session: Session, actor: User | str, action: str, target: str, **detail: Any) -> None:
    """Add an audit entry inside the caller's transaction (so it commits with the change)."""
    who = actor.email if isinstance(actor, User) else actor
    session.add(AuditRow(actor=who, action=action, target=target, detail=detail))


def list_events(
    store: Store, actor: User, *, limit: int = 1000, action: str | None = None
) -> list[AuditEvent]:
    """Newest audit events first; admins only."""
    require(actor, Role.ADMIN, "Reading the audit log")
    query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
    if action:
        query = query.where(AuditRow.action == action)
    with store.session() as s:
        return [
            AuditEvent(as_utc(r.at), r.actor, r.action, r.target, dict(r.detail or {}))
            for r in s.scalars(query)
        ]


def events_frame(events: list[AuditEvent]) -> pd.DataFrame:
    """Audit events as a table (columns: at, actor, action, target, detail)."""
    return pd.DataFrame(
        {
            "at": [e.at for e in events],
            "actor": [e.actor for e in events],
            "action": [e.action for e in events],
            "target": [e.target for e in events],
            "detail": [", ".join(f"{k}={v}" for k, v in sorted(e.detail.items())) for e in events],
        }
    )
