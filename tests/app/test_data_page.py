"""The Data page: upload -> map roles -> profile -> preview/export, versions, bad input."""

from __future__ import annotations

from core.auth.roles import Role, User
from core.config import load_settings
from core.services import open_services
from tests.app.conftest import click, metrics, texts

DATA = "views/data.py"
CSV = (
    "Order Ref,Day,Buyer Ref,Total,Region\n"
    "A1,2024-01-02,C1,10.5,North\n"
    "A2,2024-01-03,C2,20,South\n"
    "A3,2024-01-03,C1,5,<b>North</b>\n"
)


def upload(at, name: str, content: bytes, dataset_name: str = ""):
    at.tabs  # noqa: B018 - tabs render their bodies every run
    at.file_uploader[0].upload(name, content, "text/csv")
    if dataset_name:
        at.text_input(key="ingest_name").input(dataset_name)
    return click(at, "Add to catalog")


def catalog_state():
    services = open_services(load_settings())
    return [(d.name, d.version) for d in services.catalog.datasets(User.system())]


def test_empty_catalog_offers_the_sample_company(app_as):
    at = app_as(Role.ANALYST, DATA)
    assert any("There is no data yet" in text for text in texts(at.info))
    click(at, "Load sample data")
    assert not at.exception
    names = [name for name, _ in catalog_state()]
    assert names == sorted(
        ["sample_customers", "sample_inventory", "sample_orders", "sample_products",
         "sample_shipments", "sample_suppliers"]
    )  # fmt: skip
    assert int(metrics(at)["Rows"].replace(",", "")) > 0


def test_viewer_sees_no_way_to_add_data(app_as):
    at = app_as(Role.VIEWER, DATA)
    assert [b.label for b in at.button] == []
    assert "Ask an analyst or admin" in texts(at.info)[-1]


def test_upload_map_profile_export_flow(app_as):
    at = app_as(Role.ANALYST, DATA)
    at = upload(at, "Shop Orders.csv", CSV.encode())
    assert not at.exception and not at.error
    assert "Created shop_orders: 3 rows, 5 columns." in texts(at.success)[0]
    shown = metrics(at)
    assert (shown["Rows"], shown["Columns"], shown["Duplicate rows"]) == ("3", "5", "0")
    assert shown["Date range"] == "2024-01-02 → 2024-01-03"

    # Preview: the HTML cell is shown as text in the table, in file order.
    preview = at.dataframe[0].value
    assert preview["Region"].tolist() == ["North", "South", "<b>North</b>"]
    at.selectbox(key="sort_by").select("Total").run()
    assert at.dataframe[0].value["Total"].tolist() == [5, 10.5, 20]

    # Column roles: "Buyer Ref" was not recognised; map it and save.
    editor_key = "column_mapper_shop_orders_1"
    at.session_state[editor_key] = {
        "edited_rows": {2: {"role": "customer_id"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    click(at, "Save roles")
    assert not at.error
    services = open_services(load_settings())
    roles = services.catalog.get(User.system(), "shop_orders").roles
    assert any("Saved 1 role change" in t.value for t in at.toast)
    assert roles == {"Order Ref": None, "Day": "date", "Buyer Ref": "customer_id",
                     "Total": "amount", "Region": "region"}  # fmt: skip

    # Profile: a closer look at the amount column draws a histogram and top values.
    assert at.selectbox(key="profile_column_shop_orders").value == "Total"  # the amount
    at.selectbox(key="profile_column_shop_orders").select("Total").run()
    assert len(at.get("plotly_chart")) == 2  # histogram and top values
    at.selectbox(key="profile_column_shop_orders").select("Region").run()
    assert len(at.get("plotly_chart")) == 1  # text: top values only
    assert not at.exception
    # Exports are offered in three formats (their bytes are tested in core).
    labels = [b.label for b in at.get("download_button")]
    assert {"Export CSV", "Export Excel", "Export Parquet"} <= set(labels)


def test_bad_upload_shows_one_error_and_changes_nothing(app_as):
    at = app_as(Role.ANALYST, DATA)
    at = upload(at, "good.csv", CSV.encode(), dataset_name="orders")
    before = catalog_state()
    at = upload(at, "ragged.csv", b"a,b\n1,2\n3,4,5\n", dataset_name="orders")
    assert texts(at.error) == ["Line 3 has 3 fields but the header has 2: fix that row."]
    assert catalog_state() == before
    assert not at.exception


def test_new_version_and_restore(app_as):
    at = app_as(Role.ANALYST, DATA)
    at = upload(at, "orders.csv", CSV.encode(), dataset_name="orders")
    more = CSV + "A4,2024-01-04,C3,7,East\n"
    at = upload(at, "orders.csv", more.encode(), dataset_name="orders")
    assert "Added version 2 to orders" in texts(at.success)[0]
    assert metrics(at)["Rows"] == "4"
    at.selectbox(key="restore_to").select(1).run()
    click(at, "Make current")
    assert catalog_state() == [("orders", 1)]
    assert metrics(at)["Rows"] == "3"


def test_delete_needs_the_name_typed(app_as):
    at = app_as(Role.ANALYST, DATA)
    at = upload(at, "orders.csv", CSV.encode(), dataset_name="orders")
    delete = next(b for b in at.button if b.label == "Delete dataset")
    assert delete.disabled
    at.text_input(key="delete_confirm").input("orders").run()
    click(at, "Delete dataset")
    assert catalog_state() == []
