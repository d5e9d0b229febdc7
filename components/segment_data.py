"""Cached core calls of the Segments page, keyed on the immutable version file and parameters.

A `Source` names the dataset version and the acting user; every function here passes the
file path and column roles as the cache key (dataset versions never change once written),
and the dataset and user themselves as unhashed arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from components.resources import duckdb_cursor
from core.auth.roles import User
from core.data.catalog import Dataset
from core.segmentation import clv, k_selection, orders, pipeline, rules
from core.segmentation.rule_store import RuleSet

Options = tuple  # (as_of, monetary, returns[, mix roles]) as plain values


@dataclass(frozen=True)
class Source:
    """The dataset version being segmented and who is looking."""

    dataset: Dataset
    user: User

    @property
    def key(self) -> tuple[str, tuple]:
        roles = tuple(sorted((c, r) for c, r in self.dataset.roles.items() if r))
        return str(self.dataset.path), roles


def order_options(as_of: date | None, monetary: str, returns: str, mix: tuple = ()):
    """OrderOptions from the page's plain values."""
    return orders.OrderOptions(as_of=as_of, monetary=monetary, returns=returns, mix_roles=mix)


def rule_rows(rule_set: RuleSet) -> tuple:
    """Rules as plain tuples (a cache key)."""
    return tuple((r.name, r.r_min, r.r_max, r.f_min, r.f_max, r.action) for r in rule_set.rules)


@st.cache_data(max_entries=16, show_spinner=False)
def _customers(key: tuple, options: Options, _dataset: Dataset, _user: User):
    return orders.load_customers(duckdb_cursor(), _user, _dataset, order_options(*options))


def customers(src: Source, options: Options) -> orders.CustomerTable:
    """The per-customer table at the options' as-of date."""
    return _customers(src.key, options, src.dataset, src.user)


@st.cache_data(max_entries=16, show_spinner=False)
def _activity(key: tuple, as_of: date, _dataset: Dataset, _user: User):
    return orders.monthly_activity(duckdb_cursor(), _user, _dataset, as_of)


def activity(src: Source, as_of: date):
    """Customers and revenue per month for the last 12 months (sparklines)."""
    return _activity(src.key, as_of, src.dataset, src.user)


@st.cache_data(max_entries=16, show_spinner=False)
def _segments(key: tuple, options: Options, rows: tuple, _dataset: Dataset, _user: User):
    table = _customers(key, options, _dataset, _user)
    return pipeline.rfm_segments(table, [rules.SegmentRule(*r) for r in rows])


def segments(src: Source, options: Options, rule_set: RuleSet) -> pipeline.RfmSegments:
    """RFM scores and named segments under the rule set."""
    return _segments(src.key, options, rule_rows(rule_set), src.dataset, src.user)


@st.cache_data(max_entries=16, show_spinner=False)
def _scan(key: tuple, options: Options, algorithm: str, extras: tuple, _dataset, _user):
    table = _customers(key, options, _dataset, _user)
    settings = pipeline.SegmentationSettings(algorithm=algorithm, extras=extras)
    return pipeline.scan_k(table, settings)


def scan(src: Source, options: Options, algorithm: str, extras: tuple) -> k_selection.KScan:
    """Silhouette and inertia/BIC for k = 2..10."""
    return _scan(src.key, options, algorithm, extras, src.dataset, src.user)


@st.cache_data(max_entries=16, show_spinner=False)
def _clusters(key: tuple, options: Options, algorithm: str, extras: tuple, k, _dataset, _user):
    table = _customers(key, options, _dataset, _user)
    found = _scan(key, options, algorithm, extras, _dataset, _user)
    settings = pipeline.SegmentationSettings(algorithm=algorithm, extras=extras, k=k)
    return pipeline.cluster(table, settings, found)


def clusters(
    src: Source, options: Options, algorithm: str, extras: tuple, k: int | None
) -> pipeline.Clusters:
    """The final clustering at k (None: the scan's default), with profiles and stability."""
    return _clusters(src.key, options, algorithm, extras, k, src.dataset, src.user)


@st.cache_data(max_entries=16, show_spinner=False)
def _value(key: tuple, options: Options, unit: str, horizon: float, _dataset, _user):
    table = _customers(key, options, _dataset, _user)
    settings = pipeline.SegmentationSettings(time_unit=unit, clv_horizon=horizon)
    return pipeline.lifetime_value(table, settings)


def value(src: Source, options: Options, unit: str, horizon: float) -> clv.ClvResult:
    """BG/NBD + Gamma-Gamma lifetime value over the horizon."""
    return _value(src.key, options, unit, horizon, src.dataset, src.user)


def pct(share: float) -> str:
    """A share as a percentage with one decimal."""
    return f"{share:.1%}"


def customer_columns() -> dict:
    """Column labels and formats shared by the page's per-customer and profile tables."""
    number = st.column_config.NumberColumn
    return {
        "customer_id": st.column_config.TextColumn("Customer"),
        "cluster": number("Cluster", format="%d"),
        "name": st.column_config.TextColumn("Name"),
        "cluster_name": st.column_config.TextColumn("Cluster name"),
        "customers": number("Customers", format="%d"),
        "share": number("Share", format="percent"),
        "revenue_share": number("Revenue share", format="percent"),
        "recency_days": number("Recency (days)", format="%.0f"),
        "orders": number("Orders", format="%.1f"),
        "frequency": number("Orders", format="%d"),
        "monetary": number("Spend", format="%.2f"),
        "revenue": number("Revenue per customer", format="%.2f"),
        "aov": number("Avg order value", format="%.2f"),
        "tenure_days": number("Tenure (days)", format="%.0f"),
        "r_score": number("R", format="%d"),
        "f_score": number("F", format="%d"),
        "m_score": number("M", format="%d"),
        "segment": st.column_config.TextColumn("Segment"),
        "expected_purchases": number("Expected purchases", format="%.2f"),
        "p_alive": number("P(alive)", format="percent"),
        "clv": number("Expected value", format="%.2f"),
    }
