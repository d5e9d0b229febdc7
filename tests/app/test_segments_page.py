"""The Segments page on the sample company: segments, k chosen in the open, rules renamed
and saved, dates compared, downloads offered; viewers read, analysts change."""

from __future__ import annotations

from datetime import date

import pytest

from core.auth.roles import Role, User
from core.config import load_settings
from core.data.samples import load_sample
from core.segmentation import rule_store, runs
from core.services import open_services
from tests.app.conftest import click, metrics, texts

PAGE = "views/segments.py"


@pytest.fixture
def sample(services):
    load_sample(services.catalog, User.system())
    return services


def open_page(app_as, role=Role.ANALYST):
    at = app_as(role, PAGE)
    at.selectbox(key="dataset").select("sample_orders").run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    return at


def count(text: str) -> int:
    return int(text.replace(",", "").replace("+", ""))


def test_segments_compare_dates_and_downloads(sample, app_as):
    at = open_page(app_as)
    shown = metrics(at)
    customers = count(shown["Customers"])
    assert customers > 1000
    assert shown["Champions"].endswith("%") and shown["At-risk revenue"].endswith("%")
    table = at.dataframe[0].value
    assert table["segment"].tolist()[:3] == ["Champions", "Loyal Customers", "Potential Loyalists"]
    assert table["customers"].sum() == customers
    assert table["share"].sum() == pytest.approx(1.0)

    # Compare with an earlier date: the deltas and the migration tab follow it.
    at.date_input(key="seg_before_sample_orders_2026-09-30").set_value(date(2026, 3, 31)).run()
    assert not at.exception and not at.error
    card = next(m for m in at.metric if m.label == "Customers")
    assert count(card.delta) > 0  # the customer base grew since March
    assert any("moved from Champions to At Risk" in c for c in texts(at.caption))
    at.selectbox(key="seg_migration_from").select("Loyal Customers").run()
    at.selectbox(key="seg_migration_to").select("Hibernating").run()
    assert any("moved from Loyal Customers to Hibernating" in c for c in texts(at.caption))

    labels = {b.label for b in at.get("download_button")}
    assert {
        "Segment table",
        "Profiles",
        "Customer clusters",
        "All customers",
        "These customers",
    } <= labels
    at.selectbox(key="segment_ids_pick").select("Hibernating").run()
    ids = next(b for b in at.get("download_button") if b.label.endswith(" IDs"))
    hibernating = int(table.set_index("segment").loc["Hibernating", "customers"])
    assert ids.label == f"{hibernating:,} IDs"
    next(b for b in at.get("download_button") if b.label == "Segment table").click().run()
    assert not at.exception


def test_choose_k_overrides_the_default(sample, app_as):
    at = open_page(app_as)
    k_box = at.selectbox(key="seg_clusters_k_kmeans")
    assert k_box.value is None  # the default: best silhouette in 3..8, never silently k=2
    default_k = int(metrics(at)["Clusters"])
    assert 3 <= default_k <= 8
    assert any("has the best silhouette" in c for c in texts(at.caption))
    k_box.select(6).run()
    assert not at.exception and not at.error
    assert metrics(at)["Clusters"] == "6"
    profiles = next(
        d.value for d in at.dataframe if "revenue_share" in d.value and "name" in d.value
    )
    assert len(profiles) == 6 and profiles["customers"].sum() == count(metrics(at)["Customers"])
    float(metrics(at)["Stability"])  # a number, not n/a
    at.text_input(key="seg_clusters_run_name").input("Six clusters")
    click(at, "Save run")
    assert not at.error
    store = open_services(load_settings()).store
    (run,) = runs.list_runs(store, User.system(), "sample_orders")
    assert (run.name, run.k, run.params["k"]) == ("Six clusters", 6, 6)


def test_rename_a_rule_and_refuse_a_broken_one(sample, app_as):
    at = open_page(app_as)
    at.session_state["segment_rules_editor"] = {
        "edited_rows": {0: {"name": "VIPs"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    click(at, "Save rules")
    assert not at.exception and not at.error, texts(at.error)
    store = open_services(load_settings()).store
    assert rule_store.load_rules(store, User.system()).rules[0].name == "VIPs"
    assert "VIPs" in metrics(at)  # the top-cell card follows the renamed rule
    assert at.dataframe[0].value["segment"].tolist()[0] == "VIPs"

    at.session_state["segment_rules_editor"] = {
        "edited_rows": {9: {"f_max": 1}},  # Hibernating shrinks: F 2 with R 1-2 has no rule
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    click(at, "Save rules")
    assert texts(at.error) == [
        "No rule covers R2 F2, R1 F2: widen a rule or add one so every recency x frequency "
        "cell has a segment."
    ]
    assert rule_store.load_rules(store, User.system()).rules[0].name == "VIPs"  # unchanged
    click(at, "Reset to the standard grid")
    assert rule_store.load_rules(store, User.system()).is_standard


def test_viewer_reads_but_cannot_edit_or_save(sample, app_as):
    at = app_as(Role.VIEWER, PAGE)
    # The first dataset by name (sample_customers) has no amounts: the page says so and
    # offers the datasets that fit.
    assert at.selectbox(key="dataset").value == "sample_customers"
    assert any("Customer segmentation needs columns" in w for w in texts(at.warning))
    click(at, "Open sample_orders")
    assert at.selectbox(key="dataset").value == "sample_orders"
    assert not at.exception and not at.error
    labels = [b.label for b in at.button]
    assert "Save rules" not in labels and "Save run" not in labels
    assert metrics(at)["Clusters"]  # viewers still see clusters and lifetime value
    assert "Expected value" in metrics(at)


def test_missing_roles_link_to_the_mapper(services, app_as, write_file):
    path = write_file("visits.csv", "day,page\n2024-01-01,home\n2024-01-02,cart\n")
    services.catalog.ingest_file(User.system(), path)
    at = app_as(Role.ANALYST, PAGE)
    assert any("Customer segmentation needs columns" in w for w in texts(at.warning))
    assert at.get("page_link")
    assert not at.exception
