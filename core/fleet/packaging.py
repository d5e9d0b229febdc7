"""Packaging: a trained model (or an uploaded ONNX file) made ready for edge devices.

`package(candidate)` converts a scikit-learn model (core.fleet.conversion), optimises the graph,
quantises it where that helps (core.fleet.optimise), verifies every variant against the
original on held-out rows (core.fleet.verify), measures size and latency
(core.fleet.measure) and picks what to publish: int8 when it is smaller and within the
tolerance, otherwise fp32, with the reason. `package_upload(data, ...)` does the same for
an ONNX file, verified against the file as uploaded. Uploads must be ONNX protobufs that
pass onnx.checker: nothing else (pickles above all) is ever loaded.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from core.errors import UserInputError
from core.fleet import measure as measuring
from core.fleet import optimise
from core.fleet.conversion import sklearn_to_onnx
from core.fleet.verify import Tolerance, Verification, compare, run, session

KINDS = ("regressor", "classifier", "model")  # "model": an upload with other outputs
SOURCES = ("forecasting", "segmentation", "upload", "benchmark")
UPLOAD_ROWS = 256
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_DTYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A fitted scikit-learn model to package, with held-out rows it never trained on."""

    name: str  # suggested registry name
    kind: str  # "regressor" or "classifier"
    source: str  # one of SOURCES
    estimator: Any
    holdout: np.ndarray  # float32 rows
    feature_names: tuple[str, ...]
    lineage: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)  # e.g. holdout accuracy
    # What a device does to raw values before calling the model (description, constants).
    preprocessing: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """What publishing takes: the chosen ONNX bytes and the evidence behind them."""

    name: str
    kind: str
    source: str
    model: bytes  # the variant to publish
    variant: str  # "onnx fp32" or "onnx int8"
    quantized: bool
    input_schema: dict[str, Any]
    output_names: tuple[str, ...]
    verifications: tuple[Verification, ...]
    measurements: tuple[measuring.Measurement, ...]
    tolerance: Tolerance
    lineage: dict[str, Any]
    quality: dict[str, Any]
    notes: tuple[str, ...]

    @property
    def verification(self) -> Verification:
        """The verification of the variant to publish."""
        return next(v for v in self.verifications if v.variant == self.variant)

    @property
    def passed(self) -> bool:
        return self.verification.passed

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.model).hexdigest()

    @property
    def size_bytes(self) -> int:
        return len(self.model)

    def metrics(self) -> dict[str, Any]:
        """Verification, latency, quality and notes, JSON-ready (stored and in the manifest)."""
        return {
            "published_variant": self.variant,
            "verification": self.verification.as_dict(),
            "verifications": [v.as_dict() for v in self.verifications],
            "tolerance": {
                "max_relative": self.tolerance.max_relative,
                "min_agreement": self.tolerance.min_agreement,
            },
            "latency": [m.as_dict() for m in self.measurements],
            "quality": dict(self.quality),
            "notes": list(self.notes),
        }


def convert(candidate: Candidate) -> bytes:
    """The candidate's estimator as a checked ONNX model (float32 input named 'input')."""
    return sklearn_to_onnx(
        candidate.estimator,
        candidate.holdout.shape[1],
        classifier=candidate.kind == "classifier",
        doc=f"Beacon {candidate.source} model {candidate.name}",
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _dtype_name(elem_type: int) -> str:
    return onnx.helper.tensor_dtype_to_np_dtype(elem_type).name


def _inputs(proto: onnx.ModelProto) -> list[dict[str, Any]]:
    initialisers = {i.name for i in proto.graph.initializer}
    found = []
    for value in proto.graph.input:
        if value.name in initialisers:
            continue
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        found.append({"name": value.name, "dtype": _dtype_name(tensor.elem_type), "shape": shape})
    return found


def input_schema(
    proto: onnx.ModelProto,
    features: tuple[str, ...] = (),
    preprocessing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The first input's name, dtype, shape and feature names, plus every input."""
    inputs = _inputs(proto)
    first = inputs[0]
    return {
        "name": first["name"],
        "dtype": first["dtype"],
        "shape": first["shape"],
        "features": list(features),
        "preprocessing": dict(preprocessing or {}),
        "inputs": inputs,
    }


def read_upload(data: bytes, filename: str, *, limit: int = MAX_UPLOAD_BYTES) -> onnx.ModelProto:
    """An uploaded file as a checked, self-contained ONNX model, or a one-line refusal."""
    label = filename or "The file"
    if not data:
        raise UserInputError(f"{label} is empty: upload an ONNX model (.onnx).")
    if len(data) > limit:
        raise UserInputError(
            f"{label} is {len(data) / 1024 / 1024:,.1f} MB; models may be at most "
            f"{limit / 1024 / 1024:,.0f} MB."
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise UserInputError(
            f"{label} is a Python pickle: Beacon never loads pickles; export the model to ONNX."
        )
    try:
        proto = onnx.load_model_from_string(data)
        onnx.checker.check_model(proto)
    except Exception as exc:  # DecodeError, ValidationError and friends
        raise UserInputError(f"{label} is not a valid ONNX model: {_first_line(exc)}") from exc
    if not proto.graph.node or not _inputs(proto) or not proto.graph.output:
        raise UserInputError(f"{label} is not a usable ONNX model: it has no graph to run.")
    if any(onnx.external_data_helper.uses_external_data(t) for t in proto.graph.initializer):
        raise UserInputError(f"{label} keeps weights in external files: upload one .onnx file.")
    return proto


def _reference(candidate: Candidate) -> list[np.ndarray]:
    """The original model's outputs on the held-out rows, in ONNX output order."""
    rows = candidate.holdout
    if candidate.kind == "classifier":
        return [
            np.asarray(candidate.estimator.predict(rows)),
            np.asarray(candidate.estimator.predict_proba(rows)),
        ]
    return [np.asarray(candidate.estimator.predict(rows)).reshape(len(rows), -1)]


def _batch(rows: np.ndarray, size: int) -> np.ndarray:
    return np.resize(rows, (size, rows.shape[1])).astype(rows.dtype)


def _variants(fp32: bytes) -> tuple[dict[str, bytes], list[str]]:
    optimised = optimise.optimise(fp32)
    variants = {"onnx fp32": optimised}
    quant = optimise.quantise(optimised)
    if quant.model is not None:
        variants["onnx int8"] = quant.model
    return variants, [quant.note]


def _choose(variants: dict[str, bytes], checks: dict[str, Verification], notes: list[str]) -> str:
    if "onnx int8" in variants:
        if checks["onnx int8"].passed:
            return "onnx int8"
        notes.append(f"int8 not used: {checks['onnx int8'].describe()} is outside the tolerance")
    return "onnx fp32"


def _assemble(
    *,
    name: str,
    kind: str,
    source: str,
    variants: dict[str, bytes],
    checks: dict[str, Verification],
    original: measuring.Measurement,
    feeds: Callable[[int], dict[str, np.ndarray]],
    schema: dict[str, Any],
    output_names: tuple[str, ...],
    tolerance: Tolerance,
    lineage: dict[str, Any],
    quality: dict[str, Any],
    notes: list[str],
    repeats: int,
) -> PackagedModel:
    chosen = _choose(variants, checks, notes)
    measured = [original]
    one, many = feeds(1), feeds(measuring.BATCH_ROWS)
    for variant, model in variants.items():
        sess = session(model)
        measured.append(
            measuring.measure(
                variant,
                len(model),
                lambda s=sess: s.run(None, one),
                lambda s=sess: s.run(None, many),
                repeats=repeats,
            )
        )
    return PackagedModel(
        name=name,
        kind=kind,
        source=source,
        model=variants[chosen],
        variant=chosen,
        quantized=chosen == "onnx int8",
        input_schema=schema,
        output_names=output_names,
        verifications=tuple(checks.values()),
        measurements=tuple(measured),
        tolerance=tolerance,
        lineage=dict(lineage),
        quality=dict(quality),
        notes=tuple(notes),
    )


def package(
    candidate: Candidate, *, tolerance: Tolerance | None = None, repeats: int = 50
) -> PackagedModel:
    """Convert, optimise, quantise where it helps, verify and measure a trained model."""
    tolerance = tolerance or Tolerance()
    if candidate.kind not in KINDS[:2]:
        raise UserInputError("A trained model is a regressor or a classifier.")
    if candidate.source not in SOURCES:
        raise UserInputError(f"Models come from {', '.join(SOURCES)}.")
    holdout = np.ascontiguousarray(candidate.holdout, dtype=np.float32)
    if holdout.ndim != 2 or len(holdout) == 0:
        raise UserInputError("Packaging needs held-out rows to verify the model on.")
    candidate = _with_rows(candidate, holdout)
    fp32 = convert(candidate)
    proto = onnx.load_model_from_string(fp32)
    variants, notes = _variants(fp32)
    reference = _reference(candidate)
    checks = {
        variant: compare(variant, reference, run(session(model), {"input": holdout}), tolerance)
        for variant, model in variants.items()
    }
    estimator = candidate.estimator
    one, many = holdout[:1], _batch(holdout, measuring.BATCH_ROWS)
    # Our own fitted object, pickled only to weigh it the way scikit-learn stores models.
    size = len(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))
    original = measuring.measure(
        "scikit-learn",
        size,
        lambda: estimator.predict(one),
        lambda: estimator.predict(many),
        repeats=repeats,
    )
    return _assemble(
        name=candidate.name,
        kind=candidate.kind,
        source=candidate.source,
        variants=variants,
        checks=checks,
        original=original,
        feeds=lambda n: {"input": holdout[:1] if n == 1 else many},
        schema=input_schema(proto, candidate.feature_names, candidate.preprocessing),
        output_names=tuple(o.name for o in proto.graph.output),
        tolerance=tolerance,
        lineage=candidate.lineage,
        quality=candidate.quality,
        notes=[*candidate.notes, *notes],
        repeats=repeats,
    )


def _with_rows(candidate: Candidate, rows: np.ndarray) -> Candidate:
    from dataclasses import replace

    return replace(candidate, holdout=rows)


def _sample_feeds(proto: onnx.ModelProto, rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random rows for every input (dynamic dimensions: `rows` first, 1 elsewhere)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for value in _inputs(proto):
        elem = next(i for i in proto.graph.input if i.name == value["name"]).type.tensor_type
        dtype = _DTYPES.get(elem.elem_type)
        if dtype is None:
            raise UserInputError(
                f"Input {value['name']!r} has type {value['dtype']}: Beacon verifies models "
                "with float or integer inputs."
            )
        shape = [d or (rows if i == 0 else 1) for i, d in enumerate(value["shape"])] or [rows]
        if np.issubdtype(dtype, np.integer):
            feeds[value["name"]] = rng.integers(0, 10, size=shape).astype(dtype)
        else:
            feeds[value["name"]] = rng.normal(size=shape).astype(dtype)
    return feeds


def package_upload(
    data: bytes,
    filename: str,
    *,
    name: str,
    tolerance: Tolerance | None = None,
    limit: int = MAX_UPLOAD_BYTES,
    repeats: int = 50,
) -> PackagedModel:
    """Validate, optimise and quantise an uploaded ONNX model, verified against itself."""
    tolerance = tolerance or Tolerance()
    proto = read_upload(data, filename, limit=limit)
    original = proto.SerializeToString()
    variants, notes = _variants(original)
    sample = _sample_feeds(proto, UPLOAD_ROWS)
    try:
        reference_session = session(original)
        reference = run(reference_session, sample)
    except Exception as exc:  # ORT errors on shapes the random rows cannot satisfy
        raise UserInputError(f"{filename} does not run on sample rows: {_first_line(exc)}") from exc
    checks = {
        variant: compare(variant, reference, run(session(model), sample), tolerance)
        for variant, model in variants.items()
    }
    notes.append(f"verified against the uploaded model on {UPLOAD_ROWS} random rows")
    one, many = _sample_feeds(proto, 1), _sample_feeds(proto, measuring.BATCH_ROWS)
    measured = measuring.measure(
        "uploaded",
        len(data),
        lambda: reference_session.run(None, one),
        lambda: reference_session.run(None, many),
        repeats=repeats,
    )
    outputs = tuple(o.name for o in proto.graph.output)
    labels = any(r.dtype.kind in "iubUSO" for r in reference)
    return _assemble(
        name=name,
        kind="classifier" if labels else "regressor" if len(outputs) == 1 else "model",
        source="upload",
        variants=variants,
        checks=checks,
        original=measured,
        feeds=lambda n: one if n == 1 else many,
        schema=input_schema(proto),
        output_names=outputs,
        tolerance=tolerance,
        lineage={"upload": filename[:200], "sha256_uploaded": hashlib.sha256(data).hexdigest()},
        quality={},
        notes=notes,
        repeats=repeats,
    )
