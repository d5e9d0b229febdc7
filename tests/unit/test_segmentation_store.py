"""Segment rules and saved runs in the store: round trips, audit, roles, SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from core import audit
from core.auth.roles import Role, User
from core.config import load_settings
from core.data.catalog import Catalog
from core.errors import NotFound, PermissionDenied, UserInputError
from core.segmentation import rule_store, runs
from core.segmentation.pipeline import SegmentationSettings, segment
from core.segmentation.rules import STANDARD_RULES, SegmentRule
from core.store import open_store

SYSTEM = User.system()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, services):
    if request.param == "sqlite":
        yield services.store
        return
    opened = open_store(request.getfixturevalue("postgres_url"))
    yield opened
    opened.engine.dispose()


def small_log(n: int = 60) -> pd.DataFrame:
    rows = []
    for i in range(n):
        for j in range(1 + i % 4):
            rows.append(
                {
                    "order_id": f"{i}-{j}",
                    "customer_id": f"C{i:03d}",
                    "order_date": pd.Timestamp("2024-01-01")
                    + pd.Timedelta(days=(i * 7 + j * 40) % 360),
                    "amount": 10.0 + i + 5 * j,
                }
            )
    return pd.DataFrame(rows)


def test_rules_start_standard_then_save_and_reset(store, make_user):
    analyst, viewer = make_user(Role.ANALYST), make_user(Role.VIEWER)
    assert rule_store.load_rules(store, viewer).is_standard
    renamed = [SegmentRule("VIPs", 5, 5, 4, 5, "Say thanks"), *STANDARD_RULES[1:]]
    saved = rule_store.save_rules(store, analyst, renamed)
    assert [r.name for r in saved.rules][:2] == ["VIPs", "Loyal Customers"]
    assert saved.updated_by == analyst.email and saved.updated_at.tzinfo is not None
    assert rule_store.load_rules(store, viewer).rules == tuple(renamed)
    again = rule_store.save_rules(store, analyst, list(reversed(renamed)))  # replace, reorder
    assert again.rules[0].name == "Hibernating" and len(again.rules) == 10
    assert rule_store.reset_rules(store, analyst).is_standard
    assert rule_store.load_rules(store, viewer).is_standard
    actions = [
        e.action for e in audit.list_events(store, SYSTEM) if e.action.startswith("segments")
    ]
    assert actions == ["segments.reset_rules", "segments.save_rules", "segments.save_rules"]


def test_rules_need_the_analyst_role_and_a_valid_grid(store, make_user):
    viewer, analyst = make_user(Role.VIEWER), make_user(Role.ANALYST)
    with pytest.raises(PermissionDenied, match="Editing segment rules needs the analyst role"):
        rule_store.save_rules(store, viewer, STANDARD_RULES)
    with pytest.raises(UserInputError, match="No rule covers"):
        rule_store.save_rules(store, analyst, STANDARD_RULES[:-1])
    assert rule_store.load_rules(store, viewer).is_standard  # nothing half-saved


def test_runs_save_list_and_delete(store, make_user, tmp_path):
    analyst, viewer = make_user(Role.ANALYST), make_user(Role.VIEWER)
    catalog = Catalog(store, load_settings())
    dataset = catalog.ingest_frame(SYSTEM, small_log(), "orders", "test")
    settings = SegmentationSettings(k=3)
    con = catalog.connect()
    result = segment(con, analyst, dataset, settings, with_stability=False)
    with pytest.raises(PermissionDenied):
        runs.save_run(store, viewer, dataset, settings, result, "mine")
    with pytest.raises(UserInputError, match="name of 1-100 characters"):
        runs.save_run(store, analyst, dataset, settings, result, "  ")
    saved = runs.save_run(store, analyst, dataset, settings, result, "Q2 review")
    assert (saved.name, saved.dataset, saved.k, saved.dataset_version) == (
        "Q2 review",
        "orders",
        3,
        1,
    )
    assert saved.as_of == result.table.as_of
    assert saved.params["k"] == 3 and saved.params["orders"]["monetary"] == "total"
    assert len(saved.summary["clusters"]) == 3 and saved.summary["customers"] == 60
    assert saved.summary["clv"]["params"]["r"] == pytest.approx(result.clv.params()["r"])
    listed = runs.list_runs(store, viewer, "orders")
    assert [r.id for r in listed] == [saved.id]
    assert runs.runs_frame(listed)["name"].tolist() == ["Q2 review"]
    assert runs.list_runs(store, viewer, "other") == []
    runs.delete_run(store, analyst, saved.id)
    assert runs.list_runs(store, viewer) == []
    with pytest.raises(NotFound):
        runs.get_run(store, viewer, saved.id)
    catalog.delete(SYSTEM, "orders")  # runs of a deleted dataset go with it (cascade)
