"""Segmentation end to end: customers -> RFM segments -> clusters -> lifetime value.

Pages call the steps one by one (each is cached on its own inputs); the CLI and the
benchmark call `segment`, which runs them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from core.auth.roles import User
from core.data.catalog import Dataset
from core.errors import UserInputError
from core.segmentation import clv, features, k_selection, migration, profiles, rfm, rules
from core.segmentation.estimators import SEGMENTERS, make
from core.segmentation.orders import CustomerTable, OrderOptions, load_customers
from core.segmentation.stability import Stability, bootstrap

DEFAULT_HORIZON = {"days": 365.0, "weeks": 52.0}


@dataclass(frozen=True, slots=True)
class RfmSegments:
    """Customers with scores and segment names, the segment table and the score ranges."""

    customers: pd.DataFrame
    summary: pd.DataFrame
    edges: pd.DataFrame
    rules: tuple[rules.SegmentRule, ...]


@dataclass(frozen=True, slots=True)
class Clusters:
    """A clustering of the customers and everything needed to trust it."""

    algorithm: str
    k: int
    chosen_by: str  # "auto" (best silhouette in 3..8) or "analyst"
    scan: k_selection.KScan
    labels: np.ndarray  # cluster 1..k per customer row, 1 = most revenue per customer
    silhouette: float
    profiles: pd.DataFrame
    stability: Stability | None
    features: tuple[str, ...]
    scatter: pd.DataFrame

    @property
    def names(self) -> dict[int, str]:
        return dict(zip(self.profiles["cluster"], self.profiles["name"], strict=True))


@dataclass(frozen=True, slots=True)
class SegmentationSettings:
    """Everything a segmentation run depends on besides the data and the rules."""

    orders: OrderOptions = field(default_factory=OrderOptions)
    algorithm: str = "kmeans"
    k: int | None = None  # None: the default from the k scan
    extras: tuple[str, ...] = ()
    time_unit: str = "weeks"
    clv_horizon: float | None = None  # None: one year in the time unit
    random_state: int = 0
    stability_runs: int = 8
    fit_sample: int = k_selection.FIT_SAMPLE
    silhouette_sample: int = k_selection.SILHOUETTE_SAMPLE

    @property
    def horizon(self) -> float:
        return self.clv_horizon if self.clv_horizon is not None else DEFAULT_HORIZON[self.time_unit]


@dataclass(frozen=True, slots=True)
class SegmentationResult:
    """One full run: per-customer table plus the RFM, cluster and lifetime-value results."""

    table: CustomerTable
    rfm: RfmSegments
    clusters: Clusters | None
    clv: clv.ClvResult | None
    notes: tuple[str, ...]

    def per_customer(self) -> pd.DataFrame:
        """One row per customer: recency_days, frequency, monetary, scores, segment, cluster,
        cluster_name, expected_purchases, p_alive, clv (what `--out` writes)."""
        c = self.rfm.customers
        out = pd.DataFrame(
            {
                "customer_id": c["customer_id"],
                "recency_days": c["recency_days"],
                "frequency": c["orders"],
                "monetary": c["monetary"],
                "r_score": c["r_score"],
                "f_score": c["f_score"],
                "m_score": c["m_score"],
                "segment": c["segment"],
            }
        )
        if self.clusters is not None:
            out["cluster"] = self.clusters.labels
            out["cluster_name"] = [self.clusters.names[k] for k in self.clusters.labels]
        if self.clv is not None:
            values = self.clv.customers
            out["expected_purchases"] = values["expected_purchases"].to_numpy()
            out["p_alive"] = values["p_alive"].to_numpy()
            out["clv"] = values["clv"].to_numpy()
        return out


@dataclass(frozen=True, slots=True)
class Headline:
    """The page's metric cards: customers, the top cell's segment, lapsing regulars, repeaters."""

    customers: int
    top_segment: str
    top_share: float
    at_risk_customers: int
    at_risk_revenue_share: float
    repeat_share: float


def headline(segments: RfmSegments) -> Headline:
    """Summary numbers that do not depend on segment names (scores only, except the top name).

    At risk means R 1-2 with F 3-5: customers who used to buy often and have stopped.
    """
    c = segments.customers
    top = rules.assign(np.array([5]), np.array([5]), segments.rules)[0]
    at_risk = (c["r_score"] <= 2) & (c["f_score"] >= 3)
    revenue = float(c["revenue"].clip(lower=0).sum()) or 1.0
    return Headline(
        customers=len(c),
        top_segment=str(top),
        top_share=float((c["segment"] == top).mean()),
        at_risk_customers=int(at_risk.sum()),
        at_risk_revenue_share=float(c.loc[at_risk, "revenue"].clip(lower=0).sum()) / revenue,
        repeat_share=float((c["orders"] >= 2).mean()),
    )


def rfm_segments(table: CustomerTable, rule_set: Sequence[rules.SegmentRule]) -> RfmSegments:
    """Score R, F, M by quintiles and name each customer's segment by the rules."""
    checked = rules.validate(rule_set)
    scored = rfm.score(table.customers)
    customers = scored.scores
    customers["segment"] = rules.assign(customers["r_score"], customers["f_score"], checked)
    return RfmSegments(customers, rules.summary(customers, checked), scored.edges, checked)


def customers_in(segments: RfmSegments, segment: str) -> pd.DataFrame:
    """The customer IDs of one named segment (a one-column table, for download)."""
    c = segments.customers
    return c.loc[c["segment"] == segment, ["customer_id"]].reset_index(drop=True)


def feature_matrix(table: CustomerTable, extras: Sequence[str]) -> features.FeatureMatrix:
    """The standardised clustering features of a customer table."""
    return features.build(table.customers, features.feature_columns(extras, table.mix_columns))


def scan_k(
    table: CustomerTable,
    settings: SegmentationSettings,
    matrix: features.FeatureMatrix | None = None,
) -> k_selection.KScan:
    """Silhouette and inertia/BIC for k = 2..10."""
    matrix = matrix or feature_matrix(table, settings.extras)
    return k_selection.scan(
        matrix.values,
        settings.algorithm,
        random_state=settings.random_state,
        fit_sample=settings.fit_sample,
        silhouette_sample=settings.silhouette_sample,
    )


def cluster(
    table: CustomerTable,
    settings: SegmentationSettings,
    scan: k_selection.KScan | None = None,
    *,
    with_stability: bool = True,
) -> Clusters:
    """Fit the final clustering at the analyst's k (or the scan's default) and profile it."""
    if settings.algorithm not in SEGMENTERS:
        raise UserInputError(
            f"Unknown clustering algorithm {settings.algorithm!r}: choose {', '.join(SEGMENTERS)}."
        )
    matrix = feature_matrix(table, settings.extras)
    scan = scan or scan_k(table, settings, matrix)
    k = settings.k or scan.best_k
    n = len(matrix.values)
    if k < 2:
        raise UserInputError(f"Choose at least 2 clusters, not {k}.")
    if k >= n:
        raise UserInputError(
            f"k={k} needs at least {k + 1} customers; there are {n}: choose a smaller k."
        )
    estimator = make(settings.algorithm, k, settings.random_state).fit(matrix.values)
    raw = estimator.labels_
    sil_idx = k_selection.sample_rows(n, settings.silhouette_sample, settings.random_state + 1)
    score = k_selection.silhouette(matrix.values[sil_idx], raw[sil_idx])
    labels = profiles.order_by_value(table.customers, raw)
    profile = profiles.profile(table.customers, labels, matrix.values, matrix.names)
    names = dict(zip(profile["cluster"], profile["name"], strict=True))
    stability = None
    if with_stability and settings.stability_runs > 0:
        stability = bootstrap(
            matrix.values,
            settings.algorithm,
            k,
            runs=settings.stability_runs,
            sample=settings.silhouette_sample,
            random_state=settings.random_state,
        )
    return Clusters(
        algorithm=settings.algorithm,
        k=k,
        chosen_by="analyst" if settings.k else "auto",
        scan=scan,
        labels=labels,
        silhouette=score,
        profiles=profile,
        stability=stability,
        features=matrix.names,
        scatter=profiles.scatter_sample(table.customers, labels, names),
    )


def lifetime_value(table: CustomerTable, settings: SegmentationSettings) -> clv.ClvResult:
    """BG/NBD + Gamma-Gamma fitted on the table, predicting over the settings' horizon."""
    return clv.estimate(table.customers, settings.time_unit, settings.horizon)


def value_by_segment(segments: RfmSegments, value: clv.ClvResult) -> pd.DataFrame:
    """Expected value per RFM segment: segment, customers, clv, mean_clv, mean_p_alive."""
    frame = pd.DataFrame(
        {
            "segment": segments.customers["segment"].to_numpy(),
            "clv": value.customers["clv"].to_numpy(),
            "p_alive": value.customers["p_alive"].to_numpy(),
        }
    )
    grouped = frame.groupby("segment", sort=False).agg(
        customers=("clv", "size"),
        clv=("clv", "sum"),
        mean_clv=("clv", "mean"),
        mean_p_alive=("p_alive", "mean"),
    )
    order = [r.name for r in segments.rules if r.name in grouped.index]
    return grouped.reindex(order).reset_index()


def compare_dates(
    con,
    user: User,
    dataset: Dataset,
    options: OrderOptions,
    before: date,
    rule_set: Sequence[rules.SegmentRule],
) -> migration.Migration:
    """Segments at `before` against those at the options' as-of date (or the latest)."""
    later = load_customers(con, user, dataset, options)
    after = rfm_segments(later, rule_set)
    earlier = load_customers(con, user, dataset, replace(options, as_of=before, mix_roles=()))
    return migration.compare(
        rfm_segments(earlier, rule_set).customers,
        after.customers,
        earlier.as_of,
        later.as_of,
        [r.name for r in after.rules],
    )


def segment(
    con,
    user: User,
    dataset: Dataset,
    settings: SegmentationSettings,
    rule_set: Sequence[rules.SegmentRule] = rules.STANDARD_RULES,
    *,
    with_clusters: bool = True,
    with_clv: bool = True,
    with_stability: bool = True,
) -> SegmentationResult:
    """Run the whole segmentation of `dataset` (what the CLI and the benchmark call)."""
    mix_roles = tuple(e.removesuffix(" mix") for e in settings.extras if e.endswith(" mix"))
    options = replace(settings.orders, mix_roles=mix_roles)
    table = load_customers(con, user, dataset, options)
    segments = rfm_segments(table, rule_set)
    notes = list(table.quality.notes())
    clusters = None
    if with_clusters:
        clusters = cluster(table, settings, with_stability=with_stability)
    value = None
    if with_clv:
        try:
            value = lifetime_value(table, settings)
            notes += value.notes
        except UserInputError as exc:
            notes.append(f"Lifetime value not estimated: {exc}")
    return SegmentationResult(table, segments, clusters, value, tuple(notes))
