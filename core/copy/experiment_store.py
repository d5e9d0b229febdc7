"""Saved A/B experiments between library items: counts in, analysis saved with them."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit
from core.auth.roles import Role, User, require
from core.copy.experiments import METRICS, ArmCounts, ExperimentResult, analyse
from core.copy.models import CopyArmRow, CopyExperimentRow, CopyItemRow
from core.errors import NotFound, UserInputError
from core.store import Store
from core.store.models import as_utc, utcnow

COUNT_COLUMNS = ("impressions", "clicks", "conversions")
MAX_CSV_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Arm:
    """A variant in an experiment: the library item and its counts."""

    item_id: int
    label: str
    text: str
    impressions: int
    clicks: int
    conversions: int


@dataclass(frozen=True, slots=True)
class Experiment:
    """A saved experiment with its arms and last analysis."""

    id: int
    name: str
    metric: str
    alpha: float
    arms: tuple[Arm, ...]
    result: dict
    winner_item_id: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime


def arm_label(item_id: int, title: str) -> str:
    """How an arm is named in tables and charts: '#12 Summer headline'."""
    return f"#{item_id} {title[:40]}"


def _experiment(row: CopyExperimentRow, items: Mapping[int, CopyItemRow]) -> Experiment:
    arms = tuple(
        Arm(
            a.item_id,
            arm_label(a.item_id, items[a.item_id].title),
            items[a.item_id].body,
            a.impressions,
            a.clicks,
            a.conversions,
        )
        for a in row.arms
    )
    return Experiment(
        id=row.id,
        name=row.name,
        metric=row.metric,
        alpha=row.alpha,
        arms=arms,
        result=dict(row.result or {}),
        winner_item_id=row.winner_item_id,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def _load(session, name: str) -> tuple[CopyExperimentRow, dict[int, CopyItemRow]]:
    row = session.scalar(
        select(CopyExperimentRow)
        .where(CopyExperimentRow.name == name)
        .options(selectinload(CopyExperimentRow.arms))
    )
    if row is None:
        raise NotFound(f"No experiment named {name!r}.")
    ids = [a.item_id for a in row.arms]
    items = {i.id: i for i in session.scalars(select(CopyItemRow).where(CopyItemRow.id.in_(ids)))}
    return row, items


def _reanalyse(row: CopyExperimentRow, items: Mapping[int, CopyItemRow]) -> ExperimentResult:
    counts = [
        ArmCounts(
            arm_label(a.item_id, items[a.item_id].title), a.impressions, a.clicks, a.conversions
        )
        for a in row.arms
    ]
    result = analyse(counts, row.metric, row.alpha)
    row.result = result.as_json()
    winner = next(
        (a for a, c in zip(row.arms, counts, strict=True) if c.label == result.winner), None
    )
    row.winner_item_id = winner.item_id if winner else None
    row.updated_at = utcnow()
    return result


def create_experiment(
    store: Store,
    user: User,
    name: str,
    item_ids: Sequence[int],
    *,
    metric: str = "ctr",
    alpha: float = 0.05,
) -> Experiment:
    """Start an experiment between two or more library items."""
    require(user, Role.ANALYST, "Creating experiments")
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise UserInputError("Give the experiment a name of 1-100 characters.")
    ids = list(dict.fromkeys(int(i) for i in item_ids))
    if len(ids) < 2:
        raise UserInputError("Choose at least two library items to compare.")
    if metric not in METRICS:
        raise UserInputError(f"Unknown metric {metric!r}: choose {', '.join(METRICS)}.")
    if not 0 < alpha < 0.5:
        raise UserInputError("The significance level must be between 0 and 0.5 (e.g. 0.05).")
    with store.session() as s:
        if s.scalar(select(CopyExperimentRow.id).where(CopyExperimentRow.name == name)):
            raise UserInputError(f"There is already an experiment named {name!r}.")
        found = {i.id for i in s.scalars(select(CopyItemRow).where(CopyItemRow.id.in_(ids)))}
        if missing := [i for i in ids if i not in found]:
            raise NotFound(f"No library item #{missing[0]}.")
        row = CopyExperimentRow(
            name=name, metric=metric, alpha=alpha, result={}, created_by=user.email
        )
        row.arms = [CopyArmRow(item_id=i, updated_by=user.email) for i in ids]
        s.add(row)
        s.flush()
        audit.record(s, user, "copy.experiment.create", name, items=ids, metric=metric)
    return get_experiment(store, user, name)


def record_counts(
    store: Store, user: User, name: str, counts: Mapping[int, Mapping[str, int]]
) -> tuple[Experiment, ExperimentResult]:
    """Set the counts of some arms ({item_id: {impressions, clicks, conversions}}), then
    re-analyse and save the result with the experiment in the same transaction."""
    require(user, Role.ANALYST, "Recording experiment results")
    with store.session() as s:
        row, items = _load(s, name)
        arms = {a.item_id: a for a in row.arms}
        for item_id, values in counts.items():
            if int(item_id) not in arms:
                raise UserInputError(f"Library item #{item_id} is not part of {name!r}.")
            arm = arms[int(item_id)]
            new = {k: int(values.get(k, getattr(arm, k))) for k in COUNT_COLUMNS}
            ArmCounts(arm_label(arm.item_id, items[arm.item_id].title), **new)  # validates
            for key, value in new.items():
                setattr(arm, key, value)
            arm.updated_by, arm.updated_at = user.email, utcnow()
        result = _reanalyse(row, items)
        audit.record(
            s, user, "copy.experiment.record", name, arms=len(counts), winner=result.winner
        )
        s.flush()
        return _experiment(row, items), result


def parse_counts_csv(data: bytes, experiment: Experiment) -> dict[int, dict[str, int]]:
    """Counts from a CSV with an `item_id` (or `label`) column and the three count columns."""
    if len(data) > MAX_CSV_BYTES:
        raise UserInputError("The counts file is over 1 MB; it needs one row per variant.")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UserInputError(f"Cannot read the counts file as CSV: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    key = "item_id" if "item_id" in frame.columns else "label" if "label" in frame.columns else None
    present = [c for c in COUNT_COLUMNS if c in frame.columns]
    if key is None or not present:
        raise UserInputError(
            "The counts file needs an item_id (or label) column and impressions, clicks "
            "and/or conversions columns."
        )
    by_label = {a.label: a.item_id for a in experiment.arms}
    counts: dict[int, dict[str, int]] = {}
    for number, record in enumerate(frame.to_dict("records"), start=2):
        raw = str(record[key]).strip().lstrip("#") if key == "item_id" else str(record[key]).strip()
        item_id = int(raw) if key == "item_id" and raw.isdigit() else by_label.get(raw)
        if item_id not in by_label.values():
            raise UserInputError(
                f"Line {number}: {record[key]!r} is not a variant of this experiment."
            )
        values: dict[str, int] = {}
        for column in present:
            text = str(record[column]).replace(",", "").strip()
            if not text.isdigit():
                raise UserInputError(
                    f"Line {number}: {column} must be a whole number, got {text!r}."
                )
            values[column] = int(text)
        counts[item_id] = values
    return counts


def get_experiment(store: Store, user: User, name: str) -> Experiment:
    """One experiment with its arms and saved result."""
    require(user, Role.VIEWER, "Reading experiments")
    with store.session() as s:
        row, items = _load(s, name)
        return _experiment(row, items)


def list_experiments(store: Store, user: User) -> list[Experiment]:
    """Every experiment, newest first."""
    require(user, Role.VIEWER, "Reading experiments")
    with store.session() as s:
        names = list(
            s.scalars(select(CopyExperimentRow.name).order_by(CopyExperimentRow.created_at.desc()))
        )
    return [get_experiment(store, user, n) for n in names]


def experiments_for_item(store: Store, user: User, item_id: int) -> list[Experiment]:
    """The experiments a library item takes part in (its results live with them)."""
    require(user, Role.VIEWER, "Reading experiments")
    with store.session() as s:
        names = list(
            s.scalars(
                select(CopyExperimentRow.name)
                .join(CopyArmRow, CopyArmRow.experiment_id == CopyExperimentRow.id)
                .where(CopyArmRow.item_id == item_id)
            )
        )
    return [get_experiment(store, user, n) for n in names]


def delete_experiment(store: Store, user: User, name: str) -> None:
    """Remove an experiment and its counts (the items stay in the library)."""
    require(user, Role.ANALYST, "Deleting experiments")
    with store.session() as s:
        row, _ = _load(s, name)
        s.delete(row)
        audit.record(s, user, "copy.experiment.delete", name)
