"""The Forecasts page's sidebar: what to forecast and how, as one plain request."""

from __future__ import annotations

import streamlit as st

from components import forecast_data
from core.data.catalog import Dataset
from core.forecasting import kpi_source
from core.forecasting.forecasters import MODELS
from core.forecasting.frequency import FREQUENCIES
from core.forecasting.global_model import GLOBAL_MODELS
from core.forecasting.query import AGGREGATIONS
from core.forecasting.results import ForecastSettings

MODEL_LABELS = {n: s.label for n, s in MODELS.items()} | {
    n: s.label for n, s in GLOBAL_MODELS.items()
}
CHOICE_LABELS = {"pooled": "Whole run", "per_series": "Series"}
OUTLIER_LABELS = {"flag": "Flag", "treat": "Replace", "off": "Ignore"}


def _frequency(dataset: Dataset, date_col: str) -> str:
    detected = forecast_data.detected_frequency(str(dataset.path), date_col, dataset)
    # Daily transactions are usually planned by month: suggest monthly for them.
    suggested = "monthly" if detected == "daily" else detected
    return st.selectbox(
        "Frequency",
        list(FREQUENCIES),
        index=list(FREQUENCIES).index(suggested),
        format_func=lambda f: FREQUENCIES[f].label + (" (detected)" if f == detected else ""),
        key=f"fc_freq_{dataset.name}",
    )


def _advanced(dataset: Dataset, value: str, values: list[str]) -> dict:
    with st.expander("Models and backtest"):
        agg = st.selectbox(
            "Combine rows in a period by",
            list(AGGREGATIONS),
            format_func=lambda a: AGGREGATIONS[a].label,
            key="fc_agg",
        )
        folds = st.slider("Backtest folds", 1, 6, 3, key="fc_folds")
        models = st.multiselect(
            "Models (empty: the automatic set)",
            list(MODEL_LABELS),
            format_func=MODEL_LABELS.get,
            key="fc_models",
        )
        choice = st.radio(
            "Choose per",
            list(CHOICE_LABELS),
            horizontal=True,
            key="fc_choice",
            format_func=CHOICE_LABELS.get,
            help="Whole run: every series uses what backtested best across all of them "
            "(more reliable). Series: each uses its own best.",
        )
        outliers = st.radio(
            "Outliers",
            list(OUTLIER_LABELS),
            horizontal=True,
            key="fc_outliers",
            format_func=OUTLIER_LABELS.get,
        )
        promo = dataset.column_for("promotion")
        numeric = [v for v in values if v != value]
        exog = st.multiselect(
            "Regressors",
            list(dict.fromkeys([*([promo] if promo else []), *numeric])),
            key="fc_exog",
            help="Known drivers such as a promotion flag or price. ARIMA and gradient "
            "boosting use them; their future values repeat the same period of the last cycle.",
        )
    return {
        "agg": agg,
        "folds": int(folds),
        "models": tuple(models),
        "choice": choice,
        "outliers": outliers,
        "exog_cols": tuple(exog),
    }


def show(dataset: Dataset) -> tuple[forecast_data.Request, bool]:
    """The request the sidebar describes, and whether "Run forecast" was pressed."""
    values = forecast_data.value_columns(dataset)
    kpis = forecast_data.kpi_options(str(dataset.path), tuple(dataset.roles.items()), dataset)
    with st.sidebar:
        date_col = st.selectbox(
            "Date column", forecast_data.date_columns(dataset), key=f"fc_date_{dataset.name}"
        )
        value = st.selectbox(
            "Forecast",
            [*values, forecast_data.COUNT_ROWS, *kpis],
            key=f"fc_value_{dataset.name}",
            help="A column combined per period, the count of rows, or a KPI computed as on "
            "the KPIs page (distinct customers, average order value…).",
        )
        kpi = kpis.get(value)
        split = st.selectbox(
            "One series per",
            forecast_data.split_columns(dataset),
            key=f"fc_split_{dataset.name}",
            help="Forecast each SKU, category or region separately (not for KPIs).",
            disabled=kpi is not None,
        )
        if kpi is not None:
            split = forecast_data.NO_SPLIT
        freq = _frequency(dataset, date_col)
        horizon = st.number_input(
            "Horizon (periods)",
            min_value=1,
            max_value=366,
            value=forecast_data.DEFAULT_HORIZON[freq],
            key=f"fc_horizon_{freq}",
        )
        top = None
        if split != forecast_data.NO_SPLIT:
            top = st.number_input(
                "Largest series to forecast",
                min_value=1,
                max_value=2000,
                value=12,
                key="fc_top",
                help="Series are ranked by their total.",
            )
        options = _advanced(dataset, value, values)
        clicked = st.button(
            "Run forecast", type="primary", icon=":material/play_arrow:", key="fc_run_button"
        )
    if kpi is not None:  # ratios (AOV, margin %) are levels; counts and sums add up
        options["agg"] = "mean" if kpi_source.is_ratio(dataset, kpi) else "sum"
        options["exog_cols"] = ()
    request = forecast_data.Request(
        date_col=date_col,
        value_col=value if value in values else None,
        id_col=None if split == forecast_data.NO_SPLIT else split,
        top=int(top) if top else None,
        settings=ForecastSettings(horizon=int(horizon), freq=freq, **options),
        kpi=kpi,
    )
    return request, clicked
