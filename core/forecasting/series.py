"""From aggregated periods to series ready to model: regular, gap-filled, checked.

Gaps are filled by what the series is: a *flow* (sales, demand, counts: the sum of
what happened) had nothing in an empty period, so it is 0, and every flow series runs
to the last period of the batch (a product that stopped selling has zeros at the end);
a *level* (price, stock, a mean) is unknown in an empty period, so it is interpolated.
Demand cannot be negative: negative values (returns) are set to 0, with a notice.
Each change is counted in the series' notes, which pages show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.forecasting import outliers as outlier_rules
from core.forecasting.forecasters.intermittent import is_intermittent
from core.forecasting.frequency import Frequency
from core.forecasting.query import DS, ID, Y

MIN_POINTS = 3


@dataclass(frozen=True, slots=True)
class PreparedSeries:
    """One series ready for the models, and what was done to get it there.

    `history` has ds, y (after aggregation; NaN where the period was empty), filled
    (bool), outlier (bool) and value (what the models see).
    """

    id: str
    freq: Frequency
    y: pd.Series
    history: pd.DataFrame
    nature: str
    intermittent: bool
    notes: tuple[str, ...]
    X: np.ndarray | None = None
    exog_names: tuple[str, ...] = ()

    @property
    def constant(self) -> bool:
        return bool(np.ptp(self.y.to_numpy()) == 0)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A series that could not be forecast, and why."""

    id: str
    reason: str


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def prepare(
    periods: pd.DataFrame,
    freq: Frequency,
    *,
    nature: str,
    demand: bool = False,
    outliers: str = "flag",
    exog_cols: Sequence[str] = (),
) -> tuple[list[PreparedSeries], list[Skipped]]:
    """Turn aggregated periods (columns id, ds, y, rows, exog...) into prepared series."""
    if outliers not in outlier_rules.MODES:
        raise ValueError(f"outliers must be one of {outlier_rules.MODES}")
    end = periods[DS].max() if len(periods) else None
    prepared: list[PreparedSeries] = []
    skipped: list[Skipped] = []
    for series_id, part in periods.groupby(ID, sort=True):
        result = _one(str(series_id), part, freq, end, nature, demand, outliers, tuple(exog_cols))
        (prepared if isinstance(result, PreparedSeries) else skipped).append(result)
    return prepared, skipped


def _one(series_id, part, freq, end, nature, demand, outliers, exog_cols):
    part = part.sort_values(DS)
    observed = part[Y].notna()
    if not observed.any():
        return Skipped(series_id, "it has no values")
    first = part.loc[observed, DS].iloc[0]
    last = end if nature == "flow" else part.loc[observed, DS].iloc[-1]
    index = pd.date_range(first, last, freq=freq.offset)
    if len(index) == 0 or index[0] != first:
        return Skipped(series_id, "its dates do not fall on period starts")
    frame = part.set_index(DS).reindex(index)
    raw = frame[Y].to_numpy(dtype=float)
    notes: list[str] = []
    missing = np.isnan(raw)
    if nature == "flow":
        values = np.where(missing, 0.0, raw)
        if missing.any():
            notes.append(f"{_plural(int(missing.sum()), 'empty period')} counted as 0.")
    else:
        values = pd.Series(raw).interpolate(limit_direction="both").to_numpy()
        if missing.any():
            notes.append(f"{_plural(int(missing.sum()), 'missing period')} interpolated.")
    if demand and np.any(values < 0):
        negative = int(np.sum(values < 0))
        values = np.clip(values, 0, None)
        notes.append(f"{_plural(negative, 'negative value')} (returns) set to 0: demand is ≥ 0.")
    if len(values) < MIN_POINTS:
        return Skipped(
            series_id,
            f"it has {_plural(len(values), 'period')}; forecasting needs at least {MIN_POINTS}",
        )
    intermittent = demand and is_intermittent(values)
    flagged = np.zeros(len(values), dtype=bool)
    if outliers != "off" and not intermittent:
        found = outlier_rules.detect(values, freq.season_length)
        flagged = found.mask
        if found.count and outliers == "treat":
            values = found.treated(values)
            notes.append(f"{_plural(found.count, 'outlier')} replaced by the seasonal baseline.")
        elif found.count:
            notes.append(f"{_plural(found.count, 'outlier')} flagged (not changed).")
    if np.all(values == 0):
        notes.append("Every value is 0: the forecast is 0.")
    elif np.ptp(values) == 0:
        notes.append("Every value is the same: the forecast repeats it.")
    history = pd.DataFrame(
        {
            "ds": index,
            "y": raw,
            "filled": missing,
            "outlier": flagged,
            "value": values,
        }
    )
    X = None
    if exog_cols:
        exog = frame[list(exog_cols)].astype(float)
        X = exog.interpolate(limit_direction="both").fillna(0.0).to_numpy()
    y = pd.Series(values, index=pd.DatetimeIndex(index, freq=freq.offset), name=series_id)
    return PreparedSeries(
        series_id, freq, y, history, nature, intermittent, tuple(notes), X, tuple(exog_cols)
    )
