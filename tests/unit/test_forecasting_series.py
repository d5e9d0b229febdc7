"""Series preparation: DuckDB aggregation, frequency detection, gaps, outliers, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import duck
from core.errors import UserInputError
from core.forecasting import forecast_many, frequency, query
from core.forecasting.series import prepare


@pytest.fixture
def con():
    connection = duck.connect("512MB", 1)
    yield connection
    connection.close()


def test_frequency_detection_from_the_typical_gap():
    def detect(freq: str, n: int = 30) -> str:
        return frequency.detect(pd.date_range("2024-01-01", periods=n, freq=freq)).name

    assert detect("D") == "daily"
    assert detect("W-MON") == "weekly"
    assert detect("MS") == "monthly"
    assert detect("QS") == "quarterly"
    assert detect("YS", 6) == "yearly"
    assert detect("h", 100) == "daily"  # finer than a day: aggregated to days
    # One missing month does not change the answer.
    months = pd.date_range("2024-01-01", periods=24, freq="MS").delete(5)
    assert frequency.detect(months).name == "monthly"
    with pytest.raises(UserInputError, match="at least two distinct dates"):
        frequency.detect(pd.to_datetime(["2024-01-01", "2024-01-01"]))


def test_duckdb_sums_rows_per_series_and_month(con):
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-02", "2024-01-05"]),
            "sku": ["A", "A", "A", "B"],
            "qty": [2.0, 3.0, 4.0, 7.0],
            "promo": [True, False, False, True],
        }
    )
    source = query.Source.frame(con, frame)
    periods = query.aggregate(
        con,
        source,
        date_col="day",
        value_col="qty",
        freq=frequency.get("monthly"),
        id_col="sku",
        exog_cols=["promo"],
    )
    assert periods[["id", "ds", "y", "rows", "promo"]].values.tolist() == [
        ["A", pd.Timestamp("2024-01-01"), 5.0, 2, 0.5],
        ["A", pd.Timestamp("2024-02-01"), 4.0, 1, 0.0],
        ["B", pd.Timestamp("2024-01-01"), 7.0, 1, 1.0],
    ]
    counted = query.aggregate(
        con, source, date_col="day", value_col=None, freq=frequency.get("monthly")
    )
    assert counted[["id", "y"]].values.tolist() == [["(total)", 3], ["(total)", 1]]
    top = query.aggregate(
        con,
        source,
        date_col="day",
        value_col="qty",
        freq=frequency.get("monthly"),
        id_col="sku",
        top=1,
        filters={"promo": ["true", "false"]},
    )
    assert set(top["id"]) == {"A"}  # 9 units beat 7
    # Distinct days 3, 5, 20 Jan and 2 Feb: gaps 2, 15, 13 days, median 13 -> weekly.
    assert query.detect_frequency(con, source, "day").name == "weekly"


def test_text_values_and_dates_are_refused_with_an_example(con):
    frame = pd.DataFrame({"day": ["2024-01-01", "soon"], "qty": ["1", "many"]})
    source = query.Source.frame(con, frame)
    with pytest.raises(UserInputError, match="Column 'day' must hold dates, but it has 'soon'"):
        query.check_types(con, source, "day", None)
    ok_dates = query.Source.frame(con, frame.assign(day=["2024-01-01", "2024-02-01"]), "t2")
    with pytest.raises(UserInputError, match="Column 'qty' must hold numbers, but it has 'many'"):
        query.check_types(con, ok_dates, "day", "qty")
    with pytest.raises(UserInputError, match="no value column 'nope'"):
        query.check_types(con, ok_dates, "day", "nope")


def periods_of(values, start="2023-01-01", sid="s", freq="MS") -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({"id": sid, "ds": dates, "y": values, "rows": 1})


def test_flows_fill_gaps_with_zero_and_run_to_the_end_levels_interpolate():
    months = frequency.get("monthly")
    gappy = periods_of([10.0, np.nan, 30.0, 40.0]).dropna()
    other = periods_of([1.0] * 6, sid="t")  # ends two months later
    [flow, _], _ = prepare(pd.concat([gappy, other]), months, nature="flow")
    assert flow.y.tolist() == [10, 0, 30, 40, 0, 0]
    assert flow.history["filled"].tolist() == [False, True, False, False, True, True]
    assert "3 empty periods counted as 0." in flow.notes
    [level], _ = prepare(gappy, months, nature="level")
    assert level.y.tolist() == [10, 20, 30, 40]
    assert "1 missing period interpolated." in level.notes


def test_negative_demand_outliers_and_too_short_series():
    months = frequency.get("monthly")
    [s], _ = prepare(periods_of([5.0, -2, 6, 7]), months, nature="flow", demand=True)
    assert s.y.min() == 0 and any("negative value" in n for n in s.notes)
    rng = np.random.default_rng(0)
    values = 100 + rng.normal(0, 2, 36)
    values[20] = 400  # a one-off spike
    [flagged], _ = prepare(periods_of(values), months, nature="flow", outliers="flag")
    assert flagged.history["outlier"].tolist().index(True) == 20
    assert flagged.y.iloc[20] == 400  # flagged, not changed
    [treated], _ = prepare(periods_of(values), months, nature="flow", outliers="treat")
    assert abs(treated.y.iloc[20] - 100) < 10
    _, skipped = prepare(periods_of([3.0, 4.0]), months, nature="flow")
    assert "it has 2 periods; forecasting needs at least 3" in skipped[0].reason


def long_frame(series: dict[str, list[float]], freq: str = "MS") -> pd.DataFrame:
    parts = []
    for sid, values in series.items():
        dates = pd.date_range(end="2024-12-01", periods=len(values), freq=freq)
        parts.append(pd.DataFrame({"sku": sid, "date": dates, "qty": values}))
    return pd.concat(parts, ignore_index=True)


def test_bad_series_get_a_message_or_a_documented_fallback_never_nan():
    rng = np.random.default_rng(5)
    frame = long_frame(
        {
            "one_point": [5.0],
            "zeros": [0.0] * 24,
            "constant": [7.0] * 24,
            "short": [3.0, 4, 5, 4, 6],
            "ok": list(50 + rng.normal(0, 3, 36)),
        }
    )
    batch = forecast_many(frame, "sku", "date", "qty", 8, folds=2, n_jobs=1)
    assert [s.id for s in batch.skipped] == ["one_point"]
    assert "forecasting needs at least 3" in batch.skipped[0].reason
    results = {s.id: s for s in batch.series}
    assert results["zeros"].forecast["yhat"].tolist() == [0.0] * 8
    assert any("Every value is 0" in n for n in results["zeros"].notes)
    assert results["constant"].forecast["yhat"].tolist() == [7.0] * 8
    assert any("horizon (8) is longer than the history (5)" in n for n in results["short"].notes)
    for result in results.values():
        values = result.forecast[["yhat", "lo80", "hi80", "lo95", "hi95"]].to_numpy()
        assert np.all(np.isfinite(values)), result.id
        assert np.all(values[:, 3] <= values[:, 1]) and np.all(values[:, 1] <= values[:, 0])
        assert np.all(values[:, 0] <= values[:, 2]) and np.all(values[:, 2] <= values[:, 4])


def test_duplicate_dates_are_aggregated_and_irregular_timestamps_bucketed():
    times = pd.to_datetime(
        ["2024-01-01 09:00", "2024-01-01 17:30", "2024-01-02 08:00", "2024-01-04 12:00"]
        + [f"2024-01-{d:02d} 10:00" for d in range(5, 29)]
    )
    frame = pd.DataFrame({"date": times, "qty": np.arange(len(times), dtype=float) + 1})
    batch = forecast_many(frame, None, "date", "qty", 3, folds=1, n_jobs=1)
    result = batch.series[0]
    assert batch.freq == "daily" and result.id == "(total)"
    assert result.history["y"].iloc[0] == 3.0  # 1 + 2 on the same day
    assert result.history["filled"].sum() == 1  # 3 January had no rows: 0


def test_bad_requests_are_one_line_user_errors():
    frame = long_frame({"a": [1.0, 2, 3, 4, 5, 6]})
    with pytest.raises(UserInputError, match="horizon must be between 1 and"):
        forecast_many(frame, "sku", "date", "qty", 0)
    with pytest.raises(UserInputError, match="Unknown model 'prophet'"):
        forecast_many(frame, "sku", "date", "qty", 3, models=("prophet",))
    with pytest.raises(UserInputError, match="no series id column 'store'"):
        forecast_many(frame, "store", "date", "qty", 3)
    with pytest.raises(UserInputError, match="Unknown frequency 'hourly'"):
        forecast_many(frame, "sku", "date", "qty", 3, freq="hourly")
    with pytest.raises(UserInputError, match="There are no rows"):
        forecast_many(frame.iloc[:0], "sku", "date", "qty", 3)
    text = frame.assign(qty=["1", "2", "x", "4", "5", "6"])
    with pytest.raises(UserInputError, match="must hold numbers, but it has 'x'"):
        forecast_many(text, "sku", "date", "qty", 3)


def test_incomplete_first_and_last_periods_are_left_out_with_a_note(con):
    days = pd.date_range("2024-01-15", "2024-06-12", freq="D")
    frame = pd.DataFrame({"day": days, "qty": 1.0})
    source = query.Source.frame(con, frame)
    months = frequency.get("monthly")
    periods = query.aggregate(con, source, date_col="day", value_col="qty", freq=months)
    assert periods["ds"].dt.month.tolist() == [2, 3, 4, 5]
    assert periods["y"].tolist() == [29, 31, 30, 31]
    notes = periods.attrs["notes"]
    assert notes[0].startswith("The first period (2024-01-01) is incomplete")
    assert notes[1].startswith("The last period (2024-06-01) is incomplete")
    # Rows dated on period starts stand for whole periods: nothing is dropped.
    starts = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=6, freq="MS"), "qty": 1.0})
    kept = query.aggregate(
        con,
        query.Source.frame(con, starts, "starts"),
        date_col="day",
        value_col="qty",
        freq=months,
    )
    assert len(kept) == 6 and kept.attrs["notes"] == []
