"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

A customer's purchases are Gamma(p, nu) with nu ~ Gamma(q, v) across customers, so the
average m_x of x purchases has the density

    f(m_x) = G(px+q) / (G(px) G(q)) * v^q * m_x^(px-1) * x^(px) / (v + x m_x)^(px+q)

The fit uses customers with at least one repeat purchase and a positive average repeat
spend. The expected spend of a customer shrinks their own average towards the
population's: E[M] = p (v + x m_x) / (p x + q - 1), which for x = 0 is p v / (q - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from core.errors import UserInputError

LOG_BOUND = 15.0


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Shape p of spend per purchase; Gamma(q, v) across customers of its rate."""

    p: float
    q: float
    v: float

    @property
    def population_mean(self) -> float | None:
        """Mean spend per purchase across customers (None when q <= 1: no finite mean)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else None


@dataclass(frozen=True, slots=True)
class GammaGammaFit:
    """Fitted parameters, the log-likelihood, customers used and convergence."""

    params: GammaGammaParams
    log_likelihood: float
    customers: int
    converged: bool


def _checked(x, m) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    if x.shape != m.shape:
        raise UserInputError("x and the average spend need one value per customer.")
    if (x <= 0).any() or (m <= 0).any():
        raise UserInputError(
            "Gamma-Gamma needs customers with repeat purchases and positive spend."
        )
    return x, m


def log_likelihood(params: GammaGammaParams, x, m) -> np.ndarray:
    """Log-density of each customer's average spend m over x purchases."""
    x, m = _checked(x, m)
    p, q, v = params.p, params.q, params.v
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


def fit(x, m) -> GammaGammaFit:
    """Maximum-likelihood p, q, v from repeat buyers' purchase counts and average spend."""
    x, m = _checked(x, m)
    if len(x) < 3:
        raise UserInputError("Gamma-Gamma needs at least 3 customers with repeat purchases.")
    log_m, log_x = np.log(m), np.log(x)
    n = len(x)

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_theta)
        px = p * x
        vxm = v + x * m
        ll = (
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * log_m + px * log_x - (px + q) * np.log(vxm)
        )  # fmt: skip
        psi = digamma(px + q)
        d_p = x * (psi - digamma(px) + log_m + log_x - np.log(vxm))
        d_q = psi - digamma(q) + np.log(v) - np.log(vxm)
        d_v = q / v - (px + q) / vxm
        grad = np.array([d_p.sum() * p, d_q.sum() * q, d_v.sum() * v])
        return -float(ll.sum()) / n, -grad / n

    p0, q0 = 2.0, 3.0
    v0 = float(np.mean(m)) * (q0 - 1) / p0
    result = minimize(
        objective,
        np.log([p0, q0, v0]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * 3,
        options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-10},
    )
    p, q, v = map(float, np.exp(result.x))
    return GammaGammaFit(GammaGammaParams(p, q, v), -float(result.fun) * n, n, bool(result.success))


def expected_spend(params: GammaGammaParams, x, m, fallback: float) -> np.ndarray:
    """Expected spend per future purchase; `fallback` for x = 0 when q <= 1."""
    x = np.asarray(x, dtype=np.float64)
    m = np.clip(np.asarray(m, dtype=np.float64), 0.0, None)
    p, q, v = params.p, params.q, params.v
    denominator = p * x + q - 1
    population = params.population_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        shrunk = p * (v + x * m) / denominator
    prior = population if population is not None else fallback
    return np.where((x > 0) & (denominator > 0), shrunk, prior)


def simulate(params: GammaGammaParams, x, rng: np.random.Generator) -> np.ndarray:
    """Average spend of x purchases per customer, drawn from the model itself."""
    x = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(params.q, 1.0 / params.v, len(x))
    return rng.gamma(params.p * x, 1.0 / nu) / x
