"""Catalog: versions, restore, roles, delete, sweep and role checks in core."""

from __future__ import annotations

import os
import time

import pytest

from core import audit
from core.auth.roles import Role, User
from core.data.roles import guess_roles, missing_roles
from core.errors import NotFound, PermissionDenied, UserInputError

SYSTEM = User.system()
V1 = "order_date,client_ref,amount\n2024-01-01,C1,5\n"
V2 = "order_date,client_ref,amount\n2024-01-01,C1,5\n2024-01-02,C2,6\n"


def test_reupload_makes_a_new_version_and_restore_moves_the_pointer(services, write_file):
    catalog = services.catalog
    first = catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name="orders")
    second = catalog.ingest_file(SYSTEM, write_file("o.csv", V2), name="orders")
    assert (first.version, second.version, second.rows, second.version_count) == (1, 2, 2, 2)
    assert [v.version for v in catalog.versions(SYSTEM, "orders")] == [2, 1]
    restored = catalog.restore(SYSTEM, "orders", 1)
    assert (restored.version, restored.rows) == (1, 1)
    assert first.path.is_file() and second.path.is_file()  # versions are never rewritten
    with pytest.raises(NotFound, match="has no version 7"):
        catalog.restore(SYSTEM, "orders", 7)


def test_confirmed_roles_carry_over_to_new_versions(services, write_file):
    catalog = services.catalog
    catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name="orders")
    catalog.set_roles(SYSTEM, "orders", {"client_ref": "customer_id"})
    again = catalog.ingest_file(SYSTEM, write_file("o.csv", V2), name="orders")
    assert again.roles == {"order_date": "date", "client_ref": "customer_id", "amount": "amount"}


def test_set_roles_validates(services, write_file):
    catalog = services.catalog
    catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name="orders")
    with pytest.raises(UserInputError, match="Role 'Date' is on both"):
        catalog.set_roles(SYSTEM, "orders", {"client_ref": "date"})
    with pytest.raises(UserInputError, match="needs a numeric column"):
        catalog.set_roles(SYSTEM, "orders", {"client_ref": "amount", "amount": None})
    with pytest.raises(UserInputError, match="Unknown role"):
        catalog.set_roles(SYSTEM, "orders", {"client_ref": "nonsense"})
    with pytest.raises(UserInputError, match="no column"):
        catalog.set_roles(SYSTEM, "orders", {"ghost": "region"})
    assert catalog.get(SYSTEM, "orders").roles["client_ref"] is None


def test_delete_removes_rows_and_files(services, write_file):
    catalog = services.catalog
    dataset = catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name="orders")
    catalog.delete(SYSTEM, "orders")
    assert catalog.datasets(SYSTEM) == []
    assert not dataset.path.parent.exists()
    with pytest.raises(NotFound):
        catalog.get(SYSTEM, "orders")


def test_sweep_removes_old_leftovers_only(services, write_file):
    catalog = services.catalog
    kept = catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name="orders")
    catalog.staging_dir.mkdir(parents=True, exist_ok=True)
    old = catalog.staging_dir / "crashed.parquet"
    fresh = catalog.staging_dir / "in-progress.parquet"
    orphan = kept.path.parent / "v9.parquet"
    for path in (old, fresh, orphan):
        path.write_bytes(b"x")
    long_ago = time.time() - 7 * 3600
    os.utime(old, (long_ago, long_ago))
    os.utime(orphan, (long_ago, long_ago))
    assert catalog.sweep() == 2
    assert fresh.exists() and kept.path.exists()
    assert not old.exists() and not orphan.exists()


@pytest.mark.parametrize("bad", [" ", "../etc", "a/b", "x" * 65, "-lead"])
def test_dataset_names_are_checked(services, write_file, bad):
    with pytest.raises(UserInputError, match="A dataset name has 1-64"):
        services.catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name=bad)


def test_viewer_cannot_change_data_even_without_the_ui(services, make_user, write_file):
    viewer = make_user(Role.VIEWER)
    catalog = services.catalog
    catalog.ingest_file(SYSTEM, write_file("o.csv", V1), name="orders")
    catalog.ingest_file(SYSTEM, write_file("o.csv", V2), name="orders")
    assert [d.name for d in catalog.datasets(viewer)] == ["orders"]  # reading is fine
    attempts = [
        lambda: catalog.ingest_file(viewer, write_file("o.csv", V1), name="orders"),
        lambda: catalog.set_roles(viewer, "orders", {"client_ref": "customer_id"}),
        lambda: catalog.restore(viewer, "orders", 1),
        lambda: catalog.delete(viewer, "orders"),
        lambda: catalog.server_files(viewer),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="needs the analyst role"):
            attempt()
    dataset = catalog.get(SYSTEM, "orders")
    assert (dataset.version, dataset.version_count, dataset.roles["client_ref"]) == (2, 2, None)


def test_changes_are_audited(services, make_user, write_file):
    analyst = make_user(Role.ANALYST, "ana@example.com")
    catalog = services.catalog
    catalog.ingest_file(analyst, write_file("o.csv", V1), name="orders")
    catalog.set_roles(analyst, "orders", {"client_ref": "customer_id"})
    catalog.delete(analyst, "orders")
    events = audit.list_events(services.store, User.system())
    mine = [(e.actor, e.action, e.target) for e in events if e.actor == "ana@example.com"]
    assert mine == [
        ("ana@example.com", "dataset.delete", "orders"),
        ("ana@example.com", "dataset.set_roles", "orders"),
        ("ana@example.com", "dataset.ingest", "orders"),
    ]


def test_role_guessing_on_typical_names():
    roles = guess_roles(
        [
            ("Order Date", "DATE"),
            ("Customer ID", "VARCHAR"),
            ("Revenue", "DOUBLE"),
            ("Qty", "BIGINT"),
            ("SKU", "VARCHAR"),
            ("Region", "VARCHAR"),
            ("notes", "VARCHAR"),
        ]
    )
    assert roles == {
        "Order Date": "date",
        "Customer ID": "customer_id",
        "Revenue": "amount",
        "Qty": "quantity",
        "SKU": "sku",
        "Region": "region",
        "notes": None,
    }


def test_role_guessing_respects_types_and_uses_each_role_once():
    roles = guess_roles([("amount", "VARCHAR"), ("sales", "DOUBLE"), ("revenue", "DOUBLE")])
    assert roles == {"amount": None, "sales": "amount", "revenue": None}
    # the only date-typed column becomes the date even with an unusual name
    assert guess_roles([("when", "TIMESTAMP"), ("x", "BIGINT")])["when"] == "date"


def test_missing_roles_keeps_the_order_asked():
    assert missing_roles({"a": "date"}, ["customer_id", "date", "amount"]) == [
        "customer_id",
        "amount",
    ]
