"""Accuracy measures against hand computations, and the conformal quantile."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.forecasting import intervals, metrics


def test_smape_is_the_m4_definition_from_0_to_200():
    # 200·10/210 = 9.5238…, 200·20/380 = 10.5263…; mean 10.0251
    assert metrics.smape([100, 200], [110, 180]) == pytest.approx(10.025063, rel=1e-6)
    assert metrics.smape([0, 10], [0, 10]) == 0.0  # 0/0 counts as a perfect forecast
    assert metrics.smape([5], [0]) == pytest.approx(200.0)  # the worst case is 200


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    assert metrics.mase_scale([1, 2, 4, 7], 1) == pytest.approx(2.0)  # |1|, |2|, |3|
    assert metrics.mase_scale([1, 2, 3, 4, 5, 6], 2) == pytest.approx(2.0)  # lag-2 steps
    # Not longer than one season: fall back to lag 1.
    assert metrics.mase_scale([1, 3, 4], 12) == pytest.approx(1.5)
    assert math.isnan(metrics.mase_scale([5], 1))
    assert metrics.mase([8, 10], [9, 9], 2.0) == pytest.approx(0.5)
    assert math.isnan(metrics.mase([1], [2], 0.0))  # a constant history has no scale


def test_rmse_bias_coverage_and_owa():
    assert metrics.rmse([1, 2, 3], [2, 2, 5]) == pytest.approx(math.sqrt(5 / 3))
    assert metrics.bias([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)  # too high on average
    assert metrics.coverage(np.array([1, 5, 10]), [0, 0, 0], [2, 6, 9]) == pytest.approx(2 / 3)
    assert metrics.owa(10, 0.8, 20, 1.0) == pytest.approx(0.65)  # (0.5 + 0.8) / 2
    assert metrics.owa(10, float("nan"), 20, 1.0) == pytest.approx(0.5)  # sMAPE part only


def test_conformal_quantile_needs_enough_scores():
    scores = np.arange(1, 20, dtype=float)  # 19 scores
    assert intervals.needed(95) == 19 and intervals.needed(80) == 4
    assert intervals.conformal_quantile(scores, 95) == 19.0  # ⌈20·0.95⌉ = 19th smallest
    assert intervals.conformal_quantile(scores[:18], 95) == math.inf
    assert intervals.conformal_quantile(np.array([4.0, 1, 3, 2]), 80) == 4.0  # ⌈5·0.8⌉ = 4th
    assert intervals.conformal_quantile(np.array([1.0, 2, np.nan]), 50) == 2.0  # NaN ignored


def test_calibrator_prefers_own_scores_then_pools_then_scales_80_to_95():
    cal = intervals.Calibrator()
    own = np.full((2, 10), 1.5)  # 20 of the series' own scores: enough for both levels
    m = cal.multipliers("Theta", own, 10)
    assert m.by_level[95][0] == pytest.approx(1.5) and m.source == "own backtest errors"
    few = np.array([[0.5, 1.0, 2.0, 3.0, 4.0]])  # 5 scores: enough for 80%, not for 95%
    m = cal.multipliers("Theta", few, 5)
    assert m.by_level[80][0] == pytest.approx(4.0)
    assert m.by_level[95][0] == pytest.approx(4.0 * 1.959964 / 1.281552, rel=1e-5)
    for _ in range(40):  # a pool of other series with the same choice, scores 1.0 at step 0
        cal.add("Theta", np.array([[1.0, 2.0]]))
    m = cal.multipliers("Theta", np.zeros((0, 2)), 2)
    assert list(m.by_level[95]) == [1.0, 2.0]  # per step from the pool
    assert m.at(95, 4).tolist() == [1.0, 2.0, 2.0, 2.0]  # beyond the backtest: last step
