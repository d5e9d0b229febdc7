"""Known answers of the models: baselines, Theta's SES, Croston/SBA/TSB, ARIMA, seasonality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.forecasting.forecasters import MODELS
from core.forecasting.forecasters.arima import Arima, kpss_differences
from core.forecasting.forecasters.smoothing import fit_ses, levels
from core.forecasting.seasonality import decompose, is_seasonal, seasonal_part


def monthly(values) -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.date_range("2020-01-01", periods=len(values), freq="MS"))


def fit(name: str, y, m: int = 1, h: int = 4):
    return MODELS[name].build(m).fit(monthly(y)).predict(h)


def test_naive_seasonal_naive_and_drift_by_hand():
    naive = fit("naive", [1, 2, 4, 7], h=3)
    assert naive.mean.tolist() == [7, 7, 7]
    rms = np.sqrt((1 + 4 + 9) / 3)  # steps 1, 2, 3
    assert naive.sigma == pytest.approx(rms * np.sqrt([1, 2, 3]))

    snaive = fit("seasonal_naive", [1, 2, 3, 4, 5, 6, 7, 8], m=4, h=6)
    assert snaive.mean.tolist() == [5, 6, 7, 8, 5, 6]
    assert snaive.sigma == pytest.approx([4, 4, 4, 4, 4 * np.sqrt(2), 4 * np.sqrt(2)])

    drift = fit("drift", [1, 3, 5, 10], h=2)  # slope (10 - 1) / 3 = 3
    assert drift.mean.tolist() == [13, 16]
    # residuals [2, 2, 5] - 3 -> rms √2; growth √(h(1 + h/(T-1)))
    assert drift.sigma == pytest.approx(np.sqrt(2) * np.sqrt([1 * (1 + 1 / 3), 2 * (1 + 2 / 3)]))


def test_naive2_reseasonalises_the_last_adjusted_value():
    season = np.array([0.8, 1.2, 0.9, 1.1])
    y = 100 * np.tile(season, 8)  # flat level, perfect multiplicative season, 8 cycles
    prediction = fit("naive2", y, m=4, h=4)
    assert prediction.mean == pytest.approx([80, 120, 90, 110])
    # Not seasonal (m = 1): plain naive.
    assert fit("naive2", [3, 1, 2], m=1, h=2).mean.tolist() == [2, 2]


def test_seasonal_test_and_decomposition_recover_a_synthetic_season():
    rng = np.random.default_rng(1)
    t = np.arange(72)
    season = 1 + 0.25 * np.sin(2 * np.pi * t / 12)
    y = 200 * season * (1 + rng.normal(0, 0.02, 72))
    assert is_seasonal(y, 12)
    found = decompose(y, 12)
    assert found.multiplicative
    assert found.indices == pytest.approx(season[:12] / season[:12].mean(), abs=0.02)
    noise = rng.normal(100, 5, 72)
    assert not is_seasonal(noise, 12)
    assert seasonal_part(noise, 12).season_length == 1
    # A strong trend hides the season from M4's test; the detrended test still finds it.
    trending = 100 + 3 * t + 20 * np.sin(2 * np.pi * t / 12)
    assert is_seasonal(trending, 12, detrend=True)


@pytest.mark.parametrize("name", ["theta", "ets_sa", "arima"])
def test_models_forecast_the_season_of_a_synthetic_series(name):
    rng = np.random.default_rng(2)
    t = np.arange(84)
    pattern = 1 + 0.3 * np.sin(2 * np.pi * t / 12)
    y = 500 * pattern * (1 + rng.normal(0, 0.02, 84))
    future = 500 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(84, 96) / 12))
    prediction = fit(name, y, m=12, h=12)
    assert np.corrcoef(prediction.mean, future)[0, 1] > 0.97
    assert np.mean(np.abs(prediction.mean / future - 1)) < 0.05
    assert np.all(prediction.sigma > 0)


def test_ses_levels_match_the_recursion_and_the_fit_minimises_squared_errors():
    y = np.array([3.0, 5, 4, 6, 8, 7])
    path = levels(y, 0.3, 2.0)
    expected, level = [], 2.0
    for value in y:
        level = 0.3 * value + 0.7 * level
        expected.append(level)
    assert path == pytest.approx(expected)
    fitted = fit_ses(y)
    sse = float(fitted.residuals @ fitted.residuals)
    for alpha in (0.1, 0.5, 0.9):  # no other weight (with its best start) does better
        other = fit_ses(y, alpha)
        assert sse <= float(other.residuals @ other.residuals) + 1e-9


def test_theta_is_ses_plus_half_the_trend_slope():
    y = np.array([10.0, 12, 11, 14, 15, 17, 16, 19])
    model = MODELS["theta"].build(1).fit(monthly(y))
    ses = fit_ses(y)
    slope = np.polyfit(np.arange(8), y, 1)[0]
    a, n = ses.alpha, 8
    steps = np.arange(1, 4)
    expected = ses.level + slope / 2 * (steps - 1 + 1 / a - (1 - a) ** n / a)
    assert model.predict(3).mean == pytest.approx(expected)


def test_croston_sba_and_tsb_on_a_textbook_series():
    y = [0, 0, 5, 0, 0, 0, 3, 0, 4]
    # Croston, α = 0.1: first demand 5 at period 3 -> z = 5, p = 3.
    # Period 7 (3 after 4 periods): z = 5 + 0.1(3 - 5) = 4.8, p = 3 + 0.1(4 - 3) = 3.1.
    # Period 9 (4 after 2 periods): z = 4.8 + 0.1(4 - 4.8) = 4.72, p = 3.1 + 0.1(2 - 3.1) = 2.99.
    assert fit("croston", y, h=3).mean == pytest.approx([4.72 / 2.99] * 3)
    assert fit("sba", y, h=1).mean == pytest.approx([0.95 * 4.72 / 2.99])
    # TSB, α = β = 0.1: probability starts at 3/9 and moves 10% toward 1 or 0 each period;
    # size 5 -> 4.8 -> 4.72. Final probability 0.3632843 (worked period by period).
    prob = 1 / 3
    for value in y:
        prob += 0.1 * ((value > 0) - prob)
    assert prob == pytest.approx(0.3632843, abs=1e-7)
    assert fit("tsb", y, h=2).mean == pytest.approx([prob * 4.72] * 2)


def test_arima_recovers_an_ar1_and_its_interval_growth():
    rng = np.random.default_rng(3)
    e = rng.normal(0, 1, 600)
    y = np.empty(600)
    y[0] = 0.0
    for t in range(1, 600):
        y[t] = 0.7 * y[t - 1] + e[t]
    model = Arima(1).fit(monthly(y + 50))
    assert model.order_[1] == 0
    assert model.fit_.phi[0] == pytest.approx(0.7, abs=0.08)
    prediction = model.predict(3)
    phi, s2 = model.fit_.phi[0], model.fit_.sigma2
    if model.order_ == (1, 0, 0):  # var_h = σ²(1 + φ² + φ⁴ …)
        expected = np.sqrt(s2 * np.cumsum([1, phi**2, phi**4]))
        assert prediction.sigma == pytest.approx(expected, rel=1e-6)
    # The forecast decays from the last value toward the mean of 50.
    gaps = np.abs(prediction.mean - 50)
    assert gaps[2] < gaps[0] or gaps[0] < 0.5


def test_arima_random_walk_is_differenced_and_uses_regressors():
    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.normal(0, 1, 300)) + 100
    assert kpss_differences(walk) >= 1
    # A regression with ARIMA errors: a promotion lifts sales by 30 units.
    promo = (np.arange(120) % 10 == 0).astype(float)
    sales = 200 + 30 * promo + rng.normal(0, 2, 120)
    model = Arima(1).fit(monthly(sales), promo[:, None])
    assert model.fit_.beta[0] == pytest.approx(30, abs=3)
    future = np.array([[1.0], [0.0]])
    mean = model.predict(2, future).mean
    assert mean[0] - mean[1] == pytest.approx(30, abs=4)


def test_every_registered_model_survives_short_and_awkward_series():
    awkward = {
        "short": [5, 6, 7, 6, 5, 6],
        "zeros_and_spikes": [0, 0, 9, 0, 0, 0, 4, 0, 0, 7, 0, 0],
        "negative": [-3, -1, -2, -4, -3, -2, -1, -3],
    }
    for values in awkward.values():
        for name, spec in MODELS.items():
            if spec.min_length(12) > len(values):
                continue
            try:
                prediction = fit(name, values, m=12, h=5)
            except ValueError:
                continue  # a documented refusal (e.g. too short); the engine records it
            assert np.all(np.isfinite(prediction.mean)), name
