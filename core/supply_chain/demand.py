"""Demand per SKU for inventory policy: mean per period over the horizon and its error.

Orders (sku, date, quantity) are summed into periods (weeks by default, starting on
Monday). Three ways to forecast, each giving per SKU the mean demand per period over
the horizon and the standard deviation of the forecast error per period (sigma_d in
the safety-stock formula):

* mode="fast" (default): the vectorised model set of `fast_models` (seasonal naive,
  SES, Holt for smooth demand; Croston, TSB for intermittent demand), the best or the
  mean of the two best per SKU by a one-fold holdout; the error is that forecast's
  holdout RMSE. Seconds for 10,000 SKUs.
* mode="full": `core.forecasting.forecast_many` (the full model zoo with a rolling
  backtest, intervals and model choice) for the SKUs asked for; the error is the RMSE
  of the chosen model over its backtest forecasts. Minutes for hundreds of SKUs.
* saved_run: a saved forecast run (core.forecasting.runs) of the same orders by SKU
  at the same frequency. Runs store forecasts and calibrated intervals, not the
  backtest errors, so the error is read back from the first step's 95% interval,
  (hi95 - lo95) / (2 * 1.96), which the run calibrated on its backtest. SKUs missing
  from the run are forecast with the fast set.

Periods before a SKU's first order are not history (a new SKU is not a slow one);
empty periods after it are zero demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.auth.roles import User
from core.errors import UserInputError
from core.forecasting import frequency
from core.forecasting.frequency import Frequency
from core.forecasting.runs import RunSummary, SavedRun, list_runs
from core.store import Store
from core.supply_chain import fast_models

MODES = ("fast", "full")
FREQ_ALIASES = {"D": "daily", "W": "weekly", "M": "monthly"}
MAX_HORIZON = 104
MAX_FULL_SKUS = 500  # the full zoo takes about a second per SKU on two cores
Z95 = 1.959963984540054
# pandas period aliases whose start matches each frequency's period starts (weeks: Monday)
_PERIODS = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q", "yearly": "Y"}
_LAST_DAY = {  # from a period's start to its last day
    "weekly": pd.DateOffset(days=6),
    "monthly": pd.offsets.MonthEnd(0),
    "quarterly": pd.offsets.QuarterEnd(0),
    "yearly": pd.offsets.YearEnd(0),
}
TABLE_COLUMNS = (
    "sku",
    "model",
    "demand_mean",
    "demand_std",
    "periods",
    "mean_history",
    "cv",
    "last_date",
)


@dataclass(frozen=True, slots=True)
class DemandForecast:
    """Demand per SKU. `table`: sku, model, demand_mean and demand_std (units per period),
    periods (of history), mean_history, cv (std/mean of history per period), last_date
    (start of the last period with data), source ("fast", "full" or "saved run N")."""

    table: pd.DataFrame
    freq: str
    period_days: float
    horizon: int
    mode: str
    notes: tuple[str, ...] = ()
    history: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def periods_per_year(self) -> float:
        return 365.25 / self.period_days

    def get(self, sku: str) -> pd.Series:
        """The row of one SKU."""
        rows = self.table[self.table["sku"] == sku]
        if rows.empty:
            raise UserInputError(f"There is no demand forecast for SKU {sku!r}.")
        return rows.iloc[0]


def resolve_freq(freq: str) -> Frequency:
    """A Frequency from "D", "W", "M" or a frequency name ("weekly")."""
    return frequency.get(FREQ_ALIASES.get(freq, freq))


def _period_start(dates: pd.Series, freq: Frequency) -> pd.Series:
    dates = pd.to_datetime(dates, errors="coerce")
    if freq.name == "daily":
        return dates.dt.normalize()
    return dates.dt.to_period(_PERIODS[freq.name]).dt.start_time


def _incomplete_end(dates: pd.Series, periods: pd.DatetimeIndex, freq: Frequency) -> bool:
    """True when daily (finer) data stops before the last period's last day."""
    if freq.name == "daily" or len(periods) <= 2:
        return False
    days = pd.Series(pd.to_datetime(dates, errors="coerce").dropna().dt.normalize().unique())
    gap = days.sort_values().diff().dt.days.median()
    if not gap < freq.days * 0.9:  # data already in periods like these, dated at their start
        return False
    return days.max() < periods[-1] + _LAST_DAY[freq.name]


def demand_matrix(
    orders: pd.DataFrame, freq: Frequency
) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """SKUs (sorted), a SKUs x periods array of units (NaN before each first order), periods."""
    missing = [c for c in ("sku", "date", "quantity") if c not in orders.columns]
    if missing:
        raise UserInputError(
            f"Orders need the columns sku, date and quantity: {missing[0]!r} is missing."
        )
    frame = pd.DataFrame(
        {
            "sku": orders["sku"].astype(str),
            "start": _period_start(orders["date"], freq),
            "quantity": pd.to_numeric(orders["quantity"], errors="coerce"),
        }
    ).dropna()
    if frame.empty:
        raise UserInputError("The orders hold no rows with a SKU, a date and a quantity.")
    periods = pd.date_range(frame["start"].min(), frame["start"].max(), freq=freq.offset)
    if _incomplete_end(orders["date"], periods, freq):
        # An incomplete last period would read as a drop in demand.
        frame = frame[frame["start"] < periods[-1]]
        periods = periods[:-1]
    skus, sku_index = np.unique(frame["sku"].to_numpy(), return_inverse=True)
    col = periods.get_indexer(frame["start"])
    Y = np.zeros((len(skus), len(periods)))
    np.add.at(Y, (sku_index, col), frame["quantity"].to_numpy(float))
    first = np.full(len(skus), len(periods))
    np.minimum.at(first, sku_index, col)
    Y[np.arange(len(periods))[None, :] < first[:, None]] = np.nan
    return skus, np.maximum(Y, 0.0, where=~np.isnan(Y), out=Y), periods


def _history_table(skus: np.ndarray, Y: np.ndarray, periods: pd.DatetimeIndex) -> pd.DataFrame:
    valid = ~np.isnan(Y)
    count = valid.sum(axis=1)
    mean, std = fast_models._moments(Y)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, std / mean, np.nan)
    sold = valid & (np.nan_to_num(Y) > 0)
    last = np.where(sold.any(axis=1), Y.shape[1] - 1 - np.argmax(sold[:, ::-1], axis=1), -1)
    last_date = pd.Series(pd.NaT, index=range(len(skus)), dtype="datetime64[ns]")
    last_date[last >= 0] = periods[last[last >= 0]]
    return pd.DataFrame(
        {"sku": skus, "periods": count, "mean_history": mean, "cv": cv, "last_date": last_date}
    )


def _fast(skus: np.ndarray, Y: np.ndarray, horizon: int, freq: Frequency) -> pd.DataFrame:
    holdout = min(horizon, max(Y.shape[1] // 4, 1))
    fit = fast_models.select(Y, horizon, freq.season_length, holdout)
    return pd.DataFrame(
        {
            "sku": skus,
            "model": fit.model.astype(str),
            "demand_mean": fit.forecast.mean(axis=1),
            "demand_std": fit.sigma,
            "source": "fast",
        }
    )


def _full(
    orders: pd.DataFrame, skus: Sequence[str], horizon: int, freq: Frequency, n_jobs: int
) -> tuple[pd.DataFrame, list[str]]:
    from core.forecasting.batch import forecast_many  # heavy: imported only when used

    frame = orders.loc[orders["sku"].astype(str).isin(set(skus)), ["sku", "date", "quantity"]]
    frame = frame.assign(sku=frame["sku"].astype(str), date=pd.to_datetime(frame["date"]))
    batch = forecast_many(frame, "sku", "date", "quantity", horizon, freq=freq.name, n_jobs=n_jobs)
    rows = []
    for s in batch.series:
        chosen = s.backtest[s.backtest["candidate"] == s.model] if len(s.backtest) else s.backtest
        errors = (chosen["actual"] - chosen["yhat"]).to_numpy(float) if len(chosen) else []
        errors = np.asarray(errors)[np.isfinite(errors)]
        sigma = float(np.sqrt(np.mean(errors**2))) if len(errors) else np.nan
        if not np.isfinite(sigma):  # no backtest: the first step's interval width
            first = s.forecast.iloc[0]
            sigma = float(first.hi95 - first.lo95) / (2 * Z95)
        mean = float(np.clip(s.forecast["yhat"].to_numpy(float), 0, None).mean())
        rows.append(
            {
                "sku": s.id,
                "model": s.model,
                "demand_mean": mean,
                "demand_std": sigma,
                "source": "full",
            }
        )
    notes = [
        f"SKU {k.id} was not forecast by the full model set: {k.reason}." for k in batch.skipped
    ]
    return pd.DataFrame(
        rows, columns=["sku", "model", "demand_mean", "demand_std", "source"]
    ), notes


def _from_saved(run: SavedRun, horizon: int, freq: Frequency) -> tuple[pd.DataFrame, list[str]]:
    if run.info.freq != freq.name:
        return pd.DataFrame(), [
            f"Saved run {run.info.id} is {run.info.freq}, not {freq.name}: "
            "demand was forecast anew."
        ]
    points = run.forecasts.sort_values(["id", "ds"]).groupby("id", sort=False).head(horizon)
    grouped = points.groupby("id", sort=False)
    first = grouped.first()
    out = pd.DataFrame(
        {
            "sku": grouped["yhat"].mean().index.astype(str),
            "model": run.series.set_index("id")["model"].reindex(first.index).fillna("").to_numpy(),
            "demand_mean": grouped["yhat"]
            .apply(lambda v: float(np.clip(v, 0, None).mean()))
            .to_numpy(),
            "demand_std": ((first["hi95"] - first["lo95"]) / (2 * Z95)).to_numpy(float),
            "source": f"saved run {run.info.id}",
        }
    )
    notes = []
    if run.info.horizon < horizon:
        notes.append(
            f"Saved run {run.info.id} forecasts {run.info.horizon} periods, "
            f"fewer than the horizon of {horizon}: its mean covers those."
        )
    return out, notes


def forecast_demand(
    orders_df: pd.DataFrame,
    *,
    freq: str = "W",
    horizon: int = 13,
    mode: str = "fast",
    saved_run: SavedRun | None = None,
    n_jobs: int = 2,
    skus: Sequence[str] | None = None,
) -> DemandForecast:
    """Mean demand per period over `horizon` periods and its error std, per SKU.

    `skus` limits the SKUs (mode="full" needs it beyond MAX_FULL_SKUS SKUs).
    """
    if mode not in MODES:
        raise UserInputError(f"The demand mode is {' or '.join(MODES)}, got {mode!r}.")
    if not 1 <= int(horizon) <= MAX_HORIZON:
        raise UserInputError(f"The horizon must be between 1 and {MAX_HORIZON} periods.")
    resolved = resolve_freq(freq)
    if orders_df is None or orders_df.empty:
        raise UserInputError("There are no orders to forecast demand from.")
    if skus is not None:
        orders_df = orders_df[orders_df["sku"].astype(str).isin({str(s) for s in skus})]
    sku_ids, Y, periods = demand_matrix(orders_df, resolved)
    history = _history_table(sku_ids, Y, periods)
    notes: list[str] = []
    # Rows after the last complete period stay out of every model, the full zoo too.
    end = periods[-1] + pd.tseries.frequencies.to_offset(resolved.offset)
    orders_df = orders_df[pd.to_datetime(orders_df["date"], errors="coerce") < end]
    if mode == "full":
        if len(sku_ids) > MAX_FULL_SKUS:
            raise UserInputError(
                f"The full model set runs on at most {MAX_FULL_SKUS} SKUs: choose SKUs "
                "or use the fast set."
            )
        found, extra = _full(orders_df, sku_ids, horizon, resolved, n_jobs)
    elif saved_run is not None:
        found, extra = _from_saved(saved_run, horizon, resolved)
    else:
        found, extra = pd.DataFrame(), []
    notes += extra
    done = set(found["sku"]) if len(found) else set()
    rest = np.array([s not in done for s in sku_ids], dtype=bool)
    parts = [found] if len(found) else []
    if rest.any():
        parts.append(_fast(sku_ids[rest], Y[rest], int(horizon), resolved))
        if mode == "full" or saved_run is not None:
            notes.append(f"{int(rest.sum())} SKUs were forecast with the fast model set.")
    demand = pd.concat(parts, ignore_index=True)
    table = history.merge(demand, on="sku", how="left")
    table = table[[*TABLE_COLUMNS, "source"]].sort_values("sku", ignore_index=True)
    return DemandForecast(
        table=table,
        freq=resolved.name,
        period_days=resolved.days,
        horizon=int(horizon),
        mode=mode if saved_run is None or mode == "full" else "saved",
        notes=tuple(notes),
        history=pd.DataFrame(Y, index=sku_ids, columns=periods),
    )


def find_saved_run(
    store: Store, user: User, dataset: str, sku_column: str, freq: str = "W"
) -> RunSummary | None:
    """The newest saved forecast run of `dataset` per SKU at `freq`, if any (its summary).

    Runs are saved on the Forecasts page or with `python -m core forecast --save`; one
    forecast per SKU column of the orders at the policy's period can stand in for the
    fast model set (its error then comes from the run's calibrated 95% interval).
    """
    wanted = resolve_freq(freq).name
    return next(
        (
            run
            for run in list_runs(store, user, dataset=dataset)
            if run.freq == wanted and run.source.get("id_col") == sku_column
        ),
        None,
    )
