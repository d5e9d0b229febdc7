"""The risk register in the store: assessed scores plus the owner, status, due date and notes.

A refresh (`sync`) writes the latest assessment: scores and reasoning are replaced,
the user's fields are kept, and risks that are no longer found stay in the register
marked as not detected (never deleted). Viewers read the register; analysts refresh
and edit it. Edits are audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.errors import UserInputError
from core.store import Store
from core.store.models import as_utc, utcnow
from core.supply_chain.models import SupplyRiskRow
from core.supply_chain.risks import RiskAssessment, RiskScore

STATUSES = ("open", "mitigating", "accepted", "closed")
MAX_NOTES, MAX_OWNER, MAX_SCOPE = 4000, 320, 200


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """A risk as the register shows it."""

    risk_id: str
    type: str
    subject: str
    subject_kind: str
    likelihood: int
    impact: int
    score: int
    reasoning: str
    suggested_mitigation: str
    owner: str
    status: str
    due_date: date | None
    notes: str
    detected: bool
    first_seen: datetime | None
    last_seen: datetime | None
    updated_by: str


@dataclass(frozen=True, slots=True)
class RegisterEdit:
    """New values of a risk's user fields (None: leave unchanged)."""

    risk_id: str
    owner: str | None = None
    status: str | None = None
    due_date: date | str | None = "keep"  # "keep" leaves it; None clears it
    notes: str | None = None


def _scope(scope: str) -> str:
    scope = " ".join(scope.split())
    if not scope or len(scope) > MAX_SCOPE:
        raise UserInputError("Name the register (1-200 characters).")
    return scope


def _entry(row: SupplyRiskRow) -> RegisterEntry:
    return RegisterEntry(
        risk_id=row.risk_key,
        type=row.risk_type,
        subject=row.subject,
        subject_kind=row.subject_kind,
        likelihood=row.likelihood,
        impact=row.impact,
        score=row.score,
        reasoning=row.reasoning,
        suggested_mitigation=row.suggested_mitigation,
        owner=row.owner,
        status=row.status,
        due_date=row.due_date,
        notes=row.notes,
        detected=row.detected,
        first_seen=as_utc(row.first_seen),
        last_seen=as_utc(row.last_seen),
        updated_by=row.updated_by,
    )


def _fresh(risk: RiskScore) -> RegisterEntry:
    return RegisterEntry(
        risk.risk_id, risk.type, risk.subject, risk.subject_kind, risk.likelihood, risk.impact,
        risk.score, risk.reasoning, risk.suggested_mitigation, "", "open", None, "", True,
        None, None, "",
    )  # fmt: skip


def _sorted(entries: Iterable[RegisterEntry]) -> list[RegisterEntry]:
    return sorted(entries, key=lambda e: (not e.detected, -e.score, -e.likelihood, e.risk_id))


def _rows(store: Store, scope: str) -> list[SupplyRiskRow]:
    with store.session() as s:
        rows = list(s.scalars(select(SupplyRiskRow).where(SupplyRiskRow.scope == scope)))
        s.expunge_all()
        return rows


def entries(store: Store, user: User, scope: str) -> list[RegisterEntry]:
    """The stored register, detected risks first, highest score first."""
    require(user, Role.VIEWER, "Reading the risk register")
    return _sorted(_entry(r) for r in _rows(store, _scope(scope)))


def merged(store: Store, user: User, scope: str, assessment: RiskAssessment) -> list[RegisterEntry]:
    """The assessment with the stored user fields applied, without writing (for viewers)."""
    require(user, Role.VIEWER, "Reading the risk register")
    stored = {r.risk_key: _entry(r) for r in _rows(store, _scope(scope))}
    current = {r.risk_id for r in assessment.risks}
    out = []
    for risk in assessment.risks:
        old = stored.get(risk.risk_id)
        fresh = _fresh(risk)
        if old is not None:
            fresh = replace(
                fresh,
                owner=old.owner,
                status=old.status,
                due_date=old.due_date,
                notes=old.notes,
                first_seen=old.first_seen,
                last_seen=old.last_seen,
                updated_by=old.updated_by,
            )
        out.append(fresh)
    gone = [replace(e, detected=False) for key, e in stored.items() if key not in current]
    return _sorted([*out, *gone])


def sync(store: Store, user: User, scope: str, assessment: RiskAssessment) -> list[RegisterEntry]:
    """Write the assessment into the register, keeping every user field (analysts)."""
    require(user, Role.ANALYST, "Refreshing the risk register")
    scope = _scope(scope)
    try:
        _write(store, user, scope, assessment)
    except IntegrityError:  # another session added the same new risks first: merge again
        _write(store, user, scope, assessment)
    return entries(store, user, scope)


def _write(store: Store, user: User, scope: str, assessment: RiskAssessment) -> None:
    now = utcnow()
    found = {r.risk_id: r for r in assessment.risks}
    added = missing = 0
    with store.session() as s:
        rows = {
            r.risk_key: r
            for r in s.scalars(select(SupplyRiskRow).where(SupplyRiskRow.scope == scope))
        }
        for key, risk in found.items():
            row = rows.get(key)
            if row is None:
                row = SupplyRiskRow(scope=scope, risk_key=key, first_seen=now, updated_by="")
                s.add(row)
                added += 1
            row.risk_type, row.subject = risk.type, risk.subject
            row.subject_kind = risk.subject_kind
            row.likelihood, row.impact, row.score = risk.likelihood, risk.impact, risk.score
            row.reasoning, row.suggested_mitigation = risk.reasoning, risk.suggested_mitigation
            row.detected, row.last_seen = True, now
        for key, row in rows.items():
            if key not in found and row.detected:
                row.detected = False
                missing += 1
        audit.record(
            s, user, "supply.register.refresh", scope,
            risks=len(found), added=added, no_longer_detected=missing,
        )  # fmt: skip


def _check_edit(edit: RegisterEdit) -> dict[str, object]:
    changes: dict[str, object] = {}
    if edit.owner is not None:
        owner = " ".join(str(edit.owner).split())
        if len(owner) > MAX_OWNER:
            raise UserInputError(f"An owner has at most {MAX_OWNER} characters.")
        changes["owner"] = owner
    if edit.status is not None:
        status = str(edit.status).strip().lower()
        if status not in STATUSES:
            raise UserInputError(f"Status must be one of {', '.join(STATUSES)}.")
        changes["status"] = status
    if edit.due_date != "keep":
        due = edit.due_date
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due.strip()) if due.strip() else None
            except ValueError:
                raise UserInputError(f"{edit.due_date!r} is not a date (YYYY-MM-DD).") from None
        if isinstance(due, datetime):
            due = due.date()
        if due is not None and not isinstance(due, date):
            raise UserInputError("A due date must be a date (YYYY-MM-DD).")
        changes["due_date"] = due
    if edit.notes is not None:
        if len(edit.notes) > MAX_NOTES:
            raise UserInputError(f"Mitigation notes have at most {MAX_NOTES:,} characters.")
        changes["notes"] = edit.notes
    return changes


def _audited(field: str, value: object) -> str:
    # Notes may be long and personal: the log records that they changed, not the text.
    return f"{len(str(value))} characters" if field == "notes" else str(value)


def update(store: Store, user: User, scope: str, edits: Iterable[RegisterEdit]) -> int:
    """Apply edits to risks' user fields in one transaction (analysts); returns rows changed."""
    require(user, Role.ANALYST, "Editing the risk register")
    scope = _scope(scope)
    checked = [(e.risk_id, _check_edit(e)) for e in edits]  # all valid before any write
    changed = 0
    with store.session() as s:
        for risk_id, changes in checked:
            row = s.scalar(
                select(SupplyRiskRow).where(
                    SupplyRiskRow.scope == scope, SupplyRiskRow.risk_key == risk_id
                )
            )
            if row is None:
                raise UserInputError(f"Risk {risk_id!r} is not in the register: refresh it first.")
            diff = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if not diff:
                continue
            for key, value in diff.items():
                setattr(row, key, value)
            row.updated_by, row.updated_at = user.email, utcnow()
            changed += 1
            audit.record(
                s, user, "supply.register.edit", f"{scope}/{risk_id}",
                **{k: _audited(k, v) for k, v in diff.items()},
            )  # fmt: skip
    return changed


def frame(items: list[RegisterEntry]) -> pd.DataFrame:
    """The register as a table for display and export."""
    columns = list(RegisterEntry.__slots__)
    data = pd.DataFrame([[getattr(e, c) for c in columns] for e in items], columns=columns)
    data["detected"] = data["detected"].map({True: "detected", False: "no longer detected"})
    return data
