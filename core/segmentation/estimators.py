"""Clustering estimators behind one scikit-learn-style interface, and their registry.

Each follows the scikit-learn contract: `__init__` stores parameters only, `fit` returns
self, learned attributes end in `_`, `predict` assigns new rows. `criterion_` is the
curve the k scan shows: inertia for k-means (lower is tighter), BIC for the Gaussian
mixture (lower is better).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from core.errors import UserInputError

# One thread per fit by default: on a shared 2-core machine OpenMP's spinning threads made a
# 20,000-row k-means 30x slower (2.8 s against 0.09 s) whenever another process was busy,
# and the fits here are small (mini-batches above 50,000 rows).
DEFAULT_THREADS = 1


@contextmanager
def limited_threads(n_threads: int | None = DEFAULT_THREADS) -> Iterator[None]:
    """Cap the BLAS and OpenMP threads of scikit-learn inside the block (None: no cap)."""
    with threadpool_limits(limits=n_threads):
        yield


def _check_k(n_clusters: int, n_samples: int) -> None:
    if n_clusters < 1:
        raise UserInputError(f"Choose at least 1 cluster, not {n_clusters}.")
    if n_samples < n_clusters:
        raise UserInputError(
            f"k={n_clusters} needs at least {n_clusters} customers; there are "
            f"{n_samples}: choose a smaller k."
        )


def _fit_rows(X: np.ndarray, limit: int | None, random_state: int | None) -> np.ndarray:
    """A random subset of at most `limit` rows (all rows when under the limit)."""
    if limit is None or len(X) <= limit:
        return X
    rng = np.random.default_rng(random_state)
    return X[np.sort(rng.choice(len(X), limit, replace=False))]


class KMeansSegmenter(ClusterMixin, BaseEstimator):
    """k-means; mini-batch k-means above `minibatch_threshold` rows."""

    criterion_name = "inertia"

    def __init__(
        self,
        n_clusters: int = 5,
        *,
        random_state: int | None = 0,
        n_init: int = 4,
        minibatch_threshold: int = 50_000,
        batch_size: int = 4096,
        n_threads: int | None = DEFAULT_THREADS,
    ) -> None:
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.n_init = n_init
        self.minibatch_threshold = minibatch_threshold
        self.batch_size = batch_size
        self.n_threads = n_threads

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        _check_k(self.n_clusters, len(X))
        self.minibatch_ = len(X) > self.minibatch_threshold
        if self.minibatch_:
            model = MiniBatchKMeans(
                n_clusters=self.n_clusters,
                random_state=self.random_state,
                n_init=self.n_init,
                batch_size=self.batch_size,
            )
        else:
            model = KMeans(
                n_clusters=self.n_clusters, random_state=self.random_state, n_init=self.n_init
            )
        with limited_threads(self.n_threads):
            model.fit(X)
        self.model_ = model
        self.cluster_centers_ = model.cluster_centers_
        self.labels_ = model.labels_
        self.inertia_ = float(model.inertia_)
        self.criterion_ = self.inertia_
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        with limited_threads(self.n_threads):
            return self.model_.predict(X)


class GaussianMixtureSegmenter(ClusterMixin, BaseEstimator):
    """Gaussian mixture (full covariances), fitted on at most `max_fit_rows` sampled rows."""

    criterion_name = "BIC"

    def __init__(
        self,
        n_clusters: int = 5,
        *,
        random_state: int | None = 0,
        covariance_type: str = "full",
        n_init: int = 2,
        max_fit_rows: int | None = 200_000,
        n_threads: int | None = DEFAULT_THREADS,
    ) -> None:
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.max_fit_rows = max_fit_rows
        self.n_threads = n_threads

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        _check_k(self.n_clusters, len(X))
        rows = _fit_rows(X, self.max_fit_rows, self.random_state)
        model = GaussianMixture(
            n_components=self.n_clusters,
            covariance_type=self.covariance_type,
            random_state=self.random_state,
            n_init=self.n_init,
            reg_covar=1e-4,  # log-scaled counts are lumpy (many 0s and 1s): keep covariances proper
        )
        with limited_threads(self.n_threads):
            model.fit(rows)
            self.labels_ = model.predict(X)
            self.bic_ = float(model.bic(rows))
        self.model_ = model
        self.cluster_centers_ = model.means_
        self.criterion_ = self.bic_
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        with limited_threads(self.n_threads):
            return self.model_.predict(X)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        with limited_threads(self.n_threads):
            return self.model_.predict_proba(X)


@dataclass(frozen=True, slots=True)
class SegmenterSpec:
    """A registered clustering algorithm."""

    name: str
    label: str
    factory: Callable[..., BaseEstimator]
    criterion: str
    criterion_help: str


SEGMENTERS: dict[str, SegmenterSpec] = {}


def register(spec: SegmenterSpec) -> SegmenterSpec:
    """Add an algorithm (built-ins register the same way an extension would)."""
    SEGMENTERS[spec.name] = spec
    return spec


register(
    SegmenterSpec(
        "kmeans",
        "k-means",
        KMeansSegmenter,
        "inertia",
        "Within-cluster sum of squared distances: look for the elbow where it stops falling fast.",
    )
)
register(
    SegmenterSpec(
        "gmm",
        "Gaussian mixture",
        GaussianMixtureSegmenter,
        "BIC",
        "Bayesian information criterion: lower is better; it penalises extra clusters.",
    )
)


def make(algorithm: str, n_clusters: int, random_state: int | None = 0) -> BaseEstimator:
    """A fresh estimator of a registered algorithm."""
    spec = SEGMENTERS.get(algorithm)
    if spec is None:
        raise UserInputError(
            f"Unknown clustering algorithm {algorithm!r}: choose {', '.join(SEGMENTERS)}."
        )
    return spec.factory(n_clusters=n_clusters, random_state=random_state)
