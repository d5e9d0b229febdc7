"""Pre-processing built into an edge model, so a device sends raw feature values.

The segment classifier learns on segmentation's features: log1p of days, counts and
money (negatives clipped to 0), then z-scores. Packaged as a scikit-learn pipeline of
`Log1pColumns` and a `StandardScaler` holding those constants in front of the classifier,
the whole chain converts to one ONNX graph; `register_converters` teaches skl2onnx the
one step it does not know (Max, Add, Log and Where nodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


class Log1pColumns(TransformerMixin, BaseEstimator):
    """log1p of the flagged columns (negatives clipped to 0); other columns pass through."""

    def __init__(self, columns: Sequence[bool] = ()) -> None:
        self.columns = columns

    def fit(self, X, y=None) -> Log1pColumns:
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X)
        mask = np.asarray(self.columns, dtype=bool)
        return np.where(mask, np.log1p(np.clip(X, 0.0, None)), X).astype(X.dtype, copy=False)


def fixed_scaler(means: Sequence[float], stds: Sequence[float]) -> StandardScaler:
    """A StandardScaler with given constants (what segmentation computed), not refitted."""
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(means, dtype=np.float64)
    scaler.scale_ = np.asarray(stds, dtype=np.float64)
    scaler.var_ = scaler.scale_**2
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = 1
    return scaler


def with_preprocessing(
    model: Any, log_columns: Sequence[bool], means: Sequence[float], stds: Sequence[float]
) -> Pipeline:
    """`model` (fitted on transformed features) behind the transform: it takes raw rows."""
    log1p = Log1pColumns(tuple(bool(c) for c in log_columns)).fit(np.zeros((1, len(means))))
    return Pipeline([("log1p", log1p), ("scale", fixed_scaler(means, stds)), ("model", model)])


def _shape(operator) -> None:
    operator.outputs[0].type = operator.inputs[0].type.__class__(operator.inputs[0].type.shape)


def _convert(scope, operator, container) -> None:
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxLog, OnnxMax, OnnxWhere

    opv = container.target_opset
    rows = operator.inputs[0]
    zero, one = np.array([0], dtype=np.float32), np.array([1], dtype=np.float32)
    logged = OnnxLog(
        OnnxAdd(OnnxMax(rows, zero, op_version=opv), one, op_version=opv), op_version=opv
    )
    mask = np.asarray(operator.raw_operator.columns, dtype=bool).reshape(1, -1)
    chosen = OnnxWhere(mask, logged, rows, op_version=opv, output_names=operator.outputs[:1])
    chosen.add_to(scope, container)


def register_converters() -> None:
    """Make skl2onnx convert Beacon's pre-processing steps (idempotent)."""
    from skl2onnx import update_registered_converter

    update_registered_converter(Log1pColumns, "BeaconLog1pColumns", _shape, _convert)
