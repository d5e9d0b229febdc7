"""Lifetime value: BG/NBD and Gamma-Gamma likelihoods by hand, recovery of simulated
parameters, prediction formulas against direct forms and simulation, and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from core.errors import UserInputError
from core.segmentation import bgnbd, clv, gamma_gamma
from core.segmentation.bgnbd import BgNbdParams

# Fader, Hardie & Lee (2005), CDNOW sample, weeks.
CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
# Fader & Hardie (2013), CDNOW sample, dollars.
CDNOW_SPEND = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def log_beta(x: float, y: float) -> float:
    return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)


def published_likelihood(p: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """FHL (2005) eq. (6), term by term as printed: two Beta ratios times Gamma factors."""
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    gamma_part = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    first = math.exp(log_beta(a, b + x) - log_beta(a, b)) * gamma_part / (alpha + T) ** (r + x)
    second = 0.0
    if x > 0:
        second = (
            math.exp(log_beta(a + 1, b + x - 1) - log_beta(a, b))
            * gamma_part
            / (alpha + t_x) ** (r + x)
        )
    return first + second


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 38.86), (1, 2.0, 30.0), (2, 30.43, 38.86), (7, 29.43, 32.71)]
)
def test_log_likelihood_matches_the_published_formula(x, t_x, T):
    ours = bgnbd.log_likelihood(CDNOW, [x], [t_x], [T])[0]
    assert ours == pytest.approx(math.log(published_likelihood(CDNOW, x, t_x, T)), rel=1e-12)


def test_no_repeat_customer_likelihood_in_closed_form():
    # x = 0: the customer made no purchase in (0, T], so L = (alpha / (alpha + T))^r.
    expected = 0.243 * math.log(4.414 / (4.414 + 38.86))
    assert bgnbd.log_likelihood(CDNOW, [0], [0], [38.86])[0] == pytest.approx(expected, rel=1e-12)


def test_analytic_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    T = rng.uniform(20, 39, 300)
    x, t_x = bgnbd.simulate(CDNOW, T, rng)
    theta = CDNOW.as_array()
    _, a3, a4, lse, bx1, repeat = bgnbd._terms(theta, x.astype(float), t_x, T)
    analytic = bgnbd._gradient(theta, x, t_x, T, a3, a4, lse, bx1, repeat).sum(axis=1)
    numeric = []
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-6
        up = bgnbd._terms(theta + step, x.astype(float), t_x, T)[0].sum()
        down = bgnbd._terms(theta - step, x.astype(float), t_x, T)[0].sum()
        numeric.append((up - down) / 2e-6)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5)


def cdnow_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers who made their first purchase in the first 12 weeks of a 39-week window."""
    rng = np.random.default_rng(seed)
    T = 39 - rng.uniform(0, 12, n)
    x, t_x = bgnbd.simulate(CDNOW, T, rng)
    return x, t_x, T


def test_fit_recovers_the_parameters_of_simulated_data():
    x, t_x, T = cdnow_like(40_000, seed=2005)
    fit = bgnbd.fit(x, t_x, T)
    assert fit.converged
    truth = CDNOW.as_array()
    found = fit.params.as_array()
    se = fit.std_errors.as_array()
    assert np.all(np.abs(found - truth) < 3 * se), (found, se)
    assert np.all(se / truth < 0.12)  # and the data pins them down
    # The maximum is a maximum: the true parameters fit these data no better.
    assert fit.log_likelihood >= bgnbd.log_likelihood(CDNOW, x, t_x, T).sum()


def test_fit_needs_repeat_buyers():
    with pytest.raises(UserInputError, match="No customer bought on two different days"):
        bgnbd.fit([0, 0, 0], [0, 0, 0], [5, 6, 7])


def test_conditional_expectation_equals_the_published_form():
    # Euler's transformation must not change FHL eq. (10) where the direct 2F1 is accurate.
    r, alpha, a, b = CDNOW.as_array()
    x = np.array([0, 1, 2, 5])
    t_x = np.array([0.0, 10.0, 30.43, 35.0])
    T = np.array([38.86, 38.86, 38.86, 38.86])
    t = 39.0
    z = t / (alpha + T + t)
    direct = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0)
    np.testing.assert_allclose(
        bgnbd.expected_purchases(CDNOW, t, x, t_x, T), direct / (1 + odds), rtol=1e-9
    )


def test_concentrated_drop_out_falls_back_to_the_limit():
    # With a and b huge, p ~ Beta(a, b) is almost fixed and 2F1 overflows; the fallback
    # must agree with the exact formula where both can be computed (a + b around 2,000).
    near = BgNbdParams(r=0.5, alpha=5.0, a=600.0, b=1400.0)
    x, t_x, T = np.array([0.0, 3.0]), np.array([0.0, 20.0]), np.array([30.0, 30.0])
    z = 39.0 / (near.alpha + T + 39.0)
    exact = bgnbd._bracket(near, x, z)
    np.testing.assert_allclose(bgnbd._concentrated(near, x, z), exact, rtol=2e-3)
    huge = BgNbdParams(r=0.5, alpha=5.0, a=6e4, b=1.4e5)
    assert np.isfinite(bgnbd.expected_purchases(huge, 39.0, x, t_x, T)).all()


def test_expected_purchases_of_a_new_customer_match_simulation():
    rng = np.random.default_rng(7)
    n, t = 200_000, 39.0
    x, _ = bgnbd.simulate(CDNOW, np.full(n, t), rng)
    expected = float(bgnbd.expected_purchases_new(CDNOW, t))
    assert abs(x.mean() - expected) < 3 * x.std() / math.sqrt(n)
    # a customer with x = 0 observed for T = 0 is a new customer
    np.testing.assert_allclose(bgnbd.expected_purchases(CDNOW, t, [0], [0], [0]), expected)


def test_p_alive_by_hand():
    x, t_x, T = 2, 30.43, 38.86
    r, alpha, a, b = CDNOW.as_array()
    expected = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    assert bgnbd.p_alive(CDNOW, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-12)
    assert bgnbd.p_alive(CDNOW, [0], [0], [38.86])[0] == 1.0  # no repeat: alive by assumption
    lapsed = bgnbd.p_alive(CDNOW, [5], [2.0], [38.0])[0]
    active = bgnbd.p_alive(CDNOW, [5], [37.0], [38.0])[0]
    assert lapsed < 0.1 and active > 0.8


def test_gamma_gamma_likelihood_by_hand():
    p, q, v = 6.25, 3.74, 15.44
    x, m = 3, 42.5
    by_hand = (
        math.lgamma(p * x + q)
        - math.lgamma(p * x)
        - math.lgamma(q)
        + q * math.log(v)
        + (p * x - 1) * math.log(m)
        + p * x * math.log(x)
        - (p * x + q) * math.log(v + m * x)
    )
    assert gamma_gamma.log_likelihood(CDNOW_SPEND, [x], [m])[0] == pytest.approx(by_hand)


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(2013)
    x = 1 + rng.poisson(2.0, 60_000)
    m = gamma_gamma.simulate(CDNOW_SPEND, x, rng)
    fit = gamma_gamma.fit(x, m)
    assert fit.converged
    found = fit.params
    assert found.p == pytest.approx(6.25, rel=0.1)
    assert found.q == pytest.approx(3.74, rel=0.15)
    assert found.v == pytest.approx(15.44, rel=0.2)
    assert found.population_mean == pytest.approx(CDNOW_SPEND.population_mean, rel=0.03)
    assert fit.log_likelihood >= gamma_gamma.log_likelihood(CDNOW_SPEND, x, m).sum()


def test_expected_spend_shrinks_towards_the_population_mean():
    mean = CDNOW_SPEND.population_mean  # p v / (q - 1) = 35.22
    assert mean == pytest.approx(6.25 * 15.44 / 2.74)
    spend = gamma_gamma.expected_spend(CDNOW_SPEND, [0, 1, 10], [0, 100.0, 100.0], 0.0)
    assert spend[0] == pytest.approx(mean)
    assert mean < spend[1] < spend[2] < 100  # more purchases, more weight on their own average
    assert spend[2] == pytest.approx(6.25 * (15.44 + 1000) / (62.5 + 2.74))


def customer_table(rows: list[tuple[str, str, str, int, int, float, float]]) -> pd.DataFrame:
    """customer_id, first, last, purchase_days, orders, revenue, repeat_spend -> table."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "first_date",
            "last_date",
            "purchase_days",
            "orders",
            "revenue",
            "repeat_spend",
        ],
    )
    for column in ("first_date", "last_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["tenure_days"] = (pd.Timestamp("2024-12-31") - frame["first_date"]).dt.days
    frame["aov"] = frame["revenue"] / frame["orders"]
    return frame


def test_one_purchase_and_one_day_customers_get_numbers_not_nan():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(60):  # a population with repeat buyers, so the models can be fitted
        first = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        days = int(rng.integers(2, 8))
        last = first + pd.Timedelta(days=int(rng.integers(days, 150)))
        spend = float(rng.uniform(20, 80)) * days
        rows.append(
            (
                f"R{i}",
                str(first.date()),
                str(last.date()),
                days,
                days,
                spend,
                spend * (days - 1) / days,
            )
        )
    rows.append(("ONE", "2024-12-31", "2024-12-31", 1, 1, 30.0, 0.0))  # bought once, on as-of
    rows.append(("DAY", "2024-06-01", "2024-06-01", 1, 4, 400.0, 0.0))  # 4 orders on one day
    result = clv.estimate(customer_table(rows), "weeks", 52)
    got = result.customers.set_index("customer_id")
    assert not result.customers.isna().any().any()
    for who in ("ONE", "DAY"):
        assert got.loc[who, "x"] == 0 and got.loc[who, "p_alive"] == 1.0
        assert got.loc[who, "expected_spend"] == pytest.approx(
            result.gamma_gamma.params.population_mean
        )
        assert got.loc[who, "clv"] > 0
    assert got.loc["ONE", "T"] == 0
    assert any("all their orders on one day" in n for n in result.notes)
    assert set(result.params()) == {"r", "alpha", "a", "b", "p", "q", "v"}


def test_time_units_and_bad_horizons():
    rows = [
        ("A", "2024-01-01", "2024-03-01", 3, 3, 90.0, 60.0),
        ("B", "2024-02-01", "2024-02-01", 1, 1, 20.0, 0.0),
    ]
    data = clv.inputs(customer_table(rows), "weeks")
    assert data.loc[0, "t_x"] == pytest.approx(60 / 7) and data.loc[0, "m_x"] == 30
    assert clv.inputs(customer_table(rows), "days").loc[0, "T"] == 365
    with pytest.raises(UserInputError, match="days or weeks"):
        clv.inputs(customer_table(rows), "months")
    with pytest.raises(UserInputError, match="positive number of periods"):
        clv.estimate(customer_table(rows), "weeks", 0)
