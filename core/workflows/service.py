"""Workflows as users see them: save (a new version each time), list, enable, delete,
YAML import/export, webhook tokens. Every function takes the acting user and checks it.

Reading needs the viewer role; changing or running needs analyst. A workflow's runs act
as its owner (whoever saved the current version), so they can do no more than that
account may: if the owner loses the analyst role, the runs fail with a clear message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.auth.roles import Role, User, require
from core.errors import NotFound, PermissionDenied, UserInputError
from core.store.models import as_utc, utcnow
from core.workflows.definition import WorkflowDef, from_data, parse_yaml, to_data, to_yaml
from core.workflows.models import (
    WorkflowRow,
    WorkflowRunRow,
    WorkflowTriggerRow,
    WorkflowVersionRow,
)
from core.workflows.state import definition_of
from core.workflows.triggers import sync_triggers


@dataclass(frozen=True, slots=True)
class WorkflowInfo:
    """A workflow and its current definition."""

    id: int
    name: str
    description: str
    enabled: bool
    version: int
    versions: int
    owner: str
    definition: WorkflowDef
    has_webhook_token: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One saved version of a workflow."""

    version: int
    created_by: str
    created_at: datetime
    steps: int


@dataclass(frozen=True, slots=True)
class TriggerState:
    """What the scheduler knows about one trigger: next check, last fire, problems."""

    kind: str
    next_due: datetime | None
    last_fired: datetime | None
    missed: int
    error: str


def _info(session, row: WorkflowRow) -> WorkflowInfo:
    versions = session.scalar(select(func.count()).where(WorkflowVersionRow.workflow_id == row.id))
    return WorkflowInfo(
        id=row.id,
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        version=row.current_version,
        versions=versions or 0,
        owner=row.owner,
        definition=definition_of(session, row.id, row.current_version),
        has_webhook_token=row.webhook_token_hash is not None,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def _row(session, name: str) -> WorkflowRow:
    row = session.scalar(select(WorkflowRow).where(WorkflowRow.name == name))
    if row is None:
        raise NotFound(f"No workflow named {name!r}.")
    return row


def list_workflows(services: Any, user: User) -> list[WorkflowInfo]:
    """Every workflow, by name."""
    require(user, Role.VIEWER, "Reading workflows")
    with services.store.session() as s:
        return [_info(s, r) for r in s.scalars(select(WorkflowRow).order_by(WorkflowRow.name))]


def get_workflow(services: Any, user: User, name: str) -> WorkflowInfo:
    """One workflow by name."""
    require(user, Role.VIEWER, "Reading workflows")
    with services.store.session() as s:
        return _info(s, _row(s, name))


def versions(services: Any, user: User, name: str) -> list[VersionInfo]:
    """Saved versions of a workflow, newest first."""
    require(user, Role.VIEWER, "Reading workflows")
    with services.store.session() as s:
        row = _row(s, name)
        found = s.scalars(
            select(WorkflowVersionRow)
            .where(WorkflowVersionRow.workflow_id == row.id)
            .order_by(WorkflowVersionRow.version.desc())
        )
        return [
            VersionInfo(v.version, v.created_by, as_utc(v.created_at), len(v.definition["steps"]))
            for v in found
        ]


def definition_at(services: Any, user: User, name: str, version: int) -> WorkflowDef:
    """A workflow's definition as saved in `version`."""
    require(user, Role.VIEWER, "Reading workflows")
    with services.store.session() as s:
        try:
            return definition_of(s, _row(s, name).id, version)
        except LookupError:
            raise NotFound(f"Workflow {name!r} has no version {version}.") from None


def trigger_states(services: Any, user: User, name: str) -> list[TriggerState]:
    """The scheduler's view of a workflow's triggers."""
    require(user, Role.VIEWER, "Reading workflows")
    with services.store.session() as s:
        row = _row(s, name)
        return [
            TriggerState(
                t.kind,
                as_utc(t.next_due),
                as_utc(t.last_fired),
                int(t.state.get("missed", 0)),
                str(t.state.get("error", "")),
            )
            for t in s.scalars(
                select(WorkflowTriggerRow)
                .where(WorkflowTriggerRow.workflow_id == row.id)
                .order_by(WorkflowTriggerRow.key)
            )
        ]


def save_workflow(
    services: Any, user: User, definition: WorkflowDef, *, now: datetime | None = None
) -> WorkflowInfo:
    """Create the workflow, or add a version when the definition changed."""
    require(user, Role.ANALYST, "Editing workflows")
    now = now or utcnow()
    data = to_data(from_data(to_data(definition)))  # normalised, and valid
    try:
        with services.store.writing() as s:
            row = s.scalar(select(WorkflowRow).where(WorkflowRow.name == definition.name))
            if row is None:
                row = WorkflowRow(
                    name=definition.name,
                    description=definition.description,
                    enabled=True,
                    current_version=1,
                    owner=user.email,
                    created_by=user.email,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
                version = 1
            else:
                current = s.scalar(
                    select(WorkflowVersionRow.definition).where(
                        WorkflowVersionRow.workflow_id == row.id,
                        WorkflowVersionRow.version == row.current_version,
                    )
                )
                if current == data and row.owner == user.email:
                    return _info(s, row)
                version = (
                    s.scalar(
                        select(func.max(WorkflowVersionRow.version)).where(
                            WorkflowVersionRow.workflow_id == row.id
                        )
                    )
                    or 0
                ) + 1
                row.current_version, row.owner = version, user.email
                row.description, row.updated_at = definition.description, now
            s.add(
                WorkflowVersionRow(
                    workflow_id=row.id,
                    version=version,
                    definition=data,
                    created_by=user.email,
                    created_at=now,
                )
            )
            s.flush()
            sync_triggers(s, row, definition_of(s, row.id, version), now)
            audit.record(s, user, "workflow.save", definition.name, version=version)
            return _info(s, row)
    except IntegrityError:
        raise UserInputError(
            f"Workflow {definition.name!r} was changed by someone else at the same moment: "
            "try again."
        ) from None


def import_yaml(services: Any, user: User, text: str) -> WorkflowInfo:
    """Save a workflow from its YAML form."""
    require(user, Role.ANALYST, "Editing workflows")
    return save_workflow(services, user, parse_yaml(text))


def export_yaml(services: Any, user: User, name: str, version: int | None = None) -> str:
    """The YAML form of a workflow (its current version unless one is named)."""
    info = get_workflow(services, user, name)
    if version is None or version == info.version:
        return to_yaml(info.definition)
    return to_yaml(definition_at(services, user, name, version))


def set_enabled(services: Any, user: User, name: str, enabled: bool) -> WorkflowInfo:
    """Switch a workflow's triggers on or off (manual runs stay possible)."""
    require(user, Role.ANALYST, "Enabling or disabling workflows")
    now = utcnow()
    with services.store.writing() as s:
        row = _row(s, name)
        if row.enabled != enabled:
            row.enabled, row.updated_at = enabled, now
            sync_triggers(s, row, definition_of(s, row.id, row.current_version), now)
            audit.record(s, user, "workflow.enable" if enabled else "workflow.disable", name)
        return _info(s, row)


def delete_workflow(services: Any, user: User, name: str) -> None:
    """Remove a workflow with its versions and run history."""
    require(user, Role.ANALYST, "Deleting workflows")
    with services.store.writing() as s:
        row = _row(s, name)
        active = s.scalar(
            select(func.count()).where(
                WorkflowRunRow.workflow_id == row.id, WorkflowRunRow.status == "running"
            )
        )
        if active:
            raise UserInputError(f"{name} has {active} run(s) in progress: cancel them first.")
        runs = s.scalar(select(func.count()).where(WorkflowRunRow.workflow_id == row.id))
        s.execute(delete(WorkflowRow).where(WorkflowRow.id == row.id))
        audit.record(s, user, "workflow.delete", name, runs=runs)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_webhook_token(services: Any, user: User, name: str) -> str:
    """A new secret for the workflow's webhook (shown once; only its hash is kept)."""
    require(user, Role.ANALYST, "Managing workflow webhooks")
    token = secrets.token_urlsafe(32)
    with services.store.writing() as s:
        row = _row(s, name)
        if not any(
            t.type == "webhook" for t in definition_of(s, row.id, row.current_version).triggers
        ):
            raise UserInputError(f"{name} has no webhook trigger: add one before making a token.")
        row.webhook_token_hash = _hash(token)
        audit.record(s, user, "workflow.webhook_token", name)
    return token


def webhook_workflow(session, name: str, token: str) -> WorkflowRow:
    """The workflow a webhook call names, if the token is its current one."""
    row = session.scalar(select(WorkflowRow).where(WorkflowRow.name == name))
    expected = row.webhook_token_hash if row is not None else None
    # Compare even when the workflow or its token does not exist, so timing tells nothing.
    matches = hmac.compare_digest(_hash(token), expected or "0" * 64)
    if row is None or expected is None or not matches:
        raise PermissionDenied("The webhook token is not valid for this workflow.")
    return row
