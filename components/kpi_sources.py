"""The KPI page's source picker (catalog datasets, or registered warehouse tables) and the
query runner for the chosen source."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import streamlit as st

from components import dataset_picker
from components.resources import duckdb_cursor, services
from core.auth.roles import User
from core.data.catalog import Dataset
from core.data.roles import missing_roles
from core.kpis import warehouse
from core.kpis.source import DuckRunner, EngineRunner, KpiSource, Runner, from_dataset

KEY = "kpi_source_kind"
NEEDED = ("date", "amount")
DATASETS, WAREHOUSE = "Datasets", "Warehouse"


@dataclass(frozen=True, slots=True)
class Picked:
    """The chosen source; `dataset` is set for catalog datasets (None for warehouse tables)."""

    source: KpiSource
    dataset: Dataset | None = None
    table: warehouse.WarehouseTable | None = None


@st.cache_resource(show_spinner=False)
def _engine(connection_id: int, url_fingerprint: int, _url: str) -> sa.Engine:
    # Keyed on the connection and its URL, so a re-registered connection gets a new engine.
    return warehouse.open_engine(_url)


def show(user: User, *, key: str = "dataset") -> Picked | None:
    """Pick a dataset (or a warehouse table, when any is registered) in the sidebar."""
    svc = services()
    tables = warehouse.tables(svc.store, user)
    kind = DATASETS
    if tables:
        with st.sidebar:
            kind = (
                st.segmented_control(
                    "Source",
                    [DATASETS, WAREHOUSE],
                    default=DATASETS,
                    key=KEY,
                    help="Catalog datasets, or tables in a registered warehouse",
                )
                or DATASETS
            )
    if kind == WAREHOUSE:
        by_name = {t.name: t for t in tables}
        with st.sidebar:
            name = st.selectbox("Warehouse table", list(by_name), key="kpi_warehouse_table")
            table = by_name[name]
            st.caption(
                f"{table.connection} · {table.schema + '.' if table.schema else ''}{table.table}"
            )
        return Picked(table.source(), table=table)
    if key not in st.session_state and key not in st.query_params:
        # Land on a dataset the KPIs can use (the first by name may be a lookup table).
        usable = [d.name for d in svc.catalog.datasets(user) if not missing_roles(d.roles, NEEDED)]
        if usable and st.session_state.get(f"{key}_remembered") not in usable:
            dataset_picker.select_next(usable[0], key=key)
    dataset = dataset_picker.show(user, key=key, with_versions=True)
    if dataset is None:
        return None
    return Picked(from_dataset(dataset), dataset=dataset)


def runner(user: User, picked: Picked) -> Runner:
    """A runner over the picked source: DuckDB over the file, or the warehouse engine."""
    if picked.table is None:
        return DuckRunner(duckdb_cursor(), picked.source)
    svc = services()
    url = warehouse.connection_url(svc.store, svc.settings, user, picked.table.connection_id)
    return EngineRunner(_engine(picked.table.connection_id, hash(url), url), picked.source)
