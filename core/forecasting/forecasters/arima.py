"""ARIMA with a stepwise order search (Hyndman & Khandakar 2008), by conditional least squares.

* The season, when the M4 test finds one, is taken out first by classical decomposition
  and put back afterwards (like R's stlf with an ARIMA method); the search is then over
  non-seasonal orders, which keeps it fast enough for thousands of series.
* d comes from repeated KPSS tests (5% level, at most 2); then p and q are searched
  stepwise from (2,d,2), (0,d,0), (1,d,0) and (0,d,1), moving one order at a time and
  toggling the constant (the drift when d = 1), while AICc improves.
* Parameters minimise the conditional sum of squares; AR and MA parts are mapped
  through partial autocorrelations, so every fitted model is stationary and invertible.
* Regressors (`X`) enter as a regression with ARIMA errors: y is differenced together
  with X, and the coefficients are estimated jointly with the ARMA part.
* Intervals use the ψ-weights of the integrated model: var_h = σ²·Σ_{j<h} ψ_j².
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Self

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import lfilter

from core.forecasting.forecasters.base import Forecaster, ModelSpec, Prediction, as_series, register
from core.forecasting.seasonality import NO_SEASON, seasonal_part

MAX_ORDER = 5
MAX_MODELS = 40


def _coefficients(raw: np.ndarray) -> np.ndarray:
    """Unconstrained values -> coefficients of a stationary polynomial (Durbin-Levinson)."""
    coef = np.zeros(0)
    for r in np.tanh(raw):
        coef = np.r_[coef - r * coef[::-1], r]
    return coef


def kpss_differences(y: np.ndarray, max_d: int = 2) -> int:
    """How many first differences make `y` level-stationary by the KPSS test at 5%."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(y) > 4 and np.ptp(y) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p_value = kpss(y, regression="c", nlags="auto")[1]
        if p_value >= 0.05:
            break
        y = np.diff(y)
        d += 1
    return d


@dataclass(frozen=True, slots=True)
class _Fit:
    p: int
    q: int
    constant: bool
    phi: np.ndarray
    theta: np.ndarray
    mean: float
    beta: np.ndarray
    residuals: np.ndarray  # over the whole differenced sample (zeros before the first p)
    sigma2: float
    aicc: float


def _errors(
    w: np.ndarray,
    x: np.ndarray | None,
    phi: np.ndarray,
    theta: np.ndarray,
    mean: float,
    beta: np.ndarray,
) -> np.ndarray:
    """Conditional one-step errors from position p on (earlier errors taken as zero)."""
    p = len(phi)
    z = w - mean - (x @ beta if x is not None and len(beta) else 0.0)
    u = z[p:] - sum(phi[i] * z[p - 1 - i : len(z) - 1 - i] for i in range(p)) if p else z
    return lfilter([1.0], np.r_[1.0, theta], u)


def _unpack(raw: np.ndarray, p: int, q: int, constant: bool):
    phi = _coefficients(raw[:p])
    theta = -_coefficients(raw[p : p + q])  # invertible: roots of 1 + θ(B) outside the circle
    mean = float(raw[p + q]) if constant else 0.0
    return phi, theta, mean, raw[p + q + int(constant) :]


def _stable(poly_tail: np.ndarray, sign: float) -> bool:
    """Whether 1 + sign·(c₁z + c₂z² + …) has every root outside the unit circle."""
    if not len(poly_tail):
        return True
    roots = np.roots(np.r_[sign * poly_tail[::-1], 1.0])
    return bool(np.all(np.abs(roots) > 1.0 + 1e-6))


def _aicc(sse: float, n: int, k: int) -> float:
    sigma2 = max(sse / n, 1e-300)
    kk = k + 1  # the error variance is a parameter too
    return n * np.log(sigma2) + 2 * kk + 2 * kk * (kk + 1) / max(n - kk - 1, 1)


def _hannan_rissanen(
    w: np.ndarray,
    x: np.ndarray | None,
    p: int,
    q: int,
    constant: bool,
    ehat: np.ndarray,
    start: int,
) -> tuple[np.ndarray, float] | None:
    """Least-squares regression of w_t on its lags, lagged long-AR errors, constant and X.

    Every order is fitted on the same rows (from `start` on), so AICc compares them fairly.
    Returns the coefficients [φ, θ, constant, β] and the AICc.
    """
    rows = np.arange(start, len(w))
    columns = [w[rows - i] for i in range(1, p + 1)] + [ehat[rows - j] for j in range(1, q + 1)]
    if constant:
        columns.append(np.ones(len(rows)))
    if x is not None:
        columns.extend(x[rows].T)
    if not columns:
        sse = float(w[rows] @ w[rows])
        return np.zeros(0), _aicc(sse, len(rows), 0)
    design = np.column_stack(columns)
    if len(rows) - design.shape[1] < 3:
        return None
    coef, *_ = np.linalg.lstsq(design, w[rows], rcond=None)
    resid = w[rows] - design @ coef
    return coef, _aicc(float(resid @ resid), len(rows), design.shape[1])


def _css(w: np.ndarray, x: np.ndarray | None, p: int, q: int, constant: bool) -> np.ndarray:
    """Conditional least squares in the stationary/invertible parametrisation: [raw...]."""
    n_beta = 0 if x is None else x.shape[1]
    scale = float(np.std(w)) or 1.0
    start = np.zeros(p + q + int(constant) + n_beta)
    if constant:
        start[p + q] = float(np.mean(w)) / scale
    found = least_squares(
        lambda raw: _errors(w / scale, x, *_unpack(raw, p, q, constant)),
        start,
        method="trf",
        max_nfev=100,
    )
    raw = found.x.copy()
    raw[p + q :] *= scale
    return raw


def _finish(w: np.ndarray, x: np.ndarray | None, p: int, q: int, constant: bool, coef) -> _Fit:
    """A fit from [φ, θ, constant, β]; unstable estimates are re-estimated by CSS."""
    phi, theta = coef[:p], coef[p : p + q]
    rest = coef[p + q :]
    if not (_stable(phi, -1.0) and _stable(theta, 1.0)):
        phi, theta, mean, beta = _unpack(_css(w, x, p, q, constant), p, q, constant)
    else:
        mean = float(rest[0]) if constant else 0.0
        beta = rest[int(constant) :]
        # The regression's intercept is c = μ(1 − Σφ); the filter wants the mean μ.
        mean = mean / (1 - float(np.sum(phi))) if constant and abs(1 - np.sum(phi)) > 1e-6 else mean
    e = _errors(w, x, phi, theta, mean, beta)
    sse = float(e @ e)
    k = p + q + int(constant) + len(beta)
    n = len(e)
    return _Fit(
        p,
        q,
        constant,
        phi,
        theta,
        mean,
        beta,
        np.r_[np.zeros(p), e],
        sse / max(n - k, 1),
        _aicc(sse, n, k),
    )


def stepwise(w: np.ndarray, x: np.ndarray | None, d: int) -> _Fit:
    """Hyndman-Khandakar stepwise search over (p, q, constant) by AICc.

    Orders are compared through Hannan-Rissanen regressions (residuals of a long
    autoregression stand in for the errors), which makes each candidate a single
    least-squares solve; the chosen order is then estimated once.
    """
    allow_constant = d < 2
    max_order = int(min(MAX_ORDER, max(1, (len(w) - 10) // 6)))
    long_ar = int(min(max(2 * max_order, 4), len(w) // 4))
    start = long_ar + max_order
    if len(w) - start < 8:  # too short to compare orders: white noise with a constant
        coef = np.array([float(np.mean(w))]) if allow_constant else np.zeros(0)
        return _finish(w, x if x is not None and len(w) > 3 else None, 0, 0, allow_constant, coef)
    lagged = np.column_stack([w[long_ar - i : len(w) - i] for i in range(1, long_ar + 1)])
    design = np.column_stack([lagged, np.ones(len(lagged))])
    ar_coef, *_ = np.linalg.lstsq(design, w[long_ar:], rcond=None)
    ehat = np.r_[np.zeros(long_ar), w[long_ar:] - design @ ar_coef]
    tried: dict[tuple[int, int, bool], tuple[np.ndarray, float] | None] = {}

    def visit(p: int, q: int, c: bool) -> None:
        key = (p, q, c and allow_constant)
        if key in tried or not (0 <= p <= max_order and 0 <= q <= max_order):
            return
        if len(tried) < MAX_MODELS:
            tried[key] = _hannan_rissanen(w, x, *key, ehat, start)

    def best() -> tuple[int, int, bool] | None:
        fits = {k: v for k, v in tried.items() if v is not None}
        return min(fits, key=lambda k: fits[k][1]) if fits else None

    for p, q in ((2, 2), (0, 0), (1, 0), (0, 1)):
        visit(p, q, True)
    current = best()
    while current is not None:
        p, q, c = current
        for dp, dq in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)):
            visit(p + dp, q + dq, c)
        visit(p, q, not c)
        found = best()
        if found == current:
            break
        current = found
    if current is None:
        raise ValueError("the series is too short for ARIMA")
    p, q, c = current
    return _finish(w, x, p, q, c, tried[current][0])


class Arima(Forecaster):
    """Automatic ARIMA (stepwise), on the seasonally adjusted series, with optional regressors."""

    def fit(self, y, X=None) -> Self:
        values = as_series(y).to_numpy()
        self.n_ = len(values)
        self.season_ = seasonal_part(values, self.season_length)
        adjusted = self.season_.adjust(values)
        d = kpss_differences(adjusted)
        w = np.diff(adjusted, n=d) if d else adjusted
        x = None
        if X is not None:
            x = np.asarray(X, dtype=float).reshape(len(values), -1)
            x = np.diff(x, n=d, axis=0) if d else x
            if x.shape[1] == 0:
                x = None
        self.d_ = d
        self.fit_ = stepwise(w, x, d)
        self.tail_ = adjusted[-(d + 1) :]
        self.w_ = w
        self.x_last_ = None if X is None else np.asarray(X, dtype=float).reshape(len(values), -1)
        return self

    @property
    def order_(self) -> tuple[int, int, int]:
        return (self.fit_.p, self.d_, self.fit_.q)

    def predict(self, h: int, X=None) -> Prediction:
        f, d = self.fit_, self.d_
        regression = np.zeros(h)
        past_regression = np.zeros(len(self.w_))
        if len(f.beta):
            if X is None:
                raise ValueError("ARIMA with regressors needs their future values")
            future = np.asarray(X, dtype=float).reshape(h, -1)
            history = self.x_last_
            if d:  # regressors are differenced with the series
                future = np.diff(np.vstack([history[-d:], future]), n=d, axis=0)
                history = np.diff(history, n=d, axis=0)
            regression = future @ f.beta
            past_regression = history @ f.beta
        z = self.w_ - f.mean - past_regression
        e = f.residuals
        z_ext, e_ext = list(z), list(e)
        for _ in range(h):
            ar = sum(f.phi[i] * z_ext[-1 - i] for i in range(f.p))
            ma = sum(f.theta[j] * e_ext[-1 - j] for j in range(f.q))
            z_ext.append(ar + ma)
            e_ext.append(0.0)
        w_future = np.array(z_ext[-h:]) + f.mean + regression
        mean = w_future
        for level in range(d, 0, -1):  # undo the differences, innermost first
            base = np.diff(self.tail_, n=level - 1)[-1]
            mean = base + np.cumsum(mean)
        denominator = np.r_[1.0, -f.phi]
        for _ in range(d):
            denominator = np.convolve(denominator, [1.0, -1.0])
        impulse = np.r_[1.0, np.zeros(h - 1)]
        psi = lfilter(np.r_[1.0, f.theta], denominator, impulse)
        sigma = np.sqrt(f.sigma2 * np.cumsum(psi**2))
        mean = self.season_.restore(mean, self.n_)
        if self.season_ is not NO_SEASON and self.season_.multiplicative:
            sigma = self.season_.restore(sigma, self.n_)
        return Prediction(mean, sigma)


register(
    ModelSpec(
        "arima",
        "ARIMA",
        "statistical",
        "ARIMA with a stepwise order search, on the seasonally adjusted series; "
        "uses regressors (regression with ARIMA errors).",
        Arima,
        min_length=lambda m: 8,
        uses_exog=True,
    )
)
