"""KPI metrics as series to forecast: revenue, orders, customers, AOV… per period.

Uses the KPI feature's public functions (its metric registry and period series), so a
forecast of "customers" counts distinct customers per period exactly as the KPIs page
does. Periods the data cover only in part are left out, with a note.
"""

from __future__ import annotations

import pandas as pd

from core.data.catalog import Dataset
from core.errors import UserInputError
from core.forecasting import frequency
from core.forecasting.frequency import Frequency
from core.forecasting.query import DS, ID, ROWS, TOTAL, Y

GRAINS = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
}


def available(dataset: Dataset) -> dict[str, str]:
    """KPI metrics the dataset's column roles allow: key -> label."""
    from core.kpis.metrics import catalog
    from core.kpis.source import from_dataset

    return {key: metric.label for key, metric in catalog(from_dataset(dataset)).items()}


def is_ratio(dataset: Dataset, key: str) -> bool:
    """Whether the metric is a ratio or level (averaged), not a count or sum (added up)."""
    from core.kpis.metrics import catalog
    from core.kpis.source import from_dataset

    metric = catalog(from_dataset(dataset)).get(key)
    return bool(metric is not None and metric.gap)


def kpi_periods(con, dataset: Dataset, key: str, freq: str) -> tuple[pd.DataFrame, Frequency]:
    """One series (id "(total)") of the metric `key` per period of `freq`."""
    from core.kpis.metrics import catalog
    from core.kpis.periods import Window
    from core.kpis.queries import date_range, series
    from core.kpis.source import DuckRunner, from_dataset

    resolved = frequency.get(freq)
    source = from_dataset(dataset)
    metrics = catalog(source)
    if key not in metrics:
        choices = ", ".join(metrics) or "none (map the date and amount columns)"
        raise UserInputError(f"{dataset.name} has no KPI {key!r}: choose one of {choices}.")
    runner = DuckRunner(con, source)
    span = date_range(runner, source)
    if span is None:
        raise UserInputError(f"{dataset.name} has no dated rows to forecast.")
    frame = series(runner, source, [metrics[key]], GRAINS[resolved.name], Window(*span))
    notes = [
        f"The period from {row.period:%Y-%m-%d} is incomplete in the data and was left out."
        for row in frame[frame["partial"]].itertuples()
    ]
    frame = frame[~frame["partial"]]
    periods = pd.DataFrame(
        {
            ID: TOTAL,
            DS: pd.to_datetime(frame["period"]),
            Y: frame[key].astype(float).to_numpy(),
            ROWS: frame["rows_present"].to_numpy(),
        }
    ).reset_index(drop=True)
    periods.attrs["notes"] = notes
    return periods, resolved
