"""Simple exponential smoothing, fast: the level recursion is a first-order linear filter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter

ALPHA_BOUNDS = (1e-4, 0.9999)


def levels(y: np.ndarray, alpha: float, initial: float) -> np.ndarray:
    """Levels ℓ_t = α·y_t + (1 − α)·ℓ_{t−1}, starting from ℓ_{−1} = `initial`."""
    return lfilter([alpha], [1.0, alpha - 1.0], y, zi=[(1.0 - alpha) * initial])[0]


@dataclass(frozen=True, slots=True)
class SesFit:
    """A fitted SES: smoothing weight, initial and final level, one-step errors."""

    alpha: float
    initial: float
    level: float
    residuals: np.ndarray


def _profile(y: np.ndarray, alpha: float) -> tuple[float, float]:
    """Best initial level for `alpha` (closed form: errors are linear in it) and the SSE."""
    base = levels(y, alpha, 0.0)
    # One-step forecast of y_t is ℓ_{t-1}; with ℓ_{-1} = l0 it is base_{t-1} + (1-α)^t·l0.
    prior = np.r_[0.0, base[:-1]]
    weight = (1.0 - alpha) ** np.arange(len(y))
    initial = float(weight @ (y - prior) / (weight @ weight))
    errors = y - prior - weight * initial
    return initial, float(errors @ errors)


def fit_ses(y: np.ndarray, alpha: float | None = None) -> SesFit:
    """SES with the smoothing weight (unless given) and initial level that minimise the SSE."""
    y = np.asarray(y, dtype=float)
    if alpha is None:
        found = minimize_scalar(
            lambda a: _profile(y, a)[1],
            bounds=ALPHA_BOUNDS,
            method="bounded",
            options={"xatol": 1e-4},
        )
        alpha = float(found.x)
    initial, _ = _profile(y, alpha)
    path = levels(y, alpha, initial)
    residuals = y - np.r_[initial, path[:-1]]
    return SesFit(alpha, initial, float(path[-1]), residuals)
