"""Features for machine-learning forecasters: scaled lags and calendar positions.

Windows are scaled by the mean absolute value of their own recent history, so one
model can learn from (and forecast) series of any size: the target is y_t / scale_t.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPS = 1e-8


def calendar(index: pd.DatetimeIndex) -> np.ndarray:
    """Calendar columns that vary at the index's spacing (empty for yearly data)."""
    if len(index) < 2:
        return np.zeros((len(index), 0))
    spacing = float(np.median(np.diff(index.asi8))) / 86_400e9
    if spacing < 2:  # daily
        columns = [index.dayofweek, index.month, index.day]
    elif spacing < 10:  # weekly
        columns = [index.isocalendar().week.to_numpy(), index.month]
    elif spacing < 45:  # monthly
        columns = [index.month]
    elif spacing < 120:  # quarterly
        columns = [index.quarter]
    else:
        columns = []
    if not columns:
        return np.zeros((len(index), 0))
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])


def scale_of(window: np.ndarray) -> np.ndarray:
    """Mean absolute value of each row of a window matrix (never zero)."""
    return np.maximum(np.mean(np.abs(window), axis=-1), EPS)


def windows(values: np.ndarray, lags: int) -> np.ndarray:
    """Rows of `lags` consecutive values: row i holds values[i : i + lags]."""
    return np.lib.stride_tricks.sliding_window_view(values, lags)


def training_rows(
    values: np.ndarray, lags: int, scale_window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(scaled lag rows, scaled targets, target positions, scales) for one-step learning.

    Row for target position t holds y_{t-lags} .. y_{t-1}, divided by the mean absolute
    value of the last `scale_window` of them.
    """
    n = len(values)
    if n <= lags:
        return np.zeros((0, lags)), np.zeros(0), np.zeros(0, dtype=int), np.zeros(0)
    rows = windows(values[:-1], lags)
    targets = values[lags:]
    scale = scale_of(rows[:, -scale_window:])
    return rows / scale[:, None], targets / scale, np.arange(lags, n), scale
