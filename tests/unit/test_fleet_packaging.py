"""Packaging: conversion with known answers, Beacon-trained models, uploads that are refused."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from core.auth.roles import Role, User
from core.data.samples import load_sample
from core.errors import PermissionDenied, UserInputError
from core.fleet import packaging, trained
from core.fleet.packaging import Candidate, convert, package, package_upload, read_upload
from core.fleet.verify import Tolerance, require_passed, run, session
from core.segmentation import pipeline
from core.segmentation import runs as segment_runs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
SYSTEM = User.system()
RNG = np.random.default_rng(3)
X = RNG.normal(size=(400, 3)).astype(np.float32)
Y = 2.0 * X[:, 0] - 3.0 * X[:, 1] + 0.5  # exactly linear


def linear_candidate() -> Candidate:
    model = LinearRegression().fit(X, Y)
    return Candidate("demand", "regressor", "benchmark", model, X[:100], ("a", "b", "c"))


def test_linear_model_answers_like_scikit_learn_within_1e5():
    candidate = linear_candidate()
    onnx_model = convert(candidate)
    rows = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [2, 2, 7]], dtype=np.float32)
    got = run(session(onnx_model), {"input": rows})[0].ravel()
    np.testing.assert_allclose(got, [2.5, -2.5, 0.5, -1.5], atol=1e-5)
    np.testing.assert_allclose(got, candidate.estimator.predict(rows), atol=1e-5)


def test_classifier_converts_to_labels_and_probabilities():
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)
    model = LogisticRegression(max_iter=500).fit(X, labels)
    candidate = Candidate("seg", "classifier", "segmentation", model, X, ("a", "b", "c"))
    packaged = package(candidate, repeats=2)
    assert packaged.output_names == ("label", "probabilities")
    check = packaged.verification
    assert check.agreement == 1.0 and check.max_abs < 1e-5 and check.passed
    got_labels, got_probs = run(session(packaged.model), {"input": X})
    np.testing.assert_array_equal(got_labels, model.predict(X))
    np.testing.assert_allclose(got_probs, model.predict_proba(X), atol=1e-5)


def test_package_records_schema_verification_latency_and_the_reason_for_fp32():
    packaged = package(linear_candidate(), repeats=2)
    assert (packaged.variant, packaged.quantized, packaged.kind) == (
        "onnx fp32",
        False,
        "regressor",
    )
    assert "quantisation skipped: no MatMul/Gemm weights to quantise" in packaged.notes
    schema = packaged.input_schema
    assert (schema["name"], schema["dtype"], schema["shape"]) == ("input", "float32", [None, 3])
    assert schema["features"] == ["a", "b", "c"]
    assert [m.variant for m in packaged.measurements] == ["scikit-learn", "onnx fp32"]
    assert all(m.single_row_ms > 0 and m.batch_rows == 1000 for m in packaged.measurements)
    metrics = packaged.metrics()
    assert metrics["verification"]["max_abs_deviation"] < 1e-5
    assert metrics["published_variant"] == "onnx fp32"


def test_tolerance_refusal_names_the_numbers():
    packaged = package(linear_candidate(), tolerance=Tolerance(max_relative=0.0), repeats=2)
    assert not packaged.passed
    with pytest.raises(UserInputError) as caught:
        require_passed(packaged.verification, packaged.tolerance)
    message = str(caught.value)
    assert message.startswith("Not published: onnx fp32: max deviation ")
    assert "on 100 held-out rows" in message and "tolerance of 0 of the output spread" in message
    with pytest.raises(UserInputError, match="between 0 and 1"):
        Tolerance(min_agreement=1.5)


def monthly_series(n_series: int = 12, months: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2020-01-01", periods=months, freq="MS")
    frames = []
    for i in range(n_series):
        season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(months) / 12 + i)
        values = np.round((50 + 10 * i) * season + rng.normal(0, 3, months))
        frames.append(pd.DataFrame({"month": dates, "sku": f"S{i:02d}", "units": values}))
    return pd.concat(frames, ignore_index=True)


def test_forecasting_global_model_is_trained_on_demand_and_converted_exactly(services):
    services.catalog.ingest_frame(SYSTEM, monthly_series(), name="demand", source_name="test")
    candidate = trained.forecast_model(
        services, SYSTEM, "demand", date_col="month", value_col="units", id_col="sku", horizon=3
    )
    assert candidate.lineage["dataset"] == "demand" and candidate.lineage["series"] == 12
    assert candidate.lineage["freq"] == "monthly" and candidate.lineage["horizon"] == 3
    assert candidate.holdout.shape == (12 * 3, 24)  # 3 latest windows per series, 24 lags
    assert candidate.feature_names[0] == "lag_24" and candidate.feature_names[-1] == "lag_1"
    packaged = package(candidate, repeats=2)
    # Boosting thresholds are made float32-exact, so ONNX and scikit-learn agree.
    assert packaged.verification.max_abs < 1e-5
    assert run(session(packaged.model), {"input": candidate.holdout})[0].shape == (36, 3)
    assert packaged.input_schema["preprocessing"]["lags"] == 24


def test_forecasting_needs_several_series(services):
    services.catalog.ingest_frame(SYSTEM, monthly_series(3), name="few", source_name="test")
    with pytest.raises(UserInputError, match="3 usable series of the 10 it needs"):
        trained.forecast_model(
            services, SYSTEM, "few", date_col="month", value_col="units", id_col="sku"
        )


@pytest.fixture
def segment_run(services):
    """A saved 4-cluster segmentation of the sample orders, and its result."""
    datasets = {d.name: d for d in load_sample(services.catalog, SYSTEM)}
    settings = pipeline.SegmentationSettings(k=4, stability_runs=0)
    con = services.catalog.connect()
    try:
        result = pipeline.segment(con, SYSTEM, datasets["sample_orders"], settings, with_clv=False)
    finally:
        con.close()
    saved = segment_runs.save_run(
        services.store, SYSTEM, datasets["sample_orders"], settings, result, "four"
    )
    return saved, result


def test_segment_classifier_predicts_a_saved_runs_clusters(services, make_user, segment_run):
    saved, result = segment_run
    candidate = trained.segment_classifier(services, SYSTEM, saved.id, algorithm="logistic")
    assert candidate.kind == "classifier" and candidate.lineage["run_id"] == saved.id
    assert candidate.quality["holdout_accuracy"] > 0.95
    assert candidate.feature_names == ("recency_days", "orders", "monetary")
    assert sorted(candidate.lineage["clusters"]) == [1, 2, 3, 4]
    # The pre-processing is inside the model: it takes customers' raw values.
    assert candidate.preprocessing["in_graph"] is True
    model = session(convert(candidate))
    customers = result.table.customers
    raw = customers[["recency_days", "orders", "monetary"]].to_numpy(np.float32)
    labels, probabilities = run(model, {"input": raw})
    assert np.mean(labels == result.clusters.labels) > 0.95  # the run's own clusters
    assert np.abs(probabilities - candidate.estimator.predict_proba(raw)).max() < 1e-4
    with pytest.raises(PermissionDenied):
        trained.segment_classifier(services, make_user(Role.ANALYST), saved.id)
    with pytest.raises(UserInputError, match="Choose the classifier"):
        trained.segment_classifier(services, SYSTEM, saved.id, algorithm="svm")


def test_an_mlp_segment_classifier_quantises_with_its_preprocessing_inside(services, segment_run):
    saved, _ = segment_run
    candidate = trained.segment_classifier(services, SYSTEM, saved.id, algorithm="mlp")
    packaged = package(candidate, repeats=2)
    assert packaged.quantized and packaged.variant == "onnx int8"
    assert all(v.passed for v in packaged.verifications)


# --- uploads ---------------------------------------------------------------------------


def test_a_pickle_is_refused_without_being_loaded():
    data = pickle.dumps(LinearRegression().fit(X, Y))
    with pytest.raises(UserInputError, match=r"^model\.pkl is a Python pickle: Beacon never"):
        read_upload(data, "model.pkl")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"definitely not a model" * 10, "is not a valid ONNX model"),
        (b"\x08\x07", "not"),  # parses as a protobuf, but no graph to check
    ],
)
def test_junk_uploads_are_refused_in_one_line(data, message):
    with pytest.raises(UserInputError, match=message) as caught:
        read_upload(data, "upload.onnx")
    assert "\n" not in str(caught.value)


def test_an_oversized_upload_is_refused():
    with pytest.raises(UserInputError, match="models may be at most"):
        read_upload(convert(linear_candidate()), "big.onnx", limit=100)


def test_a_valid_onnx_upload_is_optimised_verified_and_measured():
    data = convert(linear_candidate())
    packaged = package_upload(data, "linear.onnx", name="uploaded", repeats=2)
    assert (packaged.source, packaged.kind, packaged.name) == ("upload", "regressor", "uploaded")
    assert packaged.verification.rows == packaging.UPLOAD_ROWS and packaged.passed
    assert [m.variant for m in packaged.measurements] == ["uploaded", "onnx fp32"]
    assert packaged.lineage["upload"] == "linear.onnx"
    assert packaged.input_schema["shape"] == [None, 3]


# --- command line ----------------------------------------------------------------------


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from core.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_packages_an_onnx_file_and_writes_the_artifact(capsys, tmp_path):
    source = tmp_path / "linear.onnx"
    source.write_bytes(convert(linear_candidate()))
    out_file = tmp_path / "out" / "edge.onnx"
    code, out, _ = cli(
        capsys,
        "fleet",
        "models",
        "package",
        "--onnx",
        str(source),
        "--repeats",
        "2",
        "--out",
        str(out_file),
        "--json",
    )
    payload = json.loads(out)
    assert code == 0 and payload["source"] == "upload" and payload["passed"] is True
    assert payload["name"] == "linear" and payload["variant"] == "onnx fp32"
    assert read_upload(out_file.read_bytes(), "edge.onnx").graph.input[0].name == "input"


def test_cli_verify_exits_1_outside_the_tolerance_and_refuses_pickles(capsys, tmp_path, services):
    services.catalog.ingest_frame(SYSTEM, monthly_series(), name="demand", source_name="test")
    args = ["fleet", "models", "verify", "--forecast", "demand", "--id-col", "sku"]
    args += ["--value-col", "units", "--horizon", "2", "--repeats", "1"]
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "onnx fp32: max deviation" in out
    with pytest.raises(SystemExit) as stopped:
        cli(capsys, *args, "--tolerance", "0")
    assert stopped.value.code == 1
    assert "onnx fp32: max deviation" in capsys.readouterr().out
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2]}))
    code, _, err = cli(capsys, "fleet", "models", "package", "--onnx", str(pickled))
    assert code == 2 and err.startswith("error: model.pkl is a Python pickle")
    code, out, _ = cli(capsys, "fleet", "models", "list")
    assert code == 0 and out.strip() == "(no published models)"
