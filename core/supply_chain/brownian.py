"""Brownian demand watched continuously: when it reaches a level, and where it ends.

Demand is a Brownian motion with drift d and variance sd^2 per period, the model
behind the normal lead-time demand of the inventory formulas. The simulation needs
two exact draws, vectorised across runs:

* the first time cumulative demand reaches a gap g > 0 (inverse Gaussian with mean
  g/d and shape g^2/sd^2);
* demand over a time t given that it did not reach g on the way: a normal draw kept
  with the probability that its Brownian bridge stays below g,
  1 - exp(-2 g (g - x) / (sd^2 t)) (rejection sampling).
"""

from __future__ import annotations

import numpy as np


def hitting_time(rng: np.random.Generator, gap: np.ndarray, d: float, sd: float) -> np.ndarray:
    """When cumulative demand first reaches `gap` (> 0), in periods."""
    if sd == 0:
        return gap / d
    return rng.wald(gap / d, gap**2 / sd**2)


def end_without_hit(
    rng: np.random.Generator, gap: np.ndarray, d: float, sd: float, length: np.ndarray
) -> np.ndarray:
    """Demand over `length` periods given that it never reached `gap` on the way."""
    out = np.zeros(len(gap))
    todo = np.flatnonzero(length > 0)
    while todo.size:
        g, t = gap[todo], length[todo]
        x = rng.normal(d * t, sd * np.sqrt(t))
        if sd == 0:
            keep = x < g
        else:
            stay = np.where(x < g, -np.expm1(-2 * g * (g - x) / (sd**2 * t)), 0.0)
            keep = rng.random(len(todo)) < stay
        out[todo[keep]] = x[keep]
        todo = todo[~keep]
    return out


def advance(
    rng: np.random.Generator, gap: np.ndarray, d: float, sd: float, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run demand for up to `length` per run, stopping early where it uses up `gap`.

    Returns the demand, whether the gap was reached (an order is due) and the time
    used. Demand after such a moment is fresh when the caller continues: a Brownian
    motion's future after a stopping time is independent of its past.
    """
    hit = hitting_time(rng, gap, d, sd)
    reached = (hit <= length) & (length > 0)
    demand = np.where(reached, gap, 0.0)
    stay = ~reached
    demand[stay] = end_without_hit(rng, gap[stay], d, sd, length[stay])
    return demand, reached, np.where(reached, hit, length)
