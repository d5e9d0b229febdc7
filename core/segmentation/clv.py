"""Customer lifetime value over a horizon: BG/NBD purchases x Gamma-Gamma spend.

Inputs come from the customer table: x = purchase days - 1 (several orders on one day are
one purchase, which is how the published CDNOW parameters are reproduced), t_x = days
from the first to the last purchase day, T = days from the first purchase day to the
as-of date, both in the chosen time unit, and m_x = average spend per repeat purchase
day. Values are undiscounted: expected purchases in the horizon times expected spend.
A customer with one purchase (or all of it on one day) has x = 0: P(alive) is 1 by the
model's assumption, and their expected spend is the population mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import UserInputError
from core.segmentation import bgnbd, gamma_gamma

TIME_UNITS = {"days": 1.0, "weeks": 7.0}


@dataclass(frozen=True, slots=True)
class ClvResult:
    """The fitted models and per-customer predictions.

    customers columns: customer_id, x, t_x, T, m_x, expected_purchases, p_alive,
    expected_spend, clv.
    """

    time_unit: str
    horizon: float
    bgnbd: bgnbd.BgNbdFit
    gamma_gamma: gamma_gamma.GammaGammaFit | None
    customers: pd.DataFrame
    notes: tuple[str, ...]

    def params(self) -> dict[str, float | None]:
        """All seven parameters by their usual names (r, alpha, a, b, p, q, v)."""
        b = self.bgnbd.params
        g = self.gamma_gamma.params if self.gamma_gamma else None
        return {
            "r": b.r,
            "alpha": b.alpha,
            "a": b.a,
            "b": b.b,
            "p": g.p if g else None,
            "q": g.q if g else None,
            "v": g.v if g else None,
        }

    def params_frame(self) -> pd.DataFrame:
        """Parameters with standard errors (BG/NBD): columns parameter, value, std_error, model."""
        values = self.params()
        errors = self.bgnbd.std_errors
        return pd.DataFrame(
            {
                "parameter": list(values),
                "value": list(values.values()),
                "std_error": [
                    getattr(errors, name) if errors is not None and name in bgnbd.PARAMS else None
                    for name in values
                ],
                "model": ["BG/NBD"] * 4 + ["Gamma-Gamma"] * 3,
            }
        )


def inputs(customers: pd.DataFrame, time_unit: str = "weeks") -> pd.DataFrame:
    """x, t_x, T and m_x per customer from a customer table (see load_customers)."""
    if time_unit not in TIME_UNITS:
        raise UserInputError(f"The time unit is days or weeks, not {time_unit!r}.")
    unit = TIME_UNITS[time_unit]
    x = customers["purchase_days"].to_numpy(dtype=np.float64) - 1
    span = (customers["last_date"] - customers["first_date"]).dt.days.to_numpy(dtype=np.float64)
    spend = customers["repeat_spend"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_x = np.where(x > 0, spend / np.where(x > 0, x, 1.0), 0.0)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "x": x,
            "t_x": span / unit,
            "T": customers["tenure_days"].to_numpy(dtype=np.float64) / unit,
            "m_x": m_x,
        }
    )


def estimate(customers: pd.DataFrame, time_unit: str = "weeks", horizon: float = 52) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma, then predict purchases, P(alive) and value per customer."""
    if horizon <= 0:
        raise UserInputError("The lifetime-value horizon must be a positive number of periods.")
    data = inputs(customers, time_unit)
    x, t_x, T = data["x"].to_numpy(), data["t_x"].to_numpy(), data["T"].to_numpy()
    frequency_fit = bgnbd.fit(x, t_x, T)
    notes = []
    if not frequency_fit.converged:
        notes.append("The BG/NBD fit did not fully converge: treat its predictions with care.")
    params = frequency_fit.params
    purchases = bgnbd.expected_purchases(params, horizon, x, t_x, T)
    alive = bgnbd.p_alive(params, x, t_x, T)
    m_x = data["m_x"].to_numpy()
    spenders = (x > 0) & (m_x > 0)
    observed_mean = float(
        np.mean(m_x[spenders]) if spenders.any() else customers["aov"].clip(lower=0).mean()
    )
    spend_fit = None
    if spenders.sum() >= 3:
        spend_fit = gamma_gamma.fit(x[spenders], m_x[spenders])
        spend = gamma_gamma.expected_spend(
            spend_fit.params, np.where(spenders, x, 0), m_x, observed_mean
        )
        if spend_fit.params.population_mean is None:
            notes.append(
                "Gamma-Gamma q <= 1 (no finite mean spend): customers without repeat purchases "
                "get the observed average repeat spend."
            )
    else:
        spend = np.where(spenders, m_x, observed_mean)
        notes.append(
            "Too few repeat buyers with positive spend for Gamma-Gamma: spend is each "
            "customer's own average."
        )
    zero_day = int(((customers["purchase_days"] == 1) & (customers["orders"] > 1)).sum())
    if zero_day:
        notes.append(
            f"{zero_day:,} customers placed all their orders on one day: they count as one "
            "purchase (no repeat yet)."
        )
    frame = data.assign(
        expected_purchases=purchases,
        p_alive=alive,
        expected_spend=spend,
        clv=purchases * spend,
    )
    return ClvResult(time_unit, float(horizon), frequency_fit, spend_fit, frame, tuple(notes))
