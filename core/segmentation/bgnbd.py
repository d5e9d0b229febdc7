"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

Per customer: x repeat purchases (purchase days after the first), t_x the time of the
last purchase and T the time of the as-of date, both measured from the first purchase.
Purchase rates are Gamma(r, alpha) across customers; after each purchase a customer
drops out with probability p ~ Beta(a, b). The log-likelihood of one customer is

    ln L = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
           + ln[ (alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x) ]

(FHL 2005, eq. 6). The fit maximises the sum over customers with L-BFGS-B on the
log-parameters using the analytic gradient; customers with the same (x, t_x, T) are
counted once with a weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

from core.errors import UserInputError

PARAMS = ("r", "alpha", "a", "b")
LOG_BOUND = 12.0  # parameters stay within e^-12 .. e^12


@dataclass(frozen=True, slots=True)
class BgNbdParams:
    """Gamma(r, alpha) purchase rates and Beta(a, b) drop-out probabilities."""

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class BgNbdFit:
    """Fitted parameters, their standard errors, the log-likelihood and how the fit went."""

    params: BgNbdParams
    std_errors: BgNbdParams | None
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int


def _arrays(x, t_x, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    if not (x.shape == t_x.shape == T.shape):
        raise UserInputError("x, t_x and T must have one value per customer.")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise UserInputError("BG/NBD needs x >= 0 and 0 <= t_x <= T for every customer.")
    return x, t_x, T


def _terms(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """Per-customer log-likelihood plus the pieces its gradient needs."""
    r, alpha, a, b = theta
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    bx1 = np.where(repeat, b + x - 1, 1.0)  # only used where x > 0
    a4 = np.where(repeat, np.log(a) - np.log(bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
    top = np.maximum(a3, a4)
    lse = top + np.log(np.exp(a3 - top) + np.exp(a4 - top))
    return a1 + a2 + lse, a3, a4, lse, bx1, repeat


def log_likelihood(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each customer under `params`."""
    x, t_x, T = _arrays(x, t_x, T)
    return _terms(params.as_array(), x, t_x, T)[0]


def _gradient(theta, x, t_x, T, a3, a4, lse, bx1, repeat) -> np.ndarray:
    """d lnL / d(r, alpha, a, b) per customer, shape (4, n)."""
    r, alpha, a, b = theta
    w3 = np.exp(a3 - lse)
    w4 = np.where(repeat, np.exp(a4 - lse), 0.0)
    log_t_x = np.log(alpha + t_x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * log_t_x
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / bx1
    return np.vstack([d_r, d_alpha, d_a, d_b])


def _compress(x, t_x, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t_x, T) rows and how many customers share each."""
    stacked = np.column_stack([x, t_x, T])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(np.float64)


def fit(x, t_x, T, *, initial: BgNbdParams | None = None) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters for customers (x, t_x, T)."""
    x, t_x, T = _arrays(x, t_x, T)
    if len(x) < 2:
        raise UserInputError("BG/NBD needs at least 2 customers.")
    if not (x > 0).any():
        raise UserInputError(
            "No customer bought on two different days, so repeat purchasing cannot be modelled."
        )
    ux, ut, uT, weights = _compress(x, t_x, T)
    total = weights.sum()
    if initial is None:
        rate = max(x.mean(), 0.05) / max(T.mean(), 1e-3)
        initial = BgNbdParams(1.0, 1.0 / rate, 1.0, 1.0)

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(log_theta)
        ll, a3, a4, lse, bx1, repeat = _terms(theta, ux, ut, uT)
        grad = _gradient(theta, ux, ut, uT, a3, a4, lse, bx1, repeat) @ weights
        return -float(ll @ weights) / total, -(grad * theta) / total

    result = minimize(
        objective,
        np.log(initial.as_array()),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
        options={"maxiter": 500, "ftol": 1e-13, "gtol": 1e-9},
    )
    theta = np.exp(result.x)
    params = BgNbdParams(*map(float, theta))
    return BgNbdFit(
        params=params,
        std_errors=_std_errors(theta, ux, ut, uT, weights),
        log_likelihood=-float(result.fun) * total,
        customers=len(x),
        converged=bool(result.success),
        iterations=int(result.nit),
    )


def _std_errors(theta, x, t_x, T, weights) -> BgNbdParams | None:
    """Standard errors from the observed information (numerical Hessian of the gradient)."""

    def total_gradient(th: np.ndarray) -> np.ndarray:
        _, a3, a4, lse, bx1, repeat = _terms(th, x, t_x, T)
        return _gradient(th, x, t_x, T, a3, a4, lse, bx1, repeat) @ weights

    hessian = np.empty((4, 4))
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-5 * theta[j]
        hessian[:, j] = (total_gradient(theta + step) - total_gradient(theta - step)) / (
            2 * step[j]
        )
    hessian = (hessian + hessian.T) / 2
    try:
        covariance = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        return None
    variances = np.diag(covariance)
    if (variances <= 0).any() or not np.isfinite(variances).all():
        return None
    return BgNbdParams(*map(float, np.sqrt(variances)))


def p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T); 1 for customers without a repeat purchase."""
    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = params.as_array()
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1, 1.0)
    log_ratio = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_ratio), 1.0)


def _bracket(params: BgNbdParams, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(a+b+x-1)/(a-1) * [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)].

    This is FHL's [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] after
    Euler's transformation, which keeps the hypergeometric's parameters small when x is
    large and z is close to 1.
    """
    r, _, a, b = params.as_array()
    if abs(a - 1) < 1e-7:
        a = 1 + 1e-7  # the formula's limit at a = 1; the difference is far below display
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        hyper = hyp2f1(a + b - 1 - r, a - 1, c, z)
        exact = c / (a - 1) * (1 - np.power(1 - z, a - 1) * hyper)
    bad = ~np.isfinite(exact)
    if bad.any():
        # Huge a and b (drop-out barely varies between customers) overflow 2F1. The term
        # is E[(1/p)(1 - ((alpha+T)/(alpha+T+p t))^(r+x))] over p ~ Beta(a, b+x), which is
        # then tightly concentrated: evaluate it at the Beta's mean.
        exact = np.where(bad, _concentrated(params, x, z), exact)
    return exact


def _concentrated(params: BgNbdParams, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The bracket with the drop-out probability fixed at the mean of Beta(a, b + x)."""
    r, _, a, b = params.as_array()
    p = a / (a + b + x)
    t_over = z / (1 - z)  # t / (alpha + T)
    return (1 - np.power(1 + p * t_over, -(r + x))) / p


def expected_purchases(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """Expected purchases in (T, T + t] for each customer (FHL 2005, eq. 10)."""
    x, t_x, T = _arrays(x, t_x, T)
    if t < 0:
        raise UserInputError("The horizon must be zero or more.")
    r, alpha, a, b = params.as_array()
    z = t / (alpha + T + t)
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1, 1.0)
    odds = np.where(repeat, a / bx1 * np.power((alpha + T) / (alpha + t_x), r + x), 0.0)
    return np.maximum(_bracket(params, x, z) / (1 + odds), 0.0)


def expected_purchases_new(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)]: purchases a new customer makes in a period of length t (FHL 2005, eq. 7)."""
    t = np.asarray(t, dtype=np.float64)
    r, alpha, a, b = params.as_array()
    if abs(a - 1) < 1e-7:
        a = 1 + 1e-7
    z = t / (alpha + t)
    return (
        (a + b - 1) / (a - 1) * (1 - np.power(alpha / (alpha + t), r) * hyp2f1(r, b, a + b - 1, z))
    )


def simulate(params: BgNbdParams, T, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers observed for T time units each, from the model itself."""
    T = np.asarray(T, dtype=np.float64)
    n = len(T)
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    clock = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0, len(idx)) / np.maximum(rate[idx], 1e-300)
        bought = clock[idx] <= T[idx]
        buyers = idx[bought]
        x[buyers] += 1
        t_x[buyers] = clock[buyers]
        stays = rng.random(len(buyers)) >= drop[buyers]  # drop out after a purchase
        active[idx[~bought]] = False
        active[buyers[~stays]] = False
    return x, t_x
