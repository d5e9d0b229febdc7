"""What a forecast run returns: its settings, one result per series, and batch summaries."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting.series import Skipped

FORECAST_COLUMNS = ("ds", "yhat", "lo80", "hi80", "lo95", "hi95")


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    """Everything that decides a run's result (also its cache key and stored record).

    `models=()` means the automatic set; `freq=None` detects the frequency;
    `future_exog` says how regressors continue: "repeat_season" (same period of the
    last cycle), "last" (last value) or "zero".
    """

    horizon: int
    freq: str | None = None
    agg: str = "sum"
    models: tuple[str, ...] = ()
    folds: int = 3
    step: int | None = None
    combine: bool = True
    max_k: int = 3
    exog_cols: tuple[str, ...] = ()
    future_exog: str = "repeat_season"
    demand: bool | None = None
    outliers: str = "flag"
    global_model: bool = True
    choice: str = "pooled"

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class SeriesForecast:
    """The forecast of one series and the evidence behind it.

    * history: ds, y (aggregated; NaN = empty period), filled, outlier, value (modelled)
    * forecast: ds, yhat, lo80, hi80, lo95, hi95
    * leaderboard: candidate, label, kind, members, mase, smape, rmse, bias, owa,
      score, chosen (one row per model or combination, best first)
    * backtest: fold, origin, ds, step, actual, candidate, yhat, and for the chosen
      candidate lo80, hi80, lo95, hi95
    * coverage: backtested share of actuals inside the calibrated intervals, per level
    * alternatives: candidate, ds, yhat: every candidate's forecast, to compare
    """

    id: str
    freq: str
    model: str
    model_label: str
    members: tuple[str, ...]
    detail: str
    history: pd.DataFrame
    forecast: pd.DataFrame
    leaderboard: pd.DataFrame
    backtest: pd.DataFrame
    coverage: dict[int, float]
    interval_source: str
    folds: int
    why: str
    notes: tuple[str, ...] = ()
    alternatives: pd.DataFrame | None = None
    intermittent: bool = False

    @property
    def measure(self) -> str:
        """What the backtest score is: MASE for intermittent demand, else OWA."""
        return "MASE" if self.intermittent else "OWA (Naive2 = 1)"

    def backtest_scores(self) -> dict[str, dict[str, float | None]]:
        """{candidate: {"mase", "smape"}} as the CLI prints it (None for undefined)."""
        return {
            row.candidate: {"mase": _num(row.mase), "smape": _num(row.smape)}
            for row in self.leaderboard.itertuples()
        }


def _num(value: Any) -> float | None:
    """A JSON-safe number: NaN and infinities become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class ForecastBatch:
    """All series of one run, the ones skipped (and why), and run-level facts."""

    settings: ForecastSettings
    freq: str
    series: tuple[SeriesForecast, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({s.id: i for i, s in enumerate(self.series)})

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.series]

    def get(self, series_id: str) -> SeriesForecast:
        """The result of one series."""
        return self.series[self._index[series_id]]

    def forecasts(self) -> pd.DataFrame:
        """Every forecast: id, ds, yhat, lo80, hi80, lo95, hi95, model."""
        frames = [s.forecast.assign(id=s.id, model=s.model) for s in self.series]
        if not frames:
            return pd.DataFrame(columns=["id", *FORECAST_COLUMNS, "model"])
        out = pd.concat(frames, ignore_index=True)
        return out[["id", *FORECAST_COLUMNS, "model"]]

    def backtests(self) -> pd.DataFrame:
        """Every backtest row, with the series id first."""
        frames = [s.backtest.assign(id=s.id) for s in self.series if len(s.backtest)]
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        return out[["id", *[c for c in out.columns if c != "id"]]]

    def leaderboards(self) -> pd.DataFrame:
        """Every series' leaderboard, with the series id first."""
        frames = [s.leaderboard.assign(id=s.id) for s in self.series]
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        return out[["id", *[c for c in out.columns if c != "id"]]]

    def summary(self) -> pd.DataFrame:
        """Per candidate over all series: series, mean MASE and sMAPE, OWA and times chosen.

        OWA here is the M4 competition's: mean sMAPE and mean MASE over the series,
        each divided by Naive2's over the same series.
        """
        board = self.leaderboards()
        if board.empty:
            return pd.DataFrame(columns=["candidate", "label", "series", "mase", "smape", "owa"])
        grouped = board.groupby(["candidate", "label"], sort=False)
        out = grouped.agg(
            series=("id", "nunique"),
            mase=("mase", "mean"),
            smape=("smape", "mean"),
            chosen=("chosen", "sum"),
        ).reset_index()
        reference = board[board["candidate"] == "naive2"]
        if len(reference):
            base = reference[["mase", "smape"]].mean()
            out["owa"] = (out["smape"] / base["smape"] + out["mase"] / base["mase"]) / 2
        else:
            out["owa"] = np.nan
        return out.sort_values("owa", na_position="last").reset_index(drop=True)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON: {"series": [{id, freq, model, backtest, forecast}], ...}."""
        return {
            "series": [
                {
                    "id": s.id,
                    "freq": s.freq,
                    "model": s.model,
                    "backtest": s.backtest_scores(),
                    "forecast": [
                        {
                            "ds": row.ds.date().isoformat()
                            if row.ds == row.ds.normalize()
                            else row.ds.isoformat(),
                            **{c: _num(getattr(row, c)) for c in FORECAST_COLUMNS[1:]},
                        }
                        for row in s.forecast.itertuples()
                    ],
                }
                for s in self.series
            ],
            "skipped": [{"id": s.id, "reason": s.reason} for s in self.skipped],
        }
