"""scikit-learn to ONNX with skl2onnx, made exact for Beacon's models.

Two fixes sit between skl2onnx and Beacon's models: boosting thresholds are made
float32-exact on a copy of the model (see `_float32_exact`), and skl2onnx 1.20's Python
bool attribute on tree leaves is passed as the int protobuf 7 requires.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import onnx

from core.errors import UserInputError
from core.fleet import optimise, preprocessing

# Opset 17 runs on every ONNX Runtime since 1.13 (2022): older edge devices included.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def _final_step(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def sklearn_to_onnx(estimator: Any, n_features: int, *, classifier: bool, doc: str) -> bytes:
    """A fitted estimator as a checked ONNX model (float32 input named 'input')."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    _patch_skl2onnx()
    preprocessing.register_converters()
    estimator = _float32_exact(estimator)
    options = None
    if classifier:  # plain tensors, not a list of dicts per row
        options = {id(_final_step(estimator)): {"zipmap": False}}
    try:
        proto = to_onnx(
            estimator,
            initial_types=[("input", FloatTensorType([None, n_features]))],
            target_opset=TARGET_OPSET,
            options=options,
        )
    except Exception as exc:  # skl2onnx raises bare RuntimeError/ValueError/NotImplemented
        kind = type(estimator).__name__
        raise UserInputError(f"{kind} cannot be converted to ONNX: {_first_line(exc)}") from exc
    proto = optimise.dedupe_opsets(proto)
    proto.doc_string = doc
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _boosters(estimator: Any) -> list[Any]:
    """The histogram gradient boosting models inside an estimator (pipelines, multi-output)."""
    parts = [estimator, *(s for _, s in getattr(estimator, "steps", []))]
    parts += list(getattr(estimator, "estimators_", []))
    return [p for p in parts if hasattr(p, "_predictors")]


def _float32_exact(estimator: Any) -> Any:
    """A copy whose boosting thresholds are the largest float32 not above the originals.

    ONNX compares float32 inputs with float32 thresholds; rounding a float64 threshold to
    the *nearest* float32 sends inputs equal to the rounded value down the other branch
    (scaled forecasting windows hit this often). For a float32 input x,
    x <= t  <=>  x <= (largest float32 <= t), so the copy answers exactly like the
    original on every float32 input, and so does its ONNX graph.
    """
    boosters = _boosters(estimator)
    if not boosters:
        return estimator
    estimator = copy.deepcopy(estimator)
    for booster in _boosters(estimator):
        # scikit-learn keeps the fitted trees in `_predictors` (no public accessor).
        for predictors in booster._predictors:
            for predictor in predictors:
                nodes = predictor.nodes
                exact = nodes["num_threshold"]
                lower = exact.astype(np.float32)
                above = lower.astype(np.float64) > exact
                lower[above] = np.nextafter(lower[above], np.float32(-np.inf))
                nodes["num_threshold"] = lower.astype(np.float64)
    return estimator


_PATCHED: list[bool] = []


def _patch_skl2onnx() -> None:
    """skl2onnx 1.20 passes a Python bool as an int attribute of tree leaves (the missing-
    value flag of HistGradientBoosting), which protobuf 7 refuses: pass it as an int."""
    if _PATCHED:
        return
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node

    def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        flag = int(nodes_missing_value_tracks_true)
        return original(*args, nodes_missing_value_tracks_true=flag, **kwargs)

    tree_ensemble.add_node = add_node
    _PATCHED.append(True)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]
