"""Graph optimisation and int8 quantisation: what shrinks, what is left alone, and why."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor

from core.fleet import optimise
from core.fleet.packaging import Candidate, convert
from core.fleet.verify import run, session

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(7)
X = RNG.normal(size=(600, 8)).astype(np.float32)
Y = X[:, 0] * 3 + np.sin(X[:, 1]) - X[:, 2]


def onnx_of(estimator) -> bytes:
    model = estimator.fit(X, Y)
    return convert(Candidate("m", "regressor", "benchmark", model, X[:50], ()))


@pytest.fixture(scope="module")
def mlp() -> bytes:
    return onnx_of(MLPRegressor(hidden_layer_sizes=(128, 128), max_iter=30, random_state=0))


def test_quantisation_shrinks_a_neural_network_more_than_twice(mlp):
    optimised = optimise.optimise(mlp)
    quant = optimise.quantise(optimised)
    assert quant.model is not None
    assert len(optimised) / len(quant.model) > 2
    # Weights and biases of the three layers (8 -> 128 -> 128 -> 1).
    assert quant.weights == (8 * 128 + 128) + (128 * 128 + 128) + (128 + 1)
    assert "quantised 17,793 weights to int8" in quant.note
    # Still the same function, roughly: int8 weights move outputs a little.
    full = run(session(optimised), {"input": X})[0]
    small = run(session(quant.model), {"input": X})[0]
    assert np.abs(full - small).max() < 0.1 * np.std(full)


@pytest.mark.parametrize(
    "estimator",
    [HistGradientBoostingRegressor(max_iter=20), LinearRegression()],
    ids=["trees", "linear"],
)
def test_trees_and_linear_models_are_left_alone_with_the_reason(estimator):
    model = optimise.optimise(onnx_of(estimator))
    quant = optimise.quantise(model)
    assert quant.model is None
    assert quant.note == "quantisation skipped: no MatMul/Gemm weights to quantise"


def test_a_tiny_matmul_is_not_worth_quantising():
    tiny = onnx_of(MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0))
    quant = optimise.quantise(optimise.optimise(tiny))
    assert quant.model is None and quant.note.startswith("quantisation skipped: only 41 ")


def test_optimisation_keeps_the_answers(mlp):
    before = run(session(mlp), {"input": X})[0]
    after = run(session(optimise.optimise(mlp)), {"input": X})[0]
    np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-6)


def test_duplicated_opset_entries_are_merged_and_quantisation_accepts_them(mlp):
    proto = onnx.load_model_from_string(mlp)
    proto.opset_import.append(onnx.helper.make_opsetid("", 15))  # what skl2onnx may emit
    assert [o.domain for o in proto.opset_import].count("") == 2
    merged = optimise.dedupe_opsets(proto)
    assert [(o.domain, o.version) for o in merged.opset_import if o.domain == ""] == [("", 17)]
    proto.opset_import.append(onnx.helper.make_opsetid("", 15))
    assert optimise.quantise(proto.SerializeToString()).model is not None
