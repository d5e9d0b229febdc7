"""Forecasts: future demand or revenue per period, with ranges tested on the past."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from components import (
    dataset_picker,
    errors,
    forecast_charts,
    forecast_controls,
    forecast_data,
    forecast_saved,
    session,
)
from components.resources import services
from core.auth.roles import Role
from core.forecasting import export, runs

DATES = {"ds": st.column_config.DateColumn("Period", format="YYYY-MM-DD")}

user = session.require_role(Role.VIEWER, "Viewing forecasts")
svc = services()

st.title("Forecasts")
st.caption(
    "Forecast demand or revenue per period with 80% and 95% ranges, each model tested on "
    "the past before Beacon trusts it."
)

dataset = dataset_picker.show(user)
if dataset is None:
    st.stop()
if not dataset_picker.require_roles(dataset, ["date"], "Forecasting"):
    st.stop()

if not user.can(Role.ANALYST):  # viewers read saved runs; analysts run new ones
    saved = runs.list_runs(svc.store, user, dataset=dataset.name)
    if not saved:
        st.info(
            f"No forecast of {dataset.name} has been saved yet: ask an analyst to run and save one."
        )
        st.stop()
    forecast_saved.show(user, dataset, saved)
    st.stop()

request, clicked = forecast_controls.show(dataset)
if clicked:
    st.session_state["fc_request"] = request
if st.session_state.get("fc_request") != request:
    st.info("Choose what to forecast in the sidebar, then press **Run forecast**.")
    st.stop()

batch = forecast_data.cached(str(dataset.path), request)
if batch is None:
    with errors.shown():
        bar = st.progress(0.0, text="Backtesting and fitting models…")

        def report(done: int, total: int) -> None:
            bar.progress(done / total, text=f"Backtesting and fitting models: {done} of {total}")

        batch = forecast_data.forecast(str(dataset.path), request, dataset, report)
        bar.empty()
if batch is None:
    st.stop()

for note in batch.notes:
    st.caption(f":material/info: {note}")
if batch.skipped:
    with st.expander(f"{len(batch.skipped)} series skipped"):
        skipped = pd.DataFrame(
            {"series": [s.id for s in batch.skipped], "reason": [s.reason for s in batch.skipped]}
        )
        st.dataframe(skipped, hide_index=True, alt="Skipped series")

with st.sidebar:
    ids = batch.ids
    series_id = st.selectbox("Series", ids, key="fc_series") if len(ids) > 1 else ids[0]
result = batch.get(series_id)
unit = request.value_col or ""
history, fc = result.history, result.forecast
h = len(fc)
last = float(history["value"].iloc[-1])
previous = float(history["value"].iloc[-h:].sum()) if len(history) >= h else math.nan
chosen = result.leaderboard[result.leaderboard["chosen"]].iloc[0]


def change(new: float, old: float) -> str | None:
    """A percentage change, or None when there is nothing to compare with."""
    return f"{(new / old - 1) * 100:+.1f}%" if math.isfinite(old) and old > 0 else None


with st.container(horizontal=True):
    st.metric(
        "Next period",
        f"{fc['yhat'].iloc[0]:,.1f}",
        change(fc["yhat"].iloc[0], last),
        delta_description="vs the last period",
        border=True,
        chart_data=history["value"].iloc[-24:].round(2).tolist(),
        chart_type="line",
        help=f"{fc['ds'].iloc[0]:%Y-%m-%d}; 95% range {fc['lo95'].iloc[0]:,.1f} to "
        f"{fc['hi95'].iloc[0]:,.1f}. Sparkline: the last 24 periods.",
    )
    st.metric(
        f"Next {h} periods",
        f"{fc['yhat'].sum():,.0f}",
        change(fc["yhat"].sum(), previous),
        delta_description=f"vs the last {h} periods",
        border=True,
        chart_data=fc["yhat"].round(2).tolist(),
        chart_type="bar",
    )
    score = chosen["mase"] if result.intermittent else chosen["owa"]
    st.metric(
        "Backtest MASE" if result.intermittent else "Backtest OWA",
        "n/a" if pd.isna(score) else f"{score:.3f}",
        None if pd.isna(score) else round(score - 1, 3),
        delta_color="inverse",
        delta_description="vs seasonal naive (= 1)" if result.intermittent else "vs Naive2 (= 1)",
        border=True,
        help="OWA: mean of sMAPE and MASE relative to the Naive2 benchmark on the same folds.",
    )
    coverage = result.coverage.get(95)
    st.metric(
        "95% range coverage",
        "n/a" if coverage is None else f"{coverage:.0%}",
        None if coverage is None else round((coverage - 0.95) * 100, 1),
        delta_description="points vs nominal 95%",
        delta_color="off",
        border=True,
        help=f"Share of backtest values inside the calibrated 95% range; calibrated from "
        f"{result.interval_source}.",
    )

st.plotly_chart(
    forecast_charts.fan_chart(history, fc, title=f"{series_id}: history and forecast", unit=unit),
    key="fc_chart",
)
st.caption(f"**{result.model_label}**: {result.why}")
for note in result.notes:
    st.caption(f":material/info: {note}")
with st.container(horizontal=True):
    with st.popover("Table view", icon=":material/table:"):
        st.dataframe(fc, hide_index=True, alt=f"Forecast of {series_id}", column_config=DATES)
    for label, data, name, mime in (
        ("Forecasts CSV", export.forecasts_csv, "forecast.csv", "text/csv"),
        ("Forecasts Excel", export.forecasts_excel, "forecast.xlsx", export.XLSX),
        ("Backtest CSV", export.backtest_csv, "backtest.csv", "text/csv"),
    ):
        st.download_button(
            label,
            data=lambda data=data: data(batch),
            file_name=f"{dataset.name}_{name}",
            mime=mime,
            key=f"fc_download_{name}",
            icon=":material/download:",
        )

tabs = st.tabs(["Leaderboard", "Backtest", "Diagnostics", "All series", "Saved runs"])
with tabs[0]:
    st.plotly_chart(
        forecast_charts.leaderboard_chart(result.leaderboard, measure=result.measure),
        key="fc_leaderboard",
    )
    st.dataframe(
        result.leaderboard,
        hide_index=True,
        alt="Leaderboard",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in ("mase", "smape", "rmse", "bias", "owa", "score")
        },
    )
with tabs[1]:
    if result.folds == 0:
        st.info("The history is too short for a backtest.")
    else:
        st.plotly_chart(
            forecast_charts.backtest_chart(
                history,
                result.backtest,
                result.model,
                title=f"Backtest of {result.model_label}",
                unit=unit,
            ),
            key="fc_backtest",
        )
        st.dataframe(
            pd.DataFrame(
                {
                    "nominal": ["80%", "95%"],
                    "backtested coverage": [result.coverage.get(80), result.coverage.get(95)],
                }
            ),
            hide_index=True,
            alt="Interval coverage",
            column_config={"backtested coverage": st.column_config.NumberColumn(format="percent")},
        )
        st.caption(f"Intervals calibrated from {result.interval_source}.")
with tabs[2]:
    if result.folds:
        left, right = st.columns(2)
        left.plotly_chart(
            forecast_charts.errors_by_step(result.backtest, result.model, unit=unit),
            key="fc_errors",
        )
        right.plotly_chart(
            forecast_charts.residual_histogram(result.backtest, result.model, unit=unit),
            key="fc_hist",
        )
    flagged = history[history["outlier"] | history["filled"]]
    st.caption(
        f"{int(history['outlier'].sum())} outlier(s) and {int(history['filled'].sum())} "
        "filled period(s):"
    )
    st.dataframe(flagged, hide_index=True, alt="Outliers and filled periods", column_config=DATES)
with tabs[3]:
    st.dataframe(export.series_table(batch), hide_index=True, alt="All series")
    st.caption("Every model and combination over all series (OWA as in the M4 competition):")
    st.dataframe(batch.summary(), hide_index=True, alt="Candidates over all series")
with tabs[4]:
    forecast_saved.save_panel(user, dataset, batch, request)
