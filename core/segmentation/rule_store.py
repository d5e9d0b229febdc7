"""The editable segment rule set, kept in the store (the standard grid until first saved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from core import audit
from core.auth.roles import Role, User, require
from core.segmentation.models import SegmentRuleRow
from core.segmentation.rules import STANDARD_RULES, SegmentRule, validate
from core.store import Store
from core.store.models import as_utc

DEFAULT_RULESET = "default"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules in force, and who last changed them (None: the built-in standard grid)."""

    rules: tuple[SegmentRule, ...]
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def is_standard(self) -> bool:
        return self.updated_by is None


def load_rules(store: Store, user: User, ruleset: str = DEFAULT_RULESET) -> RuleSet:
    """The saved rule set, or the standard grid when none was saved."""
    require(user, Role.VIEWER, "Reading segment rules")
    with store.session() as s:
        rows = s.scalars(
            select(SegmentRuleRow)
            .where(SegmentRuleRow.ruleset == ruleset)
            .order_by(SegmentRuleRow.position)
        ).all()
        if not rows:
            return RuleSet(STANDARD_RULES)
        rules = tuple(
            SegmentRule(r.name, r.r_min, r.r_max, r.f_min, r.f_max, r.action) for r in rows
        )
        latest = max(rows, key=lambda r: as_utc(r.updated_at))
        return RuleSet(rules, latest.updated_by, as_utc(latest.updated_at))


def save_rules(
    store: Store, user: User, rules: Sequence[SegmentRule], ruleset: str = DEFAULT_RULESET
) -> RuleSet:
    """Replace the rule set (validated: names unique, every grid cell covered)."""
    require(user, Role.ANALYST, "Editing segment rules")
    checked = validate(rules)
    with store.session() as s:
        before = [
            r.name
            for r in s.scalars(
                select(SegmentRuleRow)
                .where(SegmentRuleRow.ruleset == ruleset)
                .order_by(SegmentRuleRow.position)
            )
        ]
        s.execute(delete(SegmentRuleRow).where(SegmentRuleRow.ruleset == ruleset))
        s.flush()
        for position, rule in enumerate(checked):
            s.add(
                SegmentRuleRow(
                    ruleset=ruleset,
                    position=position,
                    name=rule.name,
                    r_min=rule.r_min,
                    r_max=rule.r_max,
                    f_min=rule.f_min,
                    f_max=rule.f_max,
                    action=rule.action,
                    updated_by=user.email,
                )
            )
        audit.record(
            s,
            user,
            "segments.save_rules",
            ruleset,
            before=before or [r.name for r in STANDARD_RULES],
            after=[r.name for r in checked],
        )
    return load_rules(store, user, ruleset)


def reset_rules(store: Store, user: User, ruleset: str = DEFAULT_RULESET) -> RuleSet:
    """Go back to the standard grid."""
    require(user, Role.ANALYST, "Editing segment rules")
    with store.session() as s:
        removed = s.execute(delete(SegmentRuleRow).where(SegmentRuleRow.ruleset == ruleset))
        audit.record(s, user, "segments.reset_rules", ruleset, removed=removed.rowcount)
    return RuleSet(STANDARD_RULES)
