"""A/B test statistics for copy variants: z-tests, probability best, sample size, winner.

A winner is called only when the leading variant beats every other variant with a
two-proportion z-test (statsmodels) whose Holm-adjusted p-value is under alpha, and
every variant has enough successes and failures for the normal approximation.
The Bayesian probability that each variant is best uses Beta(1 + s, 1 + n - s)
posteriors: exact for two variants, Monte Carlo with a fixed seed for more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)

from core.errors import UserInputError

MIN_EVENTS = 5  # successes and failures per variant for the normal approximation
DRAWS = 200_000


@dataclass(frozen=True, slots=True)
class Metric:
    """What an experiment compares: successes out of trials."""

    key: str
    label: str
    successes: str
    trials: str


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("ctr", "Click-through rate (clicks / impressions)", "clicks", "impressions"),
        Metric("conversion", "Conversion rate (conversions / clicks)", "conversions", "clicks"),
        Metric(
            "conversion_per_view",
            "Conversions per impression (conversions / impressions)",
            "conversions",
            "impressions",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """What was recorded for one variant."""

    label: str
    impressions: int
    clicks: int
    conversions: int

    def __post_init__(self) -> None:
        if min(self.impressions, self.clicks, self.conversions) < 0:
            raise UserInputError(f"{self.label}: counts cannot be negative.")
        if self.clicks > self.impressions:
            raise UserInputError(f"{self.label}: more clicks than impressions.")
        if self.conversions > self.clicks:
            raise UserInputError(f"{self.label}: more conversions than clicks.")

    def counts(self, metric: Metric) -> tuple[int, int]:
        return getattr(self, metric.successes), getattr(self, metric.trials)


@dataclass(frozen=True, slots=True)
class ArmResult:
    """One variant's rate, interval, test against the leader and chance of being best."""

    label: str
    successes: int
    trials: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # vs the leader, Holm-adjusted; None for the leader itself
    probability_best: float | None


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    """The analysis of an experiment; `winner` only when the data say so."""

    metric: str
    alpha: float
    arms: tuple[ArmResult, ...]
    leader: str | None
    winner: str | None
    verdict: str

    def as_json(self) -> dict:
        return {
            "metric": self.metric,
            "alpha": self.alpha,
            "leader": self.leader,
            "winner": self.winner,
            "verdict": self.verdict,
            "arms": [
                {
                    "label": a.label,
                    "successes": a.successes,
                    "trials": a.trials,
                    "rate": a.rate,
                    "ci_low": a.ci_low,
                    "ci_high": a.ci_high,
                    "p_value": a.p_value,
                    "probability_best": a.probability_best,
                }
                for a in self.arms
            ],
        }


def two_proportion_test(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """Two-sided pooled z-test of s1/n1 against s2/n2: (z, p-value)."""
    if n1 <= 0 or n2 <= 0:
        raise UserInputError("Both variants need at least one trial for a z-test.")
    if s1 + s2 in (0, n1 + n2):  # no variance at all: nothing can differ
        return 0.0, 1.0
    z, p = proportions_ztest(np.array([s1, s2]), np.array([n1, n2]), alternative="two-sided")
    return float(z), float(p)


def _prob_b_beats_a(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Exact P(p_B > p_A) for Beta(1+s, 1+n-s) posteriors (Evan Miller's closed form)."""
    alpha_a, beta_a = 1 + a[0], 1 + a[1] - a[0]
    alpha_b, beta_b = 1 + b[0], 1 + b[1] - b[0]
    i = np.arange(alpha_b)
    terms = (
        betaln(alpha_a + i, beta_a + beta_b)
        - np.log(beta_b + i)
        - betaln(1 + i, beta_b)
        - betaln(alpha_a, beta_a)
    )
    return float(np.clip(np.exp(terms).sum(), 0.0, 1.0))


def probability_best(
    counts: Sequence[tuple[int, int]], *, draws: int = DRAWS, seed: int = 7
) -> list[float]:
    """For each (successes, trials), the posterior probability its rate is the highest."""
    if len(counts) == 2:
        b_wins = _prob_b_beats_a(counts[0], counts[1])
        return [1.0 - b_wins, b_wins]
    rng = np.random.default_rng(seed)
    samples = np.column_stack([rng.beta(1 + s, 1 + n - s, size=draws) for s, n in counts])
    best = np.bincount(samples.argmax(axis=1), minlength=len(counts))
    return (best / draws).tolist()


def _holm(p_values: list[float]) -> list[float]:
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def analyse(
    arms: Sequence[ArmCounts], metric: str = "ctr", alpha: float = 0.05
) -> ExperimentResult:
    """Rates, intervals, tests against the leader, probability best and the verdict."""
    if metric not in METRICS:
        raise UserInputError(f"Unknown metric {metric!r}: choose {', '.join(METRICS)}.")
    if not 0 < alpha < 0.5:
        raise UserInputError("The significance level must be between 0 and 0.5 (e.g. 0.05).")
    if len(arms) < 2:
        raise UserInputError("An experiment compares at least two variants.")
    spec = METRICS[metric]
    counts = [arm.counts(spec) for arm in arms]
    rates = [s / n if n else None for s, n in counts]
    with_data = [i for i, n in enumerate(counts) if n[1] > 0]
    leader = max(with_data, key=lambda i: rates[i]) if with_data else None
    raw_p: dict[int, float] = {}
    if leader is not None:
        for i in with_data:
            if i != leader:
                raw_p[i] = two_proportion_test(*counts[leader], *counts[i])[1]
    adjusted = dict(zip(raw_p, _holm(list(raw_p.values())), strict=True)) if raw_p else {}
    probs = probability_best(counts) if len(with_data) == len(counts) else [None] * len(counts)
    results = []
    for i, arm in enumerate(arms):
        s, n = counts[i]
        low, high = proportion_confint(s, n, alpha=0.05, method="wilson") if n else (None, None)
        results.append(
            ArmResult(
                arm.label,
                s,
                n,
                rates[i],
                None if low is None else float(low),
                None if high is None else float(high),
                adjusted.get(i),
                None if probs[i] is None else float(probs[i]),
            )
        )
    winner, verdict = None, ""
    thin = [a.label for a, (s, n) in zip(arms, counts, strict=True) if min(s, n - s) < MIN_EVENTS]
    if leader is None or len(with_data) < len(arms):
        verdict = f"No winner yet: record {spec.trials} for every variant."
    elif thin:
        verdict = (
            f"No winner yet: {', '.join(thin)} need at least {MIN_EVENTS} {spec.successes} "
            f"and {MIN_EVENTS} without, for the test to hold."
        )
    elif all(p < alpha for p in adjusted.values()):
        winner = arms[leader].label
        worst = max(adjusted.values())
        verdict = (
            f"{winner} wins: its {spec.label.split(' (')[0].lower()} is higher than every other "
            f"variant's (p = {worst:.3g} < {alpha:g}, Holm-adjusted z-tests)."
        )
    else:
        losing = [arms[i].label for i, p in adjusted.items() if p >= alpha]
        verdict = (
            f"No winner yet: {arms[leader].label} leads, but not significantly over "
            f"{', '.join(losing)} (p ≥ {alpha:g}). Keep the test running."
        )
    return ExperimentResult(
        metric=metric,
        alpha=alpha,
        arms=tuple(results),
        leader=None if leader is None else arms[leader].label,
        winner=winner,
        verdict=verdict,
    )


@dataclass(frozen=True, slots=True)
class SampleSize:
    """Trials each variant needs to detect an uplift."""

    per_variant: int
    total: int
    baseline: float
    target: float


def sample_size(
    baseline: float, uplift: float, *, alpha: float = 0.05, power: float = 0.8, variants: int = 2
) -> SampleSize:
    """Trials per variant to detect a relative `uplift` over `baseline` (Cohen's h, z-test)."""
    if not 0 < baseline < 1:
        raise UserInputError("The baseline rate must be between 0 and 1 (e.g. 0.03 for 3%).")
    target = baseline * (1 + uplift)
    if uplift == 0 or not 0 < target < 1:
        raise UserInputError("The uplift must be non-zero and keep the target rate below 100%.")
    if not 0 < alpha < 0.5 or not 0.5 <= power < 1:
        raise UserInputError("Use a significance level in (0, 0.5) and a power in [0.5, 1).")
    if variants < 2:
        raise UserInputError("An experiment compares at least two variants.")
    effect = abs(proportion_effectsize(target, baseline))
    n = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    per = math.ceil(float(n))
    return SampleSize(per_variant=per, total=per * variants, baseline=baseline, target=target)
