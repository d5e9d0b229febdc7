"""Saved forecast runs on the Forecasts page: reading one (viewers) and saving one (analysts)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import downloads, errors, forecast_charts, forecast_data
from components.resources import services
from core.auth.roles import User
from core.data.catalog import Dataset
from core.forecasting import runs
from core.forecasting.results import ForecastBatch
from core.forecasting.runs import RunSummary


def show(user: User, dataset: Dataset, saved: list[RunSummary]) -> None:
    """Pick a saved run of `dataset` and show one series: cards, fan chart, table, download."""
    with st.sidebar:
        labels = {
            r.id: f"{r.name} · {r.created_at:%Y-%m-%d} · {r.series_count} series" for r in saved
        }
        run_id = st.selectbox("Saved forecast", list(labels), format_func=labels.get, key="fc_run")
    record = runs.get_run(services().store, user, int(run_id))
    source = tuple(record.source.get(k) for k in ("date_col", "value_col", "id_col", "kpi"))
    history = forecast_data.saved_history(
        str(dataset.path), source, record.info.freq, record.settings.get("agg", "sum"), dataset
    )
    with st.sidebar:
        series_id = st.selectbox(
            "Series", record.series["id"].tolist(), key=f"fc_saved_series_{run_id}"
        )
    row = record.series.set_index("id").loc[series_id]
    points = record.forecasts[record.forecasts["id"] == series_id]
    past = history[history["id"] == series_id].rename(columns={"y": "value"})
    past = past.assign(value=past["value"].fillna(0.0), outlier=False, filled=False)
    with st.container(horizontal=True):
        st.metric("Next period", f"{points['yhat'].iloc[0]:,.1f}", border=True)
        st.metric(f"Next {len(points)} periods", f"{points['yhat'].sum():,.0f}", border=True)
        owa = row["owa"]
        st.metric(
            "Backtest OWA",
            "n/a" if pd.isna(owa) else f"{owa:.3f}",
            border=True,
            help="Mean of sMAPE and MASE relative to Naive2 (1 = as good as Naive2).",
        )
    st.plotly_chart(
        forecast_charts.fan_chart(past, points, title=f"{series_id}: history and forecast"),
        key="fc_saved_chart",
    )
    st.caption(
        f"Saved by {record.info.created_by} on {record.info.created_at:%Y-%m-%d}. "
        f"**{row['model_label']}**: {row['why']}"
    )
    with st.container(horizontal=True):
        with st.popover("Table view", icon=":material/table:"):
            st.dataframe(points, hide_index=True, alt=f"Saved forecast of {series_id}")
        downloads.table_csv(
            record.forecasts,
            f"forecast_run_{run_id}.csv",
            key="fc_saved_csv",
            label="Forecasts CSV",
        )
    st.dataframe(record.series, hide_index=True, alt="Series of the saved run")


def save_panel(
    user: User, dataset: Dataset, batch: ForecastBatch, request: forecast_data.Request
) -> None:
    """Save the current run under a name; list the dataset's saved runs."""
    svc = services()
    with st.form("fc_save"):
        name = st.text_input(
            "Name",
            value=f"{dataset.name} {request.settings.freq} h{request.settings.horizon}",
            key="fc_save_name",
        )
        if st.form_submit_button("Save this run", icon=":material/save:"):
            with errors.shown():
                saved = runs.save_run(
                    svc.store,
                    user,
                    batch,
                    name=name,
                    dataset=dataset.name,
                    dataset_version=dataset.version,
                    source={
                        "date_col": request.date_col,
                        "value_col": request.value_col,
                        "id_col": request.id_col,
                        "kpi": request.kpi,
                    },
                )
                st.toast(f"Saved run {saved.id}: {saved.name}.")
    table = pd.DataFrame(
        [
            {
                "run": r.id,
                "name": r.name,
                "series": r.series_count,
                "horizon": r.horizon,
                "frequency": r.freq,
                "saved by": r.created_by,
                "saved at": r.created_at,
            }
            for r in runs.list_runs(svc.store, user, dataset=dataset.name)
        ]
    )
    st.dataframe(table, hide_index=True, alt="Saved forecast runs")
    st.caption("Supply chain and workflows reuse saved runs.")
