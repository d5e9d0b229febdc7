"""Anomaly bands (Hampel filter) and target states, against hand-computed answers."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from core.kpis.anomalies import bands, lookback
from core.kpis.metrics import COUNT, Component, Metric
from core.kpis.targets import Target, evaluate


def test_a_spike_is_flagged_with_its_band_and_reason():
    y = [100, 104, 98, 102, 160, 101, 99]
    got = bands(y, "week", label="Orders", fmt=lambda v: f"{v:.0f}")
    # Point 4: neighbours are all 7 points; sorted 98 99 100 101 102 104 160 -> median 101.
    # |deviations| 1 3 3 1 59 0 2 -> MAD 2 -> 1.4826 * 2 = 2.97 < floor 5% * 101 = 5.05.
    assert got.loc[4, "expected"] == 101
    assert got.loc[4, "lower"] == pytest.approx(101 - 3 * 5.05)
    assert got.loc[4, "upper"] == pytest.approx(101 + 3 * 5.05)
    assert got.loc[4, "score"] == pytest.approx(59 / 5.05)
    assert got["anomaly"].tolist() == [False, False, False, False, True, False, False]
    assert got.loc[4, "reason"] == (
        "Orders 160 is 11.7 robust SDs above the expected 101 (median of the 4 weeks either side)"
    )
    assert got.loc[0, "reason"] == ""


def test_a_drop_among_noisy_values_uses_the_mad():
    y = [50, 70, 40, 65, 5, 45, 60, 55]
    got = bands(y, "month")
    # Point 4 (month grain: 3 either side): 70 40 65 5 45 60 55 -> median 55;
    # |dev| 15 15 10 50 10 5 0 -> MAD 10 -> scale 14.826 (> 5% of 55).
    assert got.loc[4, "expected"] == 55
    assert got.loc[4, "score"] == pytest.approx(-50 / 14.826)
    assert bool(got.loc[4, "anomaly"]) is True
    assert "below the expected 55.00" in got.loc[4, "reason"]
    assert not got["anomaly"].drop(index=4).any()


def test_days_compare_with_the_same_weekday():
    weeks = 6
    pattern = np.array([100, 100, 100, 100, 100, 300, 320], dtype=float)  # busy weekends
    y = np.tile(pattern, weeks)
    y[7 * 3 + 2] = 220  # a Wednesday more than twice the usual
    got = bands(y, "day")
    assert got["anomaly"].sum() == 1 and bool(got.loc[23, "anomaly"])
    assert got.loc[5 + 7 * 3, "expected"] == 300  # a Saturday is expected to be busy
    assert lookback("day") == 21 and lookback("month") == 3


def test_partial_periods_gaps_and_short_series_are_never_flagged():
    y = [10, 10, 10, 10, 10, 10, 1]
    cut = [False] * 6 + [True]  # the last month is only half over
    got = bands(y, "month", cut)
    assert not got["anomaly"].any() and math.isnan(got.loc[6, "expected"])
    assert not bands([10, 10, 50, 10], "month")["anomaly"].any()  # < 5 neighbours: no band
    with_gap = bands([10, 10, float("nan"), 10, 10, 10, 90, 10], "month")
    assert with_gap["anomaly"].tolist() == [False] * 6 + [True, False]
    assert not with_gap.loc[2, "anomaly"]


def metric(*, accumulates=True, up_is_bad=False) -> Metric:
    part = Component("x", lambda b: None)
    return Metric(
        "x", "X", COUNT, (part,), lambda c: c["x"], accumulates=accumulates, up_is_bad=up_is_bad
    )


MARCH = Target(1, "orders", "x", "month", date(2024, 3, 1), 3100.0)


@pytest.mark.parametrize(
    ("asof", "actual", "kind", "state", "projection"),
    [
        (date(2024, 2, 29), 0.0, {}, "not started", 0.0),
        (date(2024, 3, 10), 1000.0, {}, "on track", 3100.0),  # 1000 / (10/31)
        (date(2024, 3, 10), 900.0, {}, "at risk", 2790.0),
        (date(2024, 3, 20), 3200.0, {}, "met", 3200 * 31 / 20),  # already reached
        (date(2024, 3, 31), 3099.0, {}, "missed", 3099.0),
        (date(2024, 4, 15), 3100.0, {}, "met", 3100.0),  # the period is over
        # "Up is bad": costs must stay under the target.
        (date(2024, 3, 10), 1100.0, {"up_is_bad": True}, "at risk", 3410.0),
        (date(2024, 3, 10), 900.0, {"up_is_bad": True}, "on track", 2790.0),
        (date(2024, 3, 12), 3200.0, {"up_is_bad": True}, "missed", 3200 * 31 / 12),
        # Ratios do not accumulate: the projection is the value so far.
        (date(2024, 3, 10), 3000.0, {"accumulates": False}, "at risk", 3000.0),
        (date(2024, 3, 10), 3150.0, {"accumulates": False}, "on track", 3150.0),
    ],
)
def test_target_states(asof, actual, kind, state, projection):
    got = evaluate(MARCH, actual, metric(**kind), asof)
    assert got.state == state
    assert got.projection == pytest.approx(projection)
    assert got.progress == pytest.approx(actual / 3100)
    assert MARCH.period.days == 31
