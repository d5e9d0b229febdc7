"""Inventory formulas against hand computations, Snyder & Shen's examples and stockpyl."""

from __future__ import annotations

import datetime
import math

import pytest
from stockpyl.eoq import economic_order_quantity
from stockpyl.loss_functions import standard_normal_loss
from stockpyl.newsvendor import newsvendor_normal
from stockpyl.rq import r_q_eoqss_approximation

from core.errors import UserInputError
from core.supply_chain import inventory as inv

Z95 = 1.6448536269514722


def test_eoq_textbook_example() -> None:
    # Snyder & Shen, Example 3.1: K = 8, h = 0.225, D = 1300.
    assert inv.eoq(1300, 8, 0.225) == pytest.approx(304.05, abs=0.005)
    assert inv.eoq_cost(1300, 8, 0.225) == pytest.approx(68.41, abs=0.005)


def test_eoq_cost_of_another_quantity_is_higher() -> None:
    # K*D/Q + h*Q/2 at Q = 400: 8*1300/400 + 0.225*400/2 = 26 + 45 = 71.
    assert inv.eoq_cost(1300, 8, 0.225, order_qty=400) == pytest.approx(71.0)
    assert inv.eoq(0, 8, 0.225) == 0.0


@pytest.mark.parametrize(
    ("k", "h", "d"), [(8, 0.225, 1300), (100, 2.5, 12_000), (40, 0.9, 55), (0.5, 0.01, 7)]
)
def test_eoq_matches_stockpyl(k: float, h: float, d: float) -> None:
    q, cost = economic_order_quantity(k, h, d)
    assert inv.eoq(d, k, h) == pytest.approx(q, rel=1e-12)
    assert inv.eoq_cost(d, k, h) == pytest.approx(cost, rel=1e-12)


def test_safety_stock_by_hand() -> None:
    # z(0.95) * sigma_d * sqrt(L) = 1.6449 * 10 * 2
    assert inv.safety_stock(0.95, 10, 4) == pytest.approx(Z95 * 20)
    # with lead-time variability: sqrt(4*10^2 + 100^2*1^2) = sqrt(10400)
    expected = Z95 * math.sqrt(10_400)
    assert inv.safety_stock(0.95, 10, 4, demand_mean=100, lead_time_std=1) == pytest.approx(
        expected
    )
    assert inv.reorder_point(0.95, 100, 10, 4, 1) == pytest.approx(400 + expected)


@pytest.mark.parametrize(
    ("h", "p", "d", "sd", "lt"),
    [(0.225, 7.5, 1300, 150, 1 / 12), (1.0, 9.0, 50, 10, 3), (0.5, 2.0, 200, 80, 0.5)],
)
def test_reorder_point_matches_stockpyl_eoq_plus_safety_stock(h, p, d, sd, lt) -> None:
    # Snyder & Shen Example 5.5 first: r = 190.34 for alpha = p / (p + h).
    r, q = r_q_eoqss_approximation(h, p, 8, d, sd, lt)
    assert inv.reorder_point(p / (p + h), d, sd, lt) == pytest.approx(r, rel=1e-9)
    assert inv.eoq(d, 8, h) == pytest.approx(q, rel=1e-12)


def test_reorder_point_textbook_example() -> None:
    assert inv.reorder_point(7.5 / 7.725, 1300, 150, 1 / 12) == pytest.approx(190.34, abs=0.005)


@pytest.mark.parametrize(
    ("h", "p", "mu", "sd", "lt"),
    [(0.18, 0.70, 50, 8, 0), (1.0, 4.0, 20, 5, 2), (0.3, 3.0, 90, 30, 5)],
)
def test_order_up_to_level_matches_stockpyl_base_stock(h, p, mu, sd, lt) -> None:
    # A base-stock level covers one period plus the lead time: review period 1.
    level, _ = newsvendor_normal(h, p, mu, sd, lead_time=lt)
    assert inv.order_up_to_level(p / (p + h), mu, sd, 1, lt) == pytest.approx(level, rel=1e-9)


def test_order_up_to_level_by_hand_and_newsvendor_example() -> None:
    assert inv.order_up_to_level(0.95, 100, 10, 1, 4) == pytest.approx(500 + Z95 * 10 * 5**0.5)
    # Snyder & Shen Example 4.3: S* = 56.60.
    assert inv.order_up_to_level(0.70 / 0.88, 50, 8, 1, 0) == pytest.approx(56.60, abs=0.005)


@pytest.mark.parametrize("z", [-2.0, -0.5, 0.0, 0.5, 1.0, 1.645, 2.33, 3.5])
def test_loss_function_matches_stockpyl(z: float) -> None:
    assert inv.loss_function(z) == pytest.approx(standard_normal_loss(z)[0], rel=1e-12)


def test_loss_function_table_values() -> None:
    assert inv.loss_function(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    assert inv.loss_function(1.0) == pytest.approx(0.0833, abs=5e-5)


def test_fill_rate_target_solves_the_loss_equation() -> None:
    # beta = 0.98, Q = 100, sigma_L = 50: G(z) = 0.02 * 100 / 50 = 0.04.
    z = inv.z_for_fill_rate(0.98, 100, 50)
    assert standard_normal_loss(z)[0] == pytest.approx(0.04, abs=1e-9)
    assert z == pytest.approx(1.36, abs=0.005)  # loss tables: G(1.36) = 0.0400
    assert inv.fill_rate(z, 100, 50) == pytest.approx(0.98, abs=1e-9)


def test_fill_rate_with_a_large_order_needs_negative_safety_stock() -> None:
    z = inv.z_for_fill_rate(0.9, 1000, 50)  # G(z) = 2: z near -1.99
    assert z < 0
    assert inv.fill_rate(z, 1000, 50) == pytest.approx(0.9, abs=1e-9)
    assert inv.z_for_fill_rate(0.95, 10, 0) == 0.0


def test_cover_dates_and_stockout_probability() -> None:
    assert inv.days_of_cover(70, 10) == 7.0
    assert inv.days_of_cover(5, 0) == math.inf
    assert inv.days_of_cover(0, 3) == 0.0
    today = datetime.date(2026, 1, 1)
    assert inv.stockout_date(75, 10, today) == datetime.date(2026, 1, 8)
    assert inv.stockout_date(75, 0, today) is None
    # P(D > 450) with D ~ N(400, 50): 1 - Phi(1)
    assert inv.stockout_probability(450, 400, 50) == pytest.approx(0.158655254, abs=1e-9)
    assert inv.stockout_probability(450, 400, 0) == 0.0
    assert inv.stockout_probability(350, 400, 0) == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inv.safety_stock(1.0, 10, 4), "service level"),
        (lambda: inv.safety_stock(0.0, 10, 4), "service level"),
        (lambda: inv.reorder_point(float("nan"), 10, 2, 4), "service level"),
        (lambda: inv.eoq(1000, -5, 0.2), "ordering cost"),
        (lambda: inv.eoq(1000, 5, -0.2), "holding cost"),
        (lambda: inv.eoq(1000, 5, 0), "holding cost"),
        (lambda: inv.eoq(-1, 5, 0.2), "Annual demand"),
        (lambda: inv.eoq(float("inf"), 5, 0.2), "finite"),
        (lambda: inv.safety_stock(0.9, -1, 4), "standard deviation"),
        (lambda: inv.order_up_to_level(0.9, 10, 2, -1, 4), "review period"),
        (lambda: inv.z_for_fill_rate(1.0, 100, 10), "fill rate"),
        (lambda: inv.fill_rate(1.0, 0, 10), "order quantity"),
        (lambda: inv.days_of_cover(10, "lots"), "number"),
    ],
)
def test_bad_inputs_raise_one_line(call, message: str) -> None:
    with pytest.raises(UserInputError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
