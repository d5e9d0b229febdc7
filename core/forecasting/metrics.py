"""Forecast accuracy measures, as the M4 competition defines them.

* sMAPE: mean of 200·|y − ŷ| / (|y| + |ŷ|), from 0 to 200 (0/0 counts as 0).
* MASE: mean |y − ŷ| divided by the in-sample mean absolute error of the seasonal
  naive forecast (lag m; lag 1 when the history is not longer than one season).
* OWA: the mean of sMAPE and MASE each divided by Naive2's, so Naive2 scores 1.
* RMSE, bias (mean of ŷ − y: positive means over-forecasting) and interval coverage.
"""

from __future__ import annotations

import numpy as np


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent, 0-200."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        2 * np.abs(actual - forecast), denom, out=np.zeros_like(denom), where=denom > 0
    )
    return float(100 * ratio.mean())


def mase_scale(insample: np.ndarray, season_length: int) -> float:
    """Mean absolute error of the in-sample seasonal naive forecast (NaN if undefined)."""
    insample = np.asarray(insample, float)
    lag = season_length if len(insample) > season_length else 1
    if len(insample) <= lag:
        return float("nan")
    return float(np.mean(np.abs(insample[lag:] - insample[:-lag])))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: float) -> float:
    """Mean absolute error scaled by `scale` (see mase_scale); NaN when the scale is 0."""
    if not scale > 0:
        return float("nan")
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))) / scale)


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    diff = np.asarray(actual, float) - np.asarray(forecast, float)
    return float(np.sqrt(np.mean(diff**2)))


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of forecast minus actual: positive means the forecast was too high."""
    return float(np.mean(np.asarray(forecast, float) - np.asarray(actual, float)))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside [lower, upper]."""
    actual = np.asarray(actual, float)
    return float(np.mean((actual >= lower) & (actual <= upper)))


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average relative to Naive2 (1 = as good as Naive2)."""
    parts = []
    if smape_naive2 > 0 and np.isfinite(smape_value):
        parts.append(smape_value / smape_naive2)
    if mase_naive2 > 0 and np.isfinite(mase_value):
        parts.append(mase_value / mase_naive2)
    return float(np.mean(parts)) if parts else float("nan")
