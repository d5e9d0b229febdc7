"""Inventory formulas: EOQ, safety stock, reorder point, order-up-to level, fill rate, cover.

Plain floats in and out. Units, unless a function says otherwise:

* demand is per period (a week, a day: any period, used consistently), lead times and
  review periods are in the same periods, and a standard deviation has the unit of
  the mean it belongs to;
* EOQ works per year: annual demand in units, ordering cost per order, holding cost
  per unit per year (unit cost x holding cost rate);
* the service level is a cycle service level: the probability of no stock-out in a
  replenishment cycle (0 < level < 1); the fill rate is the share of demand met from
  stock (0 < rate < 1).

Demand over the lead time is taken as normal with mean d*L and standard deviation
sqrt(L*sigma_d^2 + d^2*sigma_L^2) (Silver, Pyke & Thomas; Snyder & Shen ch. 4-5).
"""

from __future__ import annotations

import datetime
import math

from scipy.optimize import brentq
from scipy.stats import norm

from core.errors import UserInputError

Z_MAX = 8.0  # beyond this the loss function underflows; no fill rate needs more


def _finite(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserInputError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(value):
        raise UserInputError(f"{name} must be a finite number, got {value}.")
    return value


def _non_negative(name: str, value: float) -> float:
    value = _finite(name, value)
    if value < 0:
        raise UserInputError(f"{name} cannot be negative, got {value:g}.")
    return value


def _positive(name: str, value: float) -> float:
    value = _finite(name, value)
    if value <= 0:
        raise UserInputError(f"{name} must be greater than 0, got {value:g}.")
    return value


def _fraction(name: str, value: float) -> float:
    value = _finite(name, value)
    if not 0 < value < 1:
        raise UserInputError(f"{name} must be between 0 and 1 (exclusive), got {value:g}.")
    return value


def service_z(service_level: float) -> float:
    """The standard normal quantile of a cycle service level (0.95 -> 1.645)."""
    return float(norm.ppf(_fraction("The service level", service_level)))


def eoq(annual_demand: float, order_cost: float, holding_cost: float) -> float:
    """Economic order quantity sqrt(2KD/h) in units (h: holding cost per unit per year)."""
    demand = _non_negative("Annual demand", annual_demand)
    k = _non_negative("The ordering cost", order_cost)
    h = _positive("The holding cost", holding_cost)
    return math.sqrt(2 * k * demand / h)


def eoq_cost(
    annual_demand: float, order_cost: float, holding_cost: float, order_qty: float | None = None
) -> float:
    """Annual ordering plus holding cost K*D/Q + h*Q/2 of `order_qty` (default: the EOQ)."""
    q = eoq(annual_demand, order_cost, holding_cost) if order_qty is None else order_qty
    q = _finite("The order quantity", q)
    if q <= 0:
        return 0.0 if annual_demand == 0 else math.inf
    return order_cost * annual_demand / q + holding_cost * q / 2


def lead_time_demand_std(
    demand_std: float, lead_time_mean: float, demand_mean: float = 0.0, lead_time_std: float = 0.0
) -> float:
    """Standard deviation of demand over the lead time: sqrt(L*sigma_d^2 + d^2*sigma_L^2)."""
    sd = _non_negative("The demand standard deviation", demand_std)
    lt = _non_negative("The lead time", lead_time_mean)
    d = _non_negative("Mean demand", demand_mean)
    sl = _non_negative("The lead time standard deviation", lead_time_std)
    return math.sqrt(lt * sd**2 + d**2 * sl**2)


def safety_stock(
    service_level: float,
    demand_std: float,
    lead_time_mean: float,
    demand_mean: float = 0.0,
    lead_time_std: float = 0.0,
) -> float:
    """Safety stock z * sqrt(L*sigma_d^2 + d^2*sigma_L^2) for a cycle service level (units)."""
    z = service_z(service_level)
    return z * lead_time_demand_std(demand_std, lead_time_mean, demand_mean, lead_time_std)


def reorder_point(
    service_level: float,
    demand_mean: float,
    demand_std: float,
    lead_time_mean: float,
    lead_time_std: float = 0.0,
) -> float:
    """Reorder point d*L + safety stock (units): order when the position falls to it."""
    ss = safety_stock(service_level, demand_std, lead_time_mean, demand_mean, lead_time_std)
    return _non_negative("Mean demand", demand_mean) * lead_time_mean + ss


def order_up_to_level(
    service_level: float,
    demand_mean: float,
    demand_std: float,
    review_period: float,
    lead_time_mean: float,
) -> float:
    """Periodic-review order-up-to level d*(R+L) + z*sigma_d*sqrt(R+L) (units)."""
    z = service_z(service_level)
    d = _non_negative("Mean demand", demand_mean)
    sd = _non_negative("The demand standard deviation", demand_std)
    exposure = _non_negative("The review period", review_period) + _non_negative(
        "The lead time", lead_time_mean
    )
    return d * exposure + z * sd * math.sqrt(exposure)


def loss_function(z: float) -> float:
    """Standard normal loss G(z) = phi(z) - z*(1 - Phi(z)): expected shortfall beyond z."""
    z = _finite("z", z)
    return float(norm.pdf(z) - z * norm.sf(z))


def fill_rate(z: float, order_qty: float, sigma_over_lead_time: float) -> float:
    """Fill rate 1 - sigma_L*G(z)/Q of an (s, Q) policy with safety factor z."""
    q = _positive("The order quantity", order_qty)
    sigma = _non_negative("The lead-time demand standard deviation", sigma_over_lead_time)
    return 1.0 - sigma * loss_function(z) / q


def z_for_fill_rate(fill_rate: float, order_qty: float, sigma_over_lead_time: float) -> float:
    """The safety factor z meeting a fill-rate target: solves G(z) = (1 - beta)*Q/sigma_L.

    A large order quantity meets the target with little or negative safety stock, so z
    may be negative; it is capped at Z_MAX for targets no normal model can tell apart.
    """
    beta = _fraction("The fill rate", fill_rate)
    q = _positive("The order quantity", order_qty)
    sigma = _non_negative("The lead-time demand standard deviation", sigma_over_lead_time)
    if sigma == 0:
        return 0.0  # no uncertainty: any z meets the target; no safety stock needed
    target = (1 - beta) * q / sigma
    if target <= loss_function(Z_MAX):
        return Z_MAX
    low = -max(target, 1.0) - 2.0  # G(z) > -z, so G(low) > target
    return float(brentq(lambda z: loss_function(z) - target, low, Z_MAX, xtol=1e-10))


def days_of_cover(on_hand: float, daily_demand: float) -> float:
    """Days the stock on hand lasts at the daily demand (infinite when nothing sells)."""
    stock = _finite("Stock on hand", on_hand)
    rate = _non_negative("Daily demand", daily_demand)
    if stock <= 0:
        return 0.0
    return math.inf if rate == 0 else stock / rate


def stockout_date(
    on_hand: float, daily_demand: float, today: datetime.date
) -> datetime.date | None:
    """The day the stock on hand runs out at the daily demand (None when it never does)."""
    cover = days_of_cover(on_hand, daily_demand)
    if math.isinf(cover):
        return None
    return today + datetime.timedelta(days=math.floor(cover))


def stockout_probability(position: float, demand_mean: float, demand_std: float) -> float:
    """Probability that demand until the next receipt exceeds the stock position.

    `position` is on hand plus on order (units); `demand_mean` and `demand_std` describe
    demand over the time until the next receipt, normally the lead time (d*L and
    sqrt(L*sigma_d^2 + d^2*sigma_L^2)). Demand is taken as normal.
    """
    pos = _finite("The stock position", position)
    mean = _non_negative("Mean demand", demand_mean)
    sd = _non_negative("The demand standard deviation", demand_std)
    if sd == 0:
        return 1.0 if mean > pos else 0.0
    return float(norm.sf((pos - mean) / sd))
