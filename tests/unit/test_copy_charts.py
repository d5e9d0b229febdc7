"""The copy studio's figure builders: titles, axis labels with units, the data plotted."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from components import copy_charts
from components.copy_text import literal
from core.copy.experiments import ArmCounts, analyse


def test_variant_grades_plot_each_grade_and_the_voice_target():
    frame = pd.DataFrame({"variant": ["Variant 1", "Variant 2"], "grade": [6.5, 9.0]})
    fig = copy_charts.variant_grades(frame, target=7.0)
    assert fig.layout.title.text == "Reading grade by variant"
    assert fig.layout.yaxis.title.text == "Flesch-Kincaid grade (school years)"
    assert list(fig.data[0].y) == [6.5, 9.0]
    assert fig.layout.shapes[0].y0 == 7.0
    assert not copy_charts.variant_grades(frame).layout.shapes


def test_experiment_rates_show_percentages_intervals_and_the_winner():
    result = analyse([ArmCounts("A", 10_000, 200, 0), ArmCounts("B", 10_000, 300, 0)])
    fig = copy_charts.experiment_rates(result)
    bar = fig.data[0]
    assert list(bar.x) == ["A", "B"] and list(bar.y) == pytest.approx([2.0, 3.0])
    b = result.arms[1]
    assert bar.error_y.array[1] == pytest.approx(100 * b.ci_high - 3.0)
    assert bar.error_y.arrayminus[1] == pytest.approx(3.0 - 100 * b.ci_low)
    assert list(bar.marker.color) == [copy_charts.ACCENT, copy_charts.WINNER]
    assert fig.layout.yaxis.title.text == "Click-through rate (%)"
    assert fig.layout.title.text == "Click-through rate by variant, with 95% intervals"


def test_usage_and_library_charts():
    daily = pd.DataFrame(
        {"day": [date(2026, 1, 1), date(2026, 1, 2)], "generations": [3, 1], "failures": [1, 0]}
    )
    fig = copy_charts.daily_generations(daily)
    assert [list(t.y) for t in fig.data] == [[2, 1], [1, 0]]
    assert fig.layout.barmode == "stack" and fig.layout.yaxis.title.text == "Generations"
    mix = copy_charts.library_mix(pd.DataFrame({"type": ["SMS", "X post"], "items": [5, 2]}))
    assert list(mix.data[0].y) == ["X post", "SMS"] and list(mix.data[0].x) == [2, 5]


def test_model_output_is_escaped_to_literal_markdown():
    text = "![x](http://evil/p.png) **bold** <b>hi</b> $5 :red[alert]\nnext"
    escaped = literal(text)
    assert escaped == (
        "\\!\\[x\\]\\(http\\:\\/\\/evil\\/p\\.png\\) \\*\\*bold\\*\\* \\<b\\>hi\\<\\/b\\> "
        "\\$5 \\:red\\[alert\\]  \nnext"
    )
