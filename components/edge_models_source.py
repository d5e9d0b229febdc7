"""Choosing what to package: a segment classifier, the forecasting model, or an ONNX file.

`show` returns the packaging request (plain values, kept in session state) once the
admin submits a form; `package` runs it through core, cached on the request.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.resources import services
from core.auth.roles import User
from core.fleet import packaging, trained
from core.fleet.packaging import PackagedModel
from core.fleet.verify import Tolerance
from core.segmentation import runs as segment_runs

REQUEST_KEY = "em_request"
UPLOAD_KEY = "em_upload"
SOURCES = {
    "segments": "Segment classifier",
    "forecast": "Forecasting model",
    "upload": "Upload ONNX",
}
SPLIT_ROLES = ("sku", "product", "category", "region", "channel", "customer_id", "supplier")
FREQS = ("auto", "daily", "weekly", "monthly", "quarterly", "yearly")


def _tolerance(key: str) -> dict[str, float]:
    with st.expander("Verification tolerance"):
        relative = st.number_input(
            "Largest deviation (share of the output spread)",
            min_value=0.0,
            max_value=10.0,
            value=0.05,
            step=0.01,
            format="%.4f",
            key=f"{key}_tol",
            help="Regressors: the largest |ONNX - original| over the standard deviation of "
            "the original's outputs on held-out rows",
        )
        agreement = st.number_input(
            "Least label agreement (classifiers)",
            min_value=0.0,
            max_value=1.0,
            value=0.99,
            step=0.005,
            format="%.3f",
            key=f"{key}_agree",
        )
    return {"max_relative": float(relative), "min_agreement": float(agreement)}


def _segments_form(user: User) -> dict[str, Any] | None:
    saved = segment_runs.list_runs(services().store, user)
    if not saved:
        st.info("No saved segmentation runs: run and save one on the Segments page.")
        return None
    labels = {r.id: f"#{r.id} {r.name} · {r.dataset} v{r.dataset_version} · k={r.k}" for r in saved}
    with st.form("em_segments_form"):
        run_id = st.selectbox("Saved segmentation run", list(labels), format_func=labels.get)
        classifier = st.selectbox(
            "Classifier",
            list(trained.CLASSIFIERS),
            format_func=trained.CLASSIFIERS.get,
            help="k-means cells are bounded by planes, so logistic regression can match them; "
            "the neural network shows what int8 quantisation does",
        )
        tolerance = _tolerance("em_seg")
        if st.form_submit_button("Package", icon=":material/deployed_code:", type="primary"):
            return {"source": "segments", "run_id": run_id, "classifier": classifier} | tolerance
    return None


def _forecast_form(user: User) -> dict[str, Any] | None:
    datasets = {d.name: d for d in services().catalog.datasets(user)}
    usable = {n: d for n, d in datasets.items() if d.column_for("date")}
    if not usable:
        st.info("No dataset with a date column: add one on the Data page.")
        return None
    name = st.selectbox("Dataset", list(usable), key="em_fc_dataset")
    dataset = usable[name]
    numbers = [c.name for c in dataset.columns if c.type.upper() in _NUMERIC]
    # Products first: a demand model per SKU is the usual edge case; customers come last.
    split_columns = [c for c in dataset.columns if c.role in SPLIT_ROLES]
    splits = [c.name for c in sorted(split_columns, key=lambda c: SPLIT_ROLES.index(c.role))]
    with st.form("em_forecast_form"):
        left, right = st.columns(2)
        default_value = dataset.column_for("quantity") or dataset.column_for("amount")
        value_col = left.selectbox(
            "Value",
            numbers,
            index=numbers.index(default_value) if default_value in numbers else 0,
        )
        id_col = right.selectbox(
            "One series per",
            splits,
            help="The global model learns across at least 10 series",
        )
        freq = left.selectbox(
            "Frequency",
            FREQS,
            index=FREQS.index("monthly"),
            help="Coarser periods train faster; 'auto' detects the data's own spacing",
        )
        horizon = right.number_input("Horizon (periods)", 1, 52, 3)
        tolerance = _tolerance("em_fc")
        if st.form_submit_button("Package", icon=":material/deployed_code:", type="primary"):
            if not splits or not numbers:
                st.error("The dataset needs a numeric value and a column that splits series.")
                return None
            return {
                "source": "forecast",
                "dataset": name,
                "version": dataset.version,
                "value_col": value_col,
                "id_col": id_col,
                "freq": None if freq == "auto" else freq,
                "horizon": int(horizon),
            } | tolerance
    return None


_NUMERIC = {"BIGINT", "INTEGER", "DOUBLE", "FLOAT", "DECIMAL", "SMALLINT", "HUGEINT", "REAL"}


def _upload_form() -> dict[str, Any] | None:
    st.file_uploader(
        "ONNX model",
        type=["onnx"],
        key=UPLOAD_KEY,
        help="Only ONNX files are accepted; Python pickles are never loaded",
    )
    with st.form("em_upload_form"):
        name = st.text_input("Model name", placeholder="e.g. defect-detector")
        tolerance = _tolerance("em_up")
        if st.form_submit_button("Package", icon=":material/deployed_code:", type="primary"):
            return {"source": "upload", "name": name.strip()} | tolerance
    return None


def show(user: User) -> dict[str, Any] | None:
    """Source choice and its form; the submitted (or last) packaging request."""
    source = st.segmented_control(
        "Source", list(SOURCES), format_func=SOURCES.get, default="segments", key="em_source"
    )
    forms = {
        "segments": lambda: _segments_form(user),
        "forecast": lambda: _forecast_form(user),
        "upload": _upload_form,
    }
    submitted = forms.get(source or "segments", forms["segments"])()
    if submitted is not None:
        st.session_state[REQUEST_KEY] = submitted
    return st.session_state.get(REQUEST_KEY)


def uploaded() -> tuple[str, bytes] | None:
    """The file in the uploader, if any: (name, bytes)."""
    file = st.session_state.get(UPLOAD_KEY)
    return (file.name, file.getvalue()) if file is not None else None


@st.cache_data(show_spinner=False, max_entries=8)
def _package(
    request: tuple[tuple[str, Any], ...], upload: tuple[str, bytes] | None, _user: User
) -> PackagedModel:
    values = dict(request)
    tolerance = Tolerance(values["max_relative"], values["min_agreement"])
    svc = services()
    if values["source"] == "upload":
        filename, data = upload or ("", b"")
        name = values["name"] or filename.rsplit(".", 1)[0]
        return packaging.package_upload(
            data, filename or "The upload", name=name, tolerance=tolerance
        )
    if values["source"] == "segments":
        candidate = trained.segment_classifier(
            svc, _user, values["run_id"], algorithm=values["classifier"]
        )
    else:
        candidate = trained.forecast_model(
            svc,
            _user,
            values["dataset"],
            value_col=values["value_col"],
            id_col=values["id_col"],
            freq=values["freq"],
            horizon=values["horizon"],
        )
    return packaging.package(candidate, tolerance=tolerance)


def package(user: User, request: dict[str, Any]) -> PackagedModel:
    """The packaged model for a request (cached: a rerun is instant)."""
    upload = uploaded() if request["source"] == "upload" else None
    return _package(tuple(sorted(request.items())), upload, user)
