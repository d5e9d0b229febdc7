"""Forecast downloads: CSV and Excel workbooks that are safe to open in a spreadsheet."""

from __future__ import annotations

import io

import pandas as pd

from core.data.export import frame_to_csv, neutralise
from core.forecasting.results import ForecastBatch

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def series_table(batch: ForecastBatch) -> pd.DataFrame:
    """One row per series: id, model, members, backtest scores, coverage, folds, why, notes."""
    rows = []
    for s in batch.series:
        chosen = s.leaderboard[s.leaderboard["chosen"]]
        first = chosen.iloc[0] if len(chosen) else None
        rows.append(
            {
                "id": s.id,
                "model": s.model_label,
                "members": ", ".join(s.members),
                "mase": None if first is None else first["mase"],
                "smape": None if first is None else first["smape"],
                "owa": None if first is None else first["owa"],
                "coverage80": s.coverage.get(80),
                "coverage95": s.coverage.get(95),
                "folds": s.folds,
                "why": s.why,
                "notes": " ".join(s.notes),
            }
        )
    return pd.DataFrame(rows)


def forecasts_csv(batch: ForecastBatch) -> bytes:
    """Every series' forecast with intervals, as CSV."""
    return frame_to_csv(batch.forecasts())


def backtest_csv(batch: ForecastBatch) -> bytes:
    """Every backtest row (all candidates), as CSV."""
    return frame_to_csv(batch.backtests())


def forecasts_excel(batch: ForecastBatch) -> bytes:
    """A workbook: forecasts, series (choices and scores), leaderboard, skipped series."""
    from openpyxl import Workbook

    sheets = {
        "forecasts": batch.forecasts(),
        "series": series_table(batch),
        "leaderboard": batch.leaderboards(),
        "skipped": pd.DataFrame(
            {"id": [s.id for s in batch.skipped], "reason": [s.reason for s in batch.skipped]}
        ),
    }
    workbook = Workbook(write_only=True)
    for title, frame in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append([neutralise(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
