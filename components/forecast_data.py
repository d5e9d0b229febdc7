"""Cached forecast runs for the Forecasts page, keyed on the dataset version file and settings."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from components.resources import duckdb_cursor
from core.data.catalog import Dataset
from core.data.roles import NUMERIC, TEMPORAL, kind_of
from core.forecasting import batch, kpi_source
from core.forecasting.results import ForecastBatch, ForecastSettings

COUNT_ROWS = "(count of rows)"
KPI_PREFIX = "KPI: "
NO_SPLIT = "(one series)"
DEFAULT_HORIZON = {"daily": 28, "weekly": 13, "monthly": 6, "quarterly": 4, "yearly": 2}


@dataclass(frozen=True, slots=True)
class Request:
    """What to forecast: columns, filters and settings (plain values: a cache key)."""

    date_col: str
    value_col: str | None
    id_col: str | None
    top: int | None
    settings: ForecastSettings
    kpi: str | None = None  # a KPI metric instead of a column


def value_columns(dataset: Dataset) -> list[str]:
    """Numeric columns (the quantity and the amount first)."""
    first = [dataset.column_for(r) for r in ("quantity", "amount") if dataset.column_for(r)]
    numeric = [c.name for c in dataset.columns if kind_of(c.type) == NUMERIC]
    return list(dict.fromkeys([*first, *numeric]))


@st.cache_data(max_entries=32, show_spinner=False)
def kpi_options(path: str, roles: tuple, _dataset: Dataset) -> dict[str, str]:
    """KPI metrics the dataset allows, as "KPI: label" -> key (keyed on roles too)."""
    return {f"{KPI_PREFIX}{label}": key for key, label in kpi_source.available(_dataset).items()}


def split_columns(dataset: Dataset) -> list[str]:
    """Columns that can split rows into series: ids and categories first."""
    preferred = ("sku", "product", "category", "region", "channel", "customer_id", "supplier")
    first = [dataset.column_for(r) for r in preferred if dataset.column_for(r)]
    others = [
        c.name
        for c in dataset.columns
        if kind_of(c.type) not in (NUMERIC, TEMPORAL) and c.name not in first
    ]
    return [NO_SPLIT, *first, *others]


def date_columns(dataset: Dataset) -> list[str]:
    """Date-typed columns, the one with the date role first."""
    first = [dataset.column_for("date")] if dataset.column_for("date") else []
    rest = [c.name for c in dataset.columns if kind_of(c.type) == TEMPORAL]
    return list(dict.fromkeys([*first, *rest]))


@st.cache_data(max_entries=16, show_spinner=False)
def detected_frequency(path: str, date_col: str, _dataset: Dataset) -> str:
    """The frequency the date column's spacing suggests."""
    from core.forecasting import query

    con = duckdb_cursor()
    source = query.Source.parquet(con, path)
    return query.detect_frequency(con, source, date_col).name


class _Results:
    """A small LRU of finished runs shared by every session (results are immutable).

    Not st.cache_data: a run reports progress to a bar drawn outside the function, and
    cache_data would replay that element on a hit from a block that no longer exists.
    """

    def __init__(self, size: int = 12) -> None:
        self.size = size
        self.items: OrderedDict[tuple, ForecastBatch] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> ForecastBatch | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: tuple, value: ForecastBatch) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


@st.cache_resource
def _results() -> _Results:
    return _Results()


def cached(path: str, request: Request) -> ForecastBatch | None:
    """A finished run of this dataset version file and request, if one is cached."""
    return _results().get((path, request))


def forecast(
    path: str,
    request: Request,
    dataset: Dataset,
    progress: Callable[[int, int], None] | None = None,
) -> ForecastBatch:
    """Aggregate in DuckDB and forecast; cached per dataset version file and request."""
    if (found := cached(path, request)) is not None:
        return found
    result = _run(request, dataset, progress)
    _results().put((path, request), result)
    return result


def _run(request: Request, dataset: Dataset, progress) -> ForecastBatch:
    if request.kpi:
        periods, freq = kpi_source.kpi_periods(
            duckdb_cursor(), dataset, request.kpi, request.settings.freq or "monthly"
        )
        return batch.forecast_periods(periods, freq, request.settings, progress=progress)
    periods, freq = batch.dataset_periods(
        duckdb_cursor(),
        dataset,
        date_col=request.date_col,
        value_col=request.value_col,
        id_col=request.id_col,
        freq=request.settings.freq,
        agg=request.settings.agg,
        exog_cols=request.settings.exog_cols,
        top=request.top,
    )
    return batch.forecast_periods(periods, freq, request.settings, progress=progress)


@st.cache_data(max_entries=16, show_spinner=False)
def saved_history(path: str, source: tuple, freq: str, agg: str, _dataset: Dataset) -> pd.DataFrame:
    """Aggregated history (id, ds, y) of a saved run's source (columns, or a KPI)."""
    date_col, value_col, id_col, kpi = source
    if kpi:
        periods, _ = kpi_source.kpi_periods(duckdb_cursor(), _dataset, kpi, freq)
        return periods[["id", "ds", "y"]]
    periods, _ = batch.dataset_periods(
        duckdb_cursor(),
        _dataset,
        date_col=date_col,
        value_col=value_col,
        id_col=id_col,
        freq=freq,
        agg=agg,
    )
    return periods[["id", "ds", "y"]]
