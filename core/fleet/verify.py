"""Verification: does the ONNX model answer like the model it came from?

Both run on the same held-out rows. Float outputs (regression values, class
probabilities) are compared by their absolute deviation, also relative to the spread
of the reference outputs so one tolerance fits any scale; label outputs by the share of
rows on which both agree. A regressor is judged by its relative deviation, a classifier
by its label agreement (its probability deviation is reported: int8 moves probabilities
of borderline rows without changing many answers). A model outside the tolerance is
refused at publishing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import UserInputError

Outputs = Sequence[np.ndarray]


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far an edge model may stray: relative float deviation, least label agreement."""

    max_relative: float = 0.05  # max |deviation| / standard deviation of the reference
    min_agreement: float = 0.99  # share of rows with the same label (classifiers)

    def __post_init__(self) -> None:
        if not 0 <= self.max_relative <= 10:
            raise UserInputError("The deviation tolerance must be between 0 and 10.")
        if not 0 <= self.min_agreement <= 1:
            raise UserInputError("The least label agreement must be between 0 and 1.")


@dataclass(frozen=True, slots=True)
class Verification:
    """One variant against the reference on `rows` held-out rows."""

    variant: str
    rows: int
    max_abs: float
    mean_abs: float
    relative: float  # max_abs over the reference outputs' standard deviation
    agreement: float | None  # None when the model has no label output
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "variant": self.variant,
            "rows": self.rows,
            "max_abs_deviation": self.max_abs,
            "mean_abs_deviation": self.mean_abs,
            "relative_deviation": self.relative,
            "label_agreement": self.agreement,
            "passed": self.passed,
        }

    def describe(self) -> str:
        """One line with the numbers."""
        text = (
            f"{self.variant}: max deviation {self.max_abs:.3g}, mean {self.mean_abs:.3g} "
            f"({self.relative:.3g} of the output spread) on {self.rows:,} held-out rows"
        )
        if self.agreement is not None:
            text += f", labels agree on {self.agreement:.2%}"
        return text


def _is_label(values: np.ndarray) -> bool:
    return values.dtype.kind in "iubUSO"


def compare(
    variant: str, reference: Outputs, candidate: Outputs, tolerance: Tolerance
) -> Verification:
    """Deviation and agreement of `candidate` outputs from `reference` ones (same order)."""
    if len(reference) != len(candidate):
        raise UserInputError(
            f"{variant} has {len(candidate)} outputs where the reference has {len(reference)}."
        )
    deviations, spreads, agreements, rows = [], [], [], 0
    for ref, got in zip(reference, candidate, strict=True):
        ref, got = np.asarray(ref), np.asarray(got)
        rows = max(rows, len(ref))
        if _is_label(ref) or _is_label(got):
            agreements.append(float(np.mean(ref.astype(str).ravel() == got.astype(str).ravel())))
            continue
        ref64 = ref.astype(np.float64).reshape(len(ref), -1)
        got64 = got.astype(np.float64).reshape(len(got), -1)
        if ref64.shape != got64.shape:
            raise UserInputError(
                f"{variant} answers with shape {got64.shape} where the reference has {ref64.shape}."
            )
        deviations.append(np.abs(ref64 - got64).ravel())
        spreads.append(float(np.std(ref64)))
    found = np.concatenate(deviations) if deviations else np.zeros(1)
    if not np.all(np.isfinite(found)):
        max_abs = mean_abs = relative = float("inf")
    else:
        max_abs, mean_abs = float(found.max()), float(found.mean())
        spread = max(spreads, default=0.0)
        relative = max_abs / spread if spread > 0 else (0.0 if max_abs == 0 else float("inf"))
    agreement = min(agreements) if agreements else None
    if agreement is None:
        passed = relative <= tolerance.max_relative
    else:
        passed = agreement >= tolerance.min_agreement
    return Verification(variant, rows, max_abs, mean_abs, relative, agreement, passed)


def require_passed(verification: Verification, tolerance: Tolerance) -> None:
    """Refuse a model outside the tolerance, with its numbers."""
    if verification.passed:
        return
    if verification.agreement is None:
        limits = f"tolerance of {tolerance.max_relative:g} of the output spread"
    else:
        limits = f"least label agreement of {tolerance.min_agreement:.2%}"
    raise UserInputError(f"Not published: {verification.describe()} is outside the {limits}.")


def session(model: bytes, threads: int = 1):
    """An ONNX Runtime CPU session on `model` (one thread: edge-like and fair to measure)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initializers are noise here
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def run(sess, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Every output of one session run, as arrays."""
    return [np.asarray(out) for out in sess.run(None, dict(feeds))]
