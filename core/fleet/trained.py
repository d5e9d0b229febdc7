"""Beacon-trained models ready to package: the forecasting global model, a segment
classifier, and plain models for the benchmark.

Beacon's store keeps forecasts and cluster summaries, not fitted models, so each is
trained here on demand, from the same data and settings its feature uses, and the
lineage (dataset, version, run, settings) is recorded with it. Held-out rows are rows the
model never trained on: the latest windows of each series (their future is not known
yet) for forecasting, a stratified 20% of customers for the segment classifier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np

from core.auth.roles import Role, User, require
from core.data.catalog import Dataset
from core.errors import NotFound, UserInputError
from core.fleet.packaging import Candidate
from core.fleet.preprocessing import with_preprocessing
from core.services import Services

HOLDOUT_SHARE = 0.2
MAX_HOLDOUT = 2000


def _classifiers() -> dict[str, Callable[[int], Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.tree import DecisionTreeClassifier

    return {
        # k-means cells are bounded by hyperplanes: a linear model can draw them exactly.
        "logistic": lambda seed: LogisticRegression(max_iter=2000),
        "tree": lambda seed: DecisionTreeClassifier(max_depth=8, random_state=seed),
        "mlp": lambda seed: MLPClassifier(
            hidden_layer_sizes=(64, 64), max_iter=500, random_state=seed
        ),
    }


CLASSIFIERS = {
    "logistic": "Logistic regression",
    "tree": "Decision tree",
    "mlp": "Neural network (MLP)",
}
BENCHMARK_KINDS = ("mlp", "gbm", "linear")


def _at_version(services: Services, user: User, name: str, version: int | None) -> Dataset:
    dataset = services.catalog.get(user, name)
    if version is None or version == dataset.version:
        return dataset
    found = [v for v in services.catalog.versions(user, name) if v.version == version]
    if not found:
        raise NotFound(f"{name} has no version {version} any more.")
    return replace(dataset, current=found[0])


# --- segment classifier --------------------------------------------------------------


def segment_classifier(
    services: Services, user: User, run_id: int, *, algorithm: str = "logistic", seed: int = 0
) -> Candidate:
    """A classifier that predicts a saved segmentation run's cluster from its features."""
    from sklearn.model_selection import train_test_split

    from core.segmentation import pipeline, runs
    from core.segmentation.orders import OrderOptions, load_customers

    require(user, Role.ADMIN, "Packaging models for the edge")
    if algorithm not in CLASSIFIERS:
        raise UserInputError(f"Choose the classifier from {', '.join(CLASSIFIERS)}.")
    saved = runs.get_run(services.store, user, run_id)
    dataset = _at_version(services, user, saved.dataset, saved.dataset_version)
    params = saved.params
    orders = dict(params.get("orders") or {})
    extras = tuple(params.get("extras") or ())
    options = OrderOptions(
        as_of=date.fromisoformat(orders["as_of"]) if orders.get("as_of") else None,
        monetary=orders.get("monetary", "total"),
        returns=orders.get("returns", "net"),
        mix_roles=tuple(e.removesuffix(" mix") for e in extras if e.endswith(" mix")),
    )
    settings = pipeline.SegmentationSettings(
        orders=options,
        algorithm=params.get("algorithm", "kmeans"),
        k=saved.k,
        extras=extras,
        random_state=int(params.get("random_state", 0)),
        stability_runs=0,
    )
    con = services.catalog.connect()
    try:
        table = load_customers(con, user, dataset, options)
    finally:
        con.close()
    clusters = pipeline.cluster(table, settings, with_stability=False)
    matrix = pipeline.feature_matrix(table, extras)
    X, y = matrix.values.astype(np.float32), clusters.labels
    # What a device sends: the customer's raw values (missing as 0, like segmentation).
    raw = table.customers[list(matrix.names)].to_numpy(dtype=np.float32, na_value=0.0)
    counts = np.bincount(y)
    if len(X) < 20 or counts[counts > 0].min() < 2:
        raise UserInputError("The run has too few customers per cluster to train a classifier.")
    train, test = train_test_split(
        np.arange(len(X)), test_size=HOLDOUT_SHARE, stratify=y, random_state=seed
    )
    label = CLASSIFIERS[algorithm]
    model = _classifiers()[algorithm](seed).fit(X[train], y[train])
    accuracy = float(np.mean(model.predict(X[test]) == y[test]))
    names = {int(k): str(v) for k, v in clusters.names.items()}
    log_scaled = [n in _log_scaled() for n in matrix.names]
    return Candidate(
        name=f"segments-{saved.dataset}"[:100],
        kind="classifier",
        source="segmentation",
        estimator=with_preprocessing(model, log_scaled, matrix.means, matrix.stds),
        holdout=raw[test][:MAX_HOLDOUT],
        feature_names=matrix.names,
        lineage={
            "dataset": saved.dataset,
            "dataset_version": saved.dataset_version,
            "run_id": saved.id,
            "run_name": saved.name,
            "as_of": saved.as_of.isoformat(),
            "k": saved.k,
            "clusters": names,
            "classifier": algorithm,
        },
        quality={"holdout_accuracy": accuracy, "holdout_rows": len(test)},
        preprocessing={
            "description": "built into the model: send each feature's raw value (missing "
            "as 0); the graph takes log1p of day, count and money features (negatives "
            "clipped to 0), then (value - mean) / std per feature",
            "in_graph": True,
            "log1p": [n for n, flag in zip(matrix.names, log_scaled, strict=True) if flag],
            "means": [float(v) for v in matrix.means],
            "stds": [float(v) for v in matrix.stds],
        },
        notes=(
            f"{label} predicts the {saved.k} clusters of run {saved.id} with "
            f"{accuracy:.1%} accuracy on {len(test):,} held-out customers",
        ),
    )


def _log_scaled() -> frozenset[str]:
    from core.segmentation.features import LOG_SCALED

    return LOG_SCALED


# --- forecasting global model --------------------------------------------------------


def forecast_model(
    services: Services,
    user: User,
    dataset_name: str | None = None,
    *,
    date_col: str | None = None,
    value_col: str | None = None,
    id_col: str | None = None,
    freq: str | None = None,
    agg: str = "sum",
    horizon: int = 6,
    adjust: bool = True,
    run_id: int | None = None,
) -> Candidate:
    """Forecasting's global gradient boosting, trained on a dataset as a run would train it.

    With `run_id`, the dataset, version, columns, frequency, aggregation and horizon
    come from that saved forecast run.
    """
    from core.forecasting import batch, query, runs
    from core.forecasting.global_model import MIN_SERIES, GlobalBoosting
    from core.forecasting.series import prepare

    require(user, Role.ADMIN, "Packaging models for the edge")
    version = None
    if run_id is not None:
        saved = runs.get_run(services.store, user, run_id)
        if not saved.info.dataset:
            raise UserInputError(f"Forecast run {run_id} was not made from a catalog dataset.")
        dataset_name, version = saved.info.dataset, saved.info.dataset_version
        date_col = saved.source.get("date_col")
        value_col = saved.source.get("value_col")
        id_col = saved.source.get("id_col")
        freq, horizon = saved.info.freq, saved.info.horizon
        agg = saved.settings.get("agg", agg)
    if not dataset_name:
        raise UserInputError("Choose the dataset to train the forecasting model on.")
    if not 1 <= horizon <= 52:
        raise UserInputError("The horizon of an edge forecasting model is 1 to 52 periods.")
    dataset = _at_version(services, user, dataset_name, version)
    date_col = date_col or dataset.column_for("date")
    value_col = value_col or dataset.column_for("quantity") or dataset.column_for("amount")
    if not date_col:
        raise UserInputError(f"{dataset.name} has no date column: map one on the Data page.")
    con = services.catalog.connect()
    try:
        periods, frequency = batch.dataset_periods(
            con, dataset, date_col=date_col, value_col=value_col, id_col=id_col, freq=freq, agg=agg
        )
    finally:
        con.close()
    how = query.aggregation(agg)
    demand = how.nature == "flow" and not bool((periods[query.Y] < 0).any())
    prepared, _ = prepare(periods, frequency, nature=how.nature, demand=demand)
    eligible = [s for s in prepared if not s.constant and not s.intermittent]
    if len(eligible) < MIN_SERIES:
        raise UserInputError(
            f"The global model learns across series: {len(eligible)} usable series of the "
            f"{MIN_SERIES} it needs (split by a column such as sku or category)."
        )
    histories = [s.y.to_numpy(dtype=float) for s in eligible]
    m = frequency.season_length
    model = GlobalBoosting(m, horizon, adjust=adjust)
    try:
        model.fit(histories)
    except ValueError as exc:
        raise UserInputError(f"The global model cannot be trained: {exc}.") from exc
    # The latest windows of each series: their next `horizon` values are not known yet,
    # so no training row starts there. Built by the model's own feature code.
    probe = GlobalBoosting(m, 0, adjust=adjust)
    holdout = np.vstack([probe.training_rows([v])[0][-horizon:] for v in histories])
    lags = model.lags
    return Candidate(
        name=f"forecast-{dataset.name}"[:100],
        kind="regressor",
        source="forecasting",
        estimator=_steps_as_one(model),
        holdout=holdout.astype(np.float32)[:MAX_HOLDOUT],
        feature_names=tuple(f"lag_{lags - i}" for i in range(lags)),
        lineage={
            "dataset": dataset.name,
            "dataset_version": dataset.version,
            "run_id": run_id,
            "date_col": date_col,
            "value_col": value_col,
            "id_col": id_col,
            "freq": frequency.name,
            "agg": agg,
            "horizon": horizon,
            "model": "global_gbm" if adjust else "global_gbm_raw",
            "series": len(histories),
        },
        quality={"training_series": len(histories), "holdout_rows": len(holdout)},
        preprocessing={
            "description": f"the last {lags} values of a series (oldest first)"
            + (", seasonally adjusted" if adjust and m > 1 else "")
            + ", divided by the mean absolute value of their last season (last 4 without "
            f"seasons); the outputs are the next {horizon} values on that scale",
            "lags": lags,
            "season_length": m,
            "seasonally_adjusted": bool(adjust and m > 1),
        },
        notes=(
            f"Global gradient boosting over {len(histories)} series of {dataset.name} "
            f"v{dataset.version} ({frequency.name}, {horizon} steps ahead, one model per step)",
        ),
    )


def _steps_as_one(model: Any) -> Any:
    """The per-step boosting models as one estimator answering every step (one ONNX graph)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.multioutput import MultiOutputRegressor

    wrapper = MultiOutputRegressor(HistGradientBoostingRegressor())
    wrapper.estimators_ = list(model.models_)
    wrapper.n_features_in_ = model.lags
    return wrapper


# --- benchmark models ----------------------------------------------------------------


def benchmark_model(kind: str, *, rows: int = 4000, seed: int = 0) -> Candidate:
    """A plain MLP, gradient boosting or linear regressor on Friedman's synthetic data."""
    from sklearn.datasets import make_friedman1
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.neural_network import MLPRegressor

    makers: dict[str, Callable[[], Any]] = {
        "mlp": lambda: MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=60, random_state=seed),
        "gbm": lambda: HistGradientBoostingRegressor(max_iter=200, random_state=seed),
        "linear": lambda: Ridge(alpha=1.0),
    }
    if kind not in makers:
        raise UserInputError(f"Benchmark models are {', '.join(BENCHMARK_KINDS)}.")
    X, y = make_friedman1(n_samples=rows + 500, n_features=10, noise=0.5, random_state=seed)
    X = X.astype(np.float32)
    model = makers[kind]().fit(X[:rows], y[:rows])
    return Candidate(
        name=f"bench-{kind}",
        kind="regressor",
        source="benchmark",
        estimator=model,
        holdout=X[rows:],
        feature_names=tuple(f"x{i}" for i in range(X.shape[1])),
        lineage={"data": "Friedman #1 (synthetic)", "rows": rows, "seed": seed},
    )
