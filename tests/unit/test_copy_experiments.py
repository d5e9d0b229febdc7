"""A/B statistics against hand formulas and numerical integration."""

from __future__ import annotations

import math

import pytest
from scipy import integrate, stats

from core.copy.experiments import (
    ArmCounts,
    analyse,
    probability_best,
    sample_size,
    two_proportion_test,
)
from core.errors import UserInputError


def pooled_z(s1, n1, s2, n2):
    """The two-proportion z statistic and two-sided p, written out."""
    p1, p2, pooled = s1 / n1, s2 / n2, (s1 + s2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, math.erfc(abs(z) / math.sqrt(2))


def test_z_test_matches_the_formula():
    z, p = two_proportion_test(200, 1000, 250, 1000)
    assert (z, p) == pytest.approx(pooled_z(200, 1000, 250, 1000))
    assert round(z, 4) == -2.6774 and round(p, 4) == 0.0074  # worked by hand
    z, p = two_proportion_test(30, 700, 45, 900)
    assert (z, p) == pytest.approx(pooled_z(30, 700, 45, 900))


def test_identical_or_degenerate_counts_show_no_difference():
    assert two_proportion_test(50, 1000, 50, 1000) == pytest.approx((0.0, 1.0))
    assert two_proportion_test(0, 100, 0, 100) == (0.0, 1.0)
    assert two_proportion_test(100, 100, 50, 50) == (0.0, 1.0)


def test_probability_best_for_two_matches_numerical_integration():
    a, b = (40, 1000), (55, 1000)
    beta_a, beta_b = stats.beta(1 + a[0], 1 + a[1] - a[0]), stats.beta(1 + b[0], 1 + b[1] - b[0])
    # P(B > A) = integral of f_B(x) * F_A(x) dx
    reference, _ = integrate.quad(lambda x: beta_b.pdf(x) * beta_a.cdf(x), 0, 1, limit=200)
    p_a, p_b = probability_best([a, b])
    assert p_b == pytest.approx(reference, abs=1e-6)
    assert p_a + p_b == pytest.approx(1.0)
    assert probability_best([(10, 100), (10, 100)]) == pytest.approx([0.5, 0.5])


def test_monte_carlo_for_three_agrees_with_the_exact_pairwise_answer():
    # With a third arm that never wins, the two-arm exact answer must reappear.
    mc = probability_best([(40, 1000), (55, 1000), (0, 1000)])
    exact = probability_best([(40, 1000), (55, 1000)])
    assert mc[:2] == pytest.approx(exact, abs=0.005)
    assert mc[2] == pytest.approx(0.0, abs=1e-6)
    assert sum(mc) == pytest.approx(1.0)


def test_sample_size_matches_the_normal_approximation_with_cohens_h():
    size = sample_size(0.10, 0.20, alpha=0.05, power=0.8)
    h = 2 * math.asin(math.sqrt(0.12)) - 2 * math.asin(math.sqrt(0.10))
    z_alpha, z_beta = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    # var(2 asin sqrt(p)) = 1/n per arm, so the difference of two arms has variance 2/n.
    expected = 2 * ((z_alpha + z_beta) / h) ** 2
    assert size.per_variant == math.ceil(expected) == 3835
    assert size.total == 2 * 3835 and size.target == pytest.approx(0.12)
    # The textbook pooled-variance formula (Fleiss, no continuity correction) agrees closely.
    p_bar = 0.11
    fleiss = (z_alpha * math.sqrt(2 * p_bar * (1 - p_bar))
              + z_beta * math.sqrt(0.10 * 0.90 + 0.12 * 0.88)) ** 2 / 0.02**2  # fmt: skip
    assert math.ceil(fleiss) == 3841 and size.per_variant == pytest.approx(fleiss, rel=0.01)
    assert sample_size(0.03, 0.5).per_variant < sample_size(0.03, 0.2).per_variant


@pytest.mark.parametrize(
    ("args", "message"),
    [((0.0, 0.2), "baseline rate"), ((0.5, 1.5), "below 100%"), ((0.1, 0.0), "non-zero")],
)
def test_sample_size_refuses_impossible_inputs(args, message):
    with pytest.raises(UserInputError, match=message):
        sample_size(*args)


def test_a_clear_difference_names_the_winner():
    result = analyse(
        [ArmCounts("A", 10_000, 200, 20), ArmCounts("B", 10_000, 300, 30)], metric="ctr"
    )
    assert result.winner == "B" and result.leader == "B"
    b = next(a for a in result.arms if a.label == "B")
    a = next(a for a in result.arms if a.label == "A")
    assert a.p_value == pytest.approx(pooled_z(300, 10_000, 200, 10_000)[1])
    assert b.p_value is None and b.probability_best > 0.99
    assert b.ci_low < b.rate < b.ci_high
    assert result.verdict.startswith("B wins: its click-through rate is higher")


def test_no_winner_without_significance_even_when_one_leads():
    result = analyse([ArmCounts("A", 1000, 50, 5), ArmCounts("B", 1000, 58, 6)])
    assert result.leader == "B" and result.winner is None
    assert result.verdict.startswith("No winner yet: B leads, but not significantly over A")


def test_no_winner_when_counts_are_too_small_for_the_test():
    result = analyse([ArmCounts("A", 40, 1, 0), ArmCounts("B", 40, 12, 1)])
    assert result.winner is None
    assert "A need at least 5 clicks and 5 without" in result.verdict


def test_holm_adjustment_across_three_variants():
    arms = [
        ArmCounts("A", 5000, 100, 0),
        ArmCounts("B", 5000, 160, 0),
        ArmCounts("C", 5000, 135, 0),
    ]
    result = analyse(arms)
    raw = {label: pooled_z(160, 5000, s, 5000)[1] for label, s in (("A", 100), ("C", 135))}
    ordered = sorted(raw.values())
    holm = {k: max(min(1, 2 * ordered[0]), min(1, 1 * ordered[1])) if v == ordered[1]
            else min(1, 2 * v) for k, v in raw.items()}  # fmt: skip
    got = {a.label: a.p_value for a in result.arms if a.p_value is not None}
    assert got == pytest.approx(holm)
    assert result.winner is None  # B vs C is not significant after adjustment


def test_conversion_metric_uses_clicks_as_trials_and_counts_are_validated():
    result = analyse(
        [ArmCounts("A", 9000, 1000, 100), ArmCounts("B", 9000, 1000, 150)], metric="conversion"
    )
    assert [a.trials for a in result.arms] == [1000, 1000]
    assert [a.rate for a in result.arms] == [0.10, 0.15]
    with pytest.raises(UserInputError, match="more clicks than impressions"):
        ArmCounts("A", 10, 11, 0)
    with pytest.raises(UserInputError, match="more conversions than clicks"):
        ArmCounts("A", 10, 5, 6)
    with pytest.raises(UserInputError, match="at least two variants"):
        analyse([ArmCounts("A", 10, 1, 0)])
