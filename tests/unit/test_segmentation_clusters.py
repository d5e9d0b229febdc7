"""Clustering: estimators recover well-separated groups, k is chosen in the open, profiles
get names from their numbers, stability tells structure from noise, migration counts moves."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from core.errors import UserInputError
from core.segmentation import features, k_selection, migration, profiles, stability
from core.segmentation.estimators import (
    SEGMENTERS,
    GaussianMixtureSegmenter,
    KMeansSegmenter,
    make,
)

CENTRES = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8]], dtype=float)


def blobs(n_per: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(CENTRES)), n_per)
    return CENTRES[truth] + rng.normal(0, 0.6, (len(truth), 3)), truth


@pytest.mark.parametrize("algorithm", list(SEGMENTERS))
def test_estimators_recover_separated_groups(algorithm):
    X, truth = blobs()
    estimator = make(algorithm, 4).fit(X)
    assert adjusted_rand_score(truth, estimator.labels_) == 1.0
    assert adjusted_rand_score(truth, estimator.predict(X + 0.01)) == 1.0
    assert estimator.criterion_ == (estimator.inertia_ if algorithm == "kmeans" else estimator.bic_)


@pytest.mark.parametrize(
    "estimator", [KMeansSegmenter(3), GaussianMixtureSegmenter(3)], ids=["kmeans", "gmm"]
)
def test_scikit_learn_estimator_checks(estimator):
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [
        (r["check_name"], str(r["exception"])[:80]) for r in results if r["status"] == "failed"
    ]
    assert failed == []


def test_estimators_follow_the_scikit_learn_contract():
    from sklearn.base import clone

    X, _ = blobs(50)
    for estimator in (KMeansSegmenter(3, random_state=1), GaussianMixtureSegmenter(3)):
        assert clone(estimator).get_params() == estimator.get_params()
        assert not hasattr(estimator, "labels_")  # __init__ stores parameters only
        assert estimator.fit(X) is estimator
        assert estimator.n_features_in_ == 3
    big = KMeansSegmenter(4, minibatch_threshold=100).fit(blobs()[0])
    assert big.minibatch_ and type(big.model_).__name__ == "MiniBatchKMeans"
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KMeansSegmenter().predict(X)


def test_fewer_customers_than_k_is_a_clear_error():
    X = np.arange(15, dtype=float).reshape(5, 3)
    with pytest.raises(UserInputError, match="k=8 needs at least 8 customers; there are 5"):
        make("kmeans", 8).fit(X)
    with pytest.raises(UserInputError, match="Unknown clustering algorithm 'dbscan'"):
        make("dbscan", 3)


def test_k_scan_finds_four_groups_and_shows_every_k():
    X, _ = blobs()
    for algorithm in SEGMENTERS:
        scan = k_selection.scan(X, algorithm)
        assert scan.table["k"].tolist() == list(range(2, 11))
        assert scan.best_k == 4
        assert scan.table.set_index("k")["silhouette"].idxmax() == 4
        assert scan.criterion == ("inertia" if algorithm == "kmeans" else "BIC")
    inertia = k_selection.scan(X, "kmeans").table["criterion"]
    assert inertia.is_monotonic_decreasing


def test_k2_is_not_picked_silently():
    table = pd.DataFrame(
        {
            "k": range(2, 11),
            "silhouette": [0.7, 0.4, 0.5, 0.45, 0.3, 0.3, 0.2, 0.2, 0.1],
            "criterion": 0.0,
        }
    )
    k, note = k_selection.choose_k(table)
    assert k == 4
    assert "k=4 has the best silhouette (0.50) among k=3..8" in note
    assert "k=2 scores higher (0.70)" in note


def test_k_scan_samples_large_data_and_says_so():
    X, _ = blobs(400)
    scan = k_selection.scan(X, "kmeans", fit_sample=1000, silhouette_sample=500)
    assert (scan.fit_rows, scan.silhouette_rows) == (1000, 500)
    assert "fitted on 1,000 sampled customers; silhouette on 500" in scan.note
    assert scan.best_k == 4


def test_k_scan_with_too_few_customers():
    with pytest.raises(UserInputError, match="at least 3 customers"):
        k_selection.scan(np.zeros((2, 3)), "kmeans")
    small = k_selection.scan(np.array([[0.0], [0.1], [5.0], [5.1], [9.0]]), "kmeans")
    assert small.table["k"].tolist() == [2, 3, 4]


def test_features_are_log_scaled_and_standardised():
    customers = pd.DataFrame(
        {
            "recency_days": [0, 10, 100],
            "orders": [1, 1, 1],
            "monetary": [-5, 0, np.e - 1],
            "tenure_days": [5, 50, 500],
            "category: A": [0.2, 0.5, 1.0],
        }
    )
    columns = features.feature_columns(["tenure_days", "category mix"], ["category: A"])
    assert columns == ["recency_days", "orders", "monetary", "tenure_days", "category: A"]
    matrix = features.build(customers, columns)
    np.testing.assert_allclose(matrix.values.mean(axis=0), 0, atol=1e-12)
    assert (matrix.values[:, 1] == 0).all()  # constant orders: no information, no NaN
    raw_m = np.log1p([0, 0, np.e - 1])  # negative spend clipped to 0
    np.testing.assert_allclose(matrix.values[:, 2], (raw_m - raw_m.mean()) / raw_m.std())
    with pytest.raises(UserInputError, match="Unknown extra feature 'age'"):
        features.feature_columns(["age"], [])


def test_profiles_are_named_from_their_numbers():
    rng = np.random.default_rng(0)
    n = 200
    best = pd.DataFrame(
        {
            "recency_days": rng.integers(1, 20, n),
            "orders": rng.integers(15, 30, n),
            "monetary": rng.uniform(2000, 4000, n),
        }
    )
    lost = pd.DataFrame(
        {"recency_days": rng.integers(500, 900, n), "orders": 1, "monetary": rng.uniform(10, 40, n)}
    )
    customers = pd.concat([lost, best], ignore_index=True)
    customers["revenue"] = customers["monetary"]
    customers["aov"] = customers["monetary"] / customers["orders"]
    customers["tenure_days"] = 900
    labels_raw = np.repeat([0, 1], n)  # cluster 0 = lost, 1 = best
    labels = profiles.order_by_value(customers, labels_raw)
    assert labels[0] == 2 and labels[-1] == 1  # 1 = most revenue per customer
    matrix = features.build(customers, list(features.BASE_FEATURES))
    table = profiles.profile(customers, labels, matrix.values, matrix.names).set_index("cluster")
    assert table.loc[1, "name"] == "Recent frequent high spenders"
    assert table.loc[2, "name"] == "Lapsed one-time low spenders"
    assert table.loc[1, "customers"] == n and table.loc[1, "share"] == 0.5
    assert table.loc[1, "revenue_share"] == pytest.approx(
        best["monetary"].sum() / customers["monetary"].sum()
    )
    assert profiles._unique(["recent", "recent", "lapsed"]) == ["Recent", "Recent (2)", "Lapsed"]


def test_stability_tells_structure_from_noise():
    X, _ = blobs()
    solid = stability.bootstrap(X, "kmeans", 4, runs=5)
    noise = stability.bootstrap(
        np.random.default_rng(1).uniform(size=(600, 3)), "kmeans", 6, runs=5
    )
    assert solid.score > 0.99 and solid.verdict == "stable"
    assert noise.score < solid.score - 0.1
    assert solid.runs == 5 and solid.rows == 600


def test_migration_counts_moves_by_hand():
    before = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "segment": ["Champions", "Champions", "At Risk", "Hibernating"],
        }
    )
    after = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "segment": ["Champions", "At Risk", "At Risk", "Champions", "Champions"],
            "revenue": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    order = ["Champions", "At Risk", "Hibernating"]
    moved = migration.compare(before, after, date(2024, 1, 1), date(2024, 6, 30), order)
    assert moved.matrix.loc["Champions"].tolist() == [1, 1, 0]
    assert moved.matrix.loc["At Risk"].tolist() == [0, 1, 0]
    assert moved.matrix.loc["Hibernating"].tolist() == [1, 0, 0]
    assert moved.matrix.loc[migration.NEW].tolist() == [1, 0, 0]
    assert moved.moved("Champions", "At Risk")["customer_id"].tolist() == ["b"]
    assert moved.stayed_share() == 0.5
    flows = moved.flows.set_index(["from_segment", "to_segment"])
    assert flows.loc[("Champions", "At Risk"), "revenue_after"] == 20.0
    shares = migration.row_shares(moved.matrix)
    assert shares.loc["Champions", "At Risk"] == 0.5 and shares.loc["At Risk"].sum() == 1
    with pytest.raises(UserInputError, match="must be before the as-of date"):
        migration.compare(before, after, date(2024, 6, 30), date(2024, 6, 30), order)
