"""Monte Carlo (s, Q) simulation agrees with the analytic service level and fill rate."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import UserInputError
from core.supply_chain import inventory as inv
from core.supply_chain.simulation import analytic, mixture, simulate_sq

TOLERANCE = 3.5  # standard errors


@pytest.mark.parametrize(
    ("service", "d", "sd", "lt", "q", "seed"),
    [(0.90, 100.0, 25.0, 4.0, 500.0, 1), (0.80, 40.0, 12.0, 2.0, 150.0, 3)],
)
def test_fixed_lead_time_agrees_with_the_analytic_figures(service, d, sd, lt, q, seed) -> None:
    s = inv.reorder_point(service, d, sd, lt)
    result = simulate_sq(s, q, d, sd, lt, 0.0, periods=300, runs=300, seed=seed)
    sigma = inv.lead_time_demand_std(sd, lt)
    expected_fill = inv.fill_rate((s - d * lt) / sigma, q, sigma)
    assert result.analytic_cycle_service_level == pytest.approx(service)
    assert result.analytic_fill_rate == pytest.approx(expected_fill)
    assert result.exact_cycle_service_level == pytest.approx(service)
    csl_gap = abs(result.cycle_service_level - service) / result.cycle_service_level_se
    fill_gap = abs(result.fill_rate - expected_fill) / result.fill_rate_se
    assert csl_gap < TOLERANCE, (result.cycle_service_level, result.cycle_service_level_se)
    assert fill_gap < TOLERANCE, (result.fill_rate, result.fill_rate_se)
    assert result.stockout_probability == pytest.approx(1 - result.cycle_service_level)
    assert result.cycles > 1000


def test_variable_lead_time_agrees_with_the_exact_mixture() -> None:
    # Lead-time demand is a mixture of normals; the normal formula is 95.0%, the
    # mixture 94.6% (numerical integration), and the simulation follows the mixture.
    s = inv.reorder_point(0.95, 100, 25, 4, 0.5)
    result = simulate_sq(s, 500, 100, 25, 4, 0.5, periods=300, runs=300, seed=2)
    assert result.analytic_cycle_service_level == pytest.approx(0.95)
    assert result.exact_cycle_service_level == pytest.approx(0.9463, abs=5e-4)
    assert result.exact_fill_rate == pytest.approx(0.99652, abs=5e-5)
    csl_gap = result.cycle_service_level - result.exact_cycle_service_level
    fill_gap = result.fill_rate - result.exact_fill_rate
    assert abs(csl_gap) / result.cycle_service_level_se < TOLERANCE
    assert abs(fill_gap) / result.fill_rate_se < TOLERANCE


def test_stock_distribution_and_reproducibility() -> None:
    first = simulate_sq(150, 300, 50, 10, 2, 0.2, periods=200, runs=50, seed=7)
    again = simulate_sq(150, 300, 50, 10, 2, 0.2, periods=200, runs=50, seed=7)
    assert first.cycle_service_level == again.cycle_service_level
    assert first.histogram_counts.sum() == 50 * (200 - first.warmup)
    assert len(first.histogram_edges) == len(first.histogram_counts) + 1
    p = first.percentiles
    assert p[1] <= p[5] <= p[50] <= p[95] <= p[99]
    # Average net stock of (s, Q): about s - d*L + Q/2 = 150 - 100 + 150.
    assert first.mean_net_stock == pytest.approx(200, rel=0.05)
    assert first.mean_on_hand >= first.mean_net_stock


def test_analytic_without_uncertainty() -> None:
    assert analytic(100, 50, 10, 0, 5, 0) == (1.0, 1.0)
    assert analytic(40, 50, 10, 0, 5, 0) == (0.0, pytest.approx(0.8))
    assert np.isclose(analytic(50, 100, 10, 5, 5, 0)[0], 0.5)
    assert mixture(150, 300, 50, 10, 2, 0) == analytic(150, 300, 50, 10, 2, 0)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((100, 0, 10, 2, 1), {}, "order quantity"),
        ((100, 50, 0, 2, 1), {}, "greater than 0"),
        ((100, 50, 10, -2, 1), {}, "standard deviation"),
        ((float("nan"), 50, 10, 2, 1), {}, "reorder point"),
        ((100, 50, 10, 2, 1), {"periods": 5}, "at least"),
        ((100, 50, 10, 2, 1), {"runs": 10_000, "periods": 10_000}, "too large"),
    ],
)
def test_bad_inputs(args, kwargs, message) -> None:
    with pytest.raises(UserInputError, match=message):
        simulate_sq(*args, **kwargs)
