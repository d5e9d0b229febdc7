"""Deterministic sample company ("Lumen Goods") whose tables every analytics page can use."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd

SAMPLE_SEED = 20240101
COMPANY_NAME = "Lumen Goods"

_DT = "datetime64[us]"  # pandas 3 default resolution; DuckDB reads it as a plain TIMESTAMP
_ORDERS_PER_YEAR = 19_500  # ~2.05 lines per order -> ~120k order lines over three years
_NEW_CUSTOMERS_PER_YEAR = 1_500
_BASE_CUSTOMERS = 1_500  # already active when the window opens, so year one is not a ramp-up
_TREND = 0.06  # yearly demand growth; the growing customer base and price drift add the rest
_INFLATION = 0.03  # list prices drift up, so older orders carry lower prices

_FLAT = (1.0,) * 12
_SUMMER = (0.7, 0.7, 0.9, 1.1, 1.4, 1.7, 1.8, 1.6, 1.1, 0.8, 0.7, 0.7)
# name, SKU prefix, SKU count, median list price, median kg, product nouns, monthly mix factor
_CATEGORIES: tuple[tuple[str, str, int, float, float, tuple[str, ...], tuple[float, ...]], ...] = (
    ("Apparel", "APP", 45, 48.0, 0.6,
     ("Jacket", "Hoodie", "Tee", "Fleece", "Parka", "Vest", "Pants", "Shirt"), _FLAT),
    ("Footwear", "FTW", 30, 95.0, 1.1,
     ("Boot", "Runner", "Sandal", "Clog", "Slip-On", "Hiker", "Loafer"), _FLAT),
    ("Outdoor Gear", "OUT", 35, 135.0, 1.5,
     ("Backpack", "Trekking Pole", "Headlamp", "Daypack", "Hydration Pack", "Rain Shell"), _SUMMER),
    ("Camping", "CMP", 28, 110.0, 3.5,
     ("Tent", "Sleeping Bag", "Stove", "Hammock", "Camp Chair", "Cooler", "Lantern"), _SUMMER),
    ("Fitness", "FIT", 25, 55.0, 2.0,
     ("Yoga Mat", "Kettlebell", "Resistance Band", "Jump Rope", "Foam Roller", "Dumbbell"),
     (1.6, 1.3, 1.1, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 0.9, 0.9)),  # New Year resolutions
    ("Home & Kitchen", "HOM", 30, 36.0, 1.2,
     ("Mug", "Blanket", "Water Bottle", "Cutting Board", "Candle", "Throw Pillow"), _FLAT),
    ("Electronics", "ELC", 20, 170.0, 0.5,
     ("Speaker", "Earbuds", "Power Bank", "Smartwatch", "Action Cam", "Solar Charger"),
     (0.9, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.4, 1.6)),  # gifting season
    ("Accessories", "ACC", 30, 22.0, 0.2,
     ("Beanie", "Cap", "Gloves", "Scarf", "Sunglasses", "Wallet", "Belt"), _FLAT),
)  # fmt: skip
_ADJECTIVES = ("Trail", "Summit", "Harbor", "Alpine", "Urban", "Coastal", "Ridge", "Canyon",
               "Aurora", "Timber", "Nova", "Drift")  # fmt: skip
_REGIONS = ("North", "South", "East", "West", "Central")
_REGION_P = (0.22, 0.20, 0.25, 0.23, 0.10)
_CHANNELS = ("Online", "Retail", "Wholesale", "Marketplace")
# Relative order volume Monday..Sunday per channel: weekends differ by channel.
_CHANNEL_DOW = np.array([
    [1.00, 1.00, 1.00, 1.00, 0.95, 1.10, 1.20],  # Online: weekend browsing
    [0.75, 0.75, 0.80, 0.90, 1.10, 1.70, 1.30],  # Retail: foot traffic peaks on Saturday
    [1.20, 1.20, 1.20, 1.20, 1.10, 0.10, 0.05],  # Wholesale: business days only
    [0.95, 0.95, 0.95, 1.00, 1.00, 1.15, 1.25],  # Marketplace
])  # fmt: skip
_CHANNEL_SHARE = np.array(
    [[0.50, 0.30, 0.00, 0.20], [0.25, 0.00, 0.75, 0.00]]
)  # consumer, business
_ACQUISITION = ("Organic Search", "Paid Search", "Social", "Referral", "Email", "Retail Store",
                "Marketplace", "Sales Team", "Trade Show")  # fmt: skip
_ACQUISITION_P = np.array([[0.25, 0.20, 0.15, 0.10, 0.08, 0.12, 0.10, 0.00, 0.00],
                           [0.10, 0.05, 0.00, 0.20, 0.00, 0.00, 0.00, 0.45, 0.20]])  # fmt: skip
_WAREHOUSES = ("WH-East", "WH-West", "WH-Central")
_WAREHOUSE_P = np.array([0.40, 0.35, 0.25])
# country, typical lead time (days), shipping distance to the US warehouses (km); one supplier each
_COUNTRIES = (
    ("United States", 6, 1200), ("Canada", 9, 1800), ("Mexico", 12, 2500), ("Germany", 24, 7000),
    ("Portugal", 26, 6000), ("Italy", 27, 7500), ("Poland", 25, 7600), ("Turkey", 30, 9500),
    ("India", 38, 13500), ("Vietnam", 40, 14000), ("China", 42, 11500), ("Bangladesh", 45, 14500),
    ("Taiwan", 36, 11800), ("South Korea", 33, 10500), ("Japan", 32, 10000),
    ("Indonesia", 44, 15000),
)  # fmt: skip
_MODES = ("road", "rail", "sea", "air")
_MODE_SPEED = np.array([1.0, 1.25, 1.0, 0.3])  # lead-time multiplier per mode
_CERTS = ("ISO 9001", "ISO 14001", "ISO 45001", "SA8000", "OEKO-TEX", "BSCI")
# (month, day, length): spring sale, summer sale, Black Friday week, year-end clearance
_PROMOS = ((3, 14, 7), (7, 8, 10), (11, 24, 6), (12, 26, 5))
_FIRST_A = ("Al", "Bri", "Ca", "Da", "El", "Fa", "Jo", "Ka", "Li", "Ma", "No", "Ro", "Sa", "Te",
            "Vi")  # fmt: skip
_FIRST_B = ("ra", "len", "na", "rin", "son", "lia", "mo", "ver", "do", "ne", "tha", "ri")
_LAST_A = ("Ash", "Brook", "Crane", "Dal", "Elm", "Fair", "Glen", "Hart", "Hol", "Kin", "Lark",
           "Mer", "North", "Oak", "Pen", "Ried", "Stone", "Thorn", "West", "Wil")  # fmt: skip
_LAST_B = ("ford", "wood", "ley", "by", "ton", "well", "more", "field", "den", "stead", "wick")
_BUSINESS = ("Trading", "Supply", "Outfitters", "Co-op", "Partners", "Retail Group", "Provisions")
_SUPPLIER = ("Manufacturing", "Industries", "Textiles", "Works", "Trading Co.", "Goods Ltd.")


def generate_company(
    seed: int = SAMPLE_SEED, end: datetime.date = datetime.date(2026, 9, 30), years: int = 3
) -> dict[str, pd.DataFrame]:
    """Return the sample company's tables keyed by dataset name."""
    rng = np.random.default_rng(seed)
    start = (pd.Timestamp(end) - pd.DateOffset(years=years) + pd.Timedelta(days=1)).date()
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    suppliers, z_on_time, distance = _suppliers(rng)
    products, pop, mix, sup_idx = _products(rng, suppliers)
    demand, promo_day, spike = _demand(rng, days)
    cum = np.concatenate([np.zeros((2, 1)), demand.cumsum(axis=1)], axis=1)
    customers, cust = _customers(rng, days, cum)
    orders, units = _orders(rng, days, cum, promo_day, spike, cust, products, pop, mix)
    shipments, in_transit = _shipments(
        rng, days, units, products, suppliers, sup_idx, z_on_time, distance
    )
    inventory = _inventory(rng, days, units, products, in_transit)
    return {
        "orders": orders,
        "customers": customers,
        "products": products,
        "suppliers": suppliers,
        "inventory": inventory,
        "shipments": shipments,
    }


def _draw_days(
    rng: np.random.Generator, cum: np.ndarray, kind: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """One day index per entity in [lo, hi], drawn in proportion to its kind's demand curve."""
    # Inverse-CDF sampling imposes trend, seasonality, promos and anomalies on every draw.
    out = np.empty(len(kind), dtype=np.int64)
    u = rng.random(len(kind))
    for k in (0, 1):
        m = kind == k
        c, a, b = cum[k], lo[m], hi[m]
        x = c[a] + u[m] * (c[b + 1] - c[a])
        out[m] = np.clip(np.searchsorted(c, x, side="right") - 1, a, b)
    return out


def _demand(rng: np.random.Generator, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Daily order intensity for consumers (row 0) and businesses (row 1), promo days, spike day."""
    n = len(days)
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
    dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    promo = np.zeros(n, dtype=bool)
    first_year = int(days[0].astype("datetime64[Y]").astype(np.int64)) + 1970
    for year in range(first_year, first_year + n // 365 + 2):
        for month, day, length in _PROMOS:
            opens = np.datetime64(f"{year}-{month:02d}-{day:02d}")
            promo |= (days >= opens) & (days < opens + length)
    # Holiday peak in December, a small summer bump, a post-holiday lull in February.
    bumps = [(0.8, 345, 30), (0.12, 190, 35), (-0.15, 35, 20)]
    season = 1 + sum(h * np.exp(-(((doy - c) / w) ** 2)) for h, c, w in bumps)
    years_to_end = (np.arange(n) - (n - 1)) / 365.25
    base = np.exp(_TREND * years_to_end) * season * (1 + 0.5 * promo) * rng.lognormal(0, 0.08, n)
    outage, spike = int(n * 0.42), int(n * 0.63)
    base[outage] *= 0.08  # order-platform outage: a handful of orders in every channel
    demand = base * (_CHANNEL_SHARE @ _CHANNEL_DOW)[:, dow]
    demand[0, spike] *= 4.5  # a product goes viral on social media: consumers only
    return demand, promo, spike


def _suppliers(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Suppliers (one per country), the z-score fixing each on-time rate, and distance (km)."""
    n = len(_COUNTRIES)
    country = [_COUNTRIES[i] for i in rng.permutation(n)]
    base = np.array([c[1] for c in country], dtype=float)
    lt_mean = np.round(base * rng.uniform(0.85, 1.2, n), 1)
    lt_std = np.round(lt_mean * rng.uniform(0.08, 0.3, n), 1)
    z = rng.uniform(0.0, 1.9, n)  # promised date = mean + z * std, so z fixes the on-time rate
    on_time = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]
    n_certs = rng.choice(4, n, p=[0.25, 0.35, 0.25, 0.15])
    certs = ["; ".join(sorted(rng.choice(_CERTS, k, replace=False))) for k in n_certs]
    names = _unique_names(rng, _FIRST_A, _LAST_B, n)
    suffix = rng.choice(_SUPPLIER, n)
    frame = pd.DataFrame(
        {
            "supplier_id": [f"S-{i + 1:03d}" for i in range(n)],
            "supplier_name": [f"{nm} {sx}" for nm, sx in zip(names, suffix, strict=True)],
            "country": [c[0] for c in country],
            "lead_time_mean_days": lt_mean,
            "lead_time_std_days": lt_std,
            "on_time_rate": np.round(on_time, 3),
            "defect_rate": np.round(rng.uniform(0.004, 0.04, n) * (1 - 0.2 * n_certs), 4),
            "certifications": certs,
        }
    )
    return frame, z, np.array([c[2] for c in country], dtype=float)


def _unique_names(
    rng: np.random.Generator, first: tuple[str, ...], second: tuple[str, ...], n: int, sep: str = ""
) -> list[str]:
    """n distinct names combining one part from each list."""
    picks = rng.choice(len(first) * len(second), n, replace=False)
    return [f"{first[p // len(second)]}{sep}{second[p % len(second)]}" for p in picks]


def _products(
    rng: np.random.Generator, suppliers: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Products plus popularity, month-by-category mix factors and supplier index per SKU."""
    frames, mixes, sup_idx = [], [], []
    sup_order = rng.permutation(len(suppliers))
    for k, (cat, code, n, price, kg, nouns, mix) in enumerate(_CATEGORIES):
        names = _unique_names(rng, _ADJECTIVES, nouns, n, " ")
        p = np.maximum(np.floor(rng.lognormal(np.log(price), 0.35, n)) + 0.99, 1.99)
        sup = sup_order[(2 * k + (rng.random(n) < 0.35)) % len(suppliers)]  # main + second source
        frame = pd.DataFrame(
            {
                "sku": [f"{code}-{i + 1:04d}" for i in range(n)],
                "product_name": names,
                "category": cat,
                "unit_price": p,
                "unit_cost": np.round(p * rng.uniform(0.38, 0.62, n), 2),
                "supplier_id": suppliers["supplier_id"].to_numpy()[sup],
                "holding_cost_rate": np.round(rng.uniform(0.15, 0.30, n), 3),
                "ordering_cost": np.round(rng.uniform(40, 250, n), 2),
                "weight_kg": np.round(rng.lognormal(np.log(kg), 0.4, n), 2),
            }
        )
        frames.append(frame)
        mixes.append(np.tile(mix, (n, 1)))
        sup_idx.append(sup)
    products = pd.concat(frames, ignore_index=True)
    # Zipf-like popularity: a few SKUs sell most; ~10% are intermittent long-tail items.
    n = len(products)
    pop = (rng.permutation(n) + 1.0) ** -1.1
    pop[rng.random(n) < 0.1] *= 0.05
    return products, pop, np.vstack(mixes), np.concatenate(sup_idx)


def _customers(
    rng: np.random.Generator, days: np.ndarray, cum: np.ndarray
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Customers and their buying behaviour (first purchase day, active window, repeat weight)."""
    n_days = len(days)
    n_new = int(_NEW_CUSTOMERS_PER_YEAR * n_days / 365.25)
    n = _BASE_CUSTOMERS + n_new
    is_new = np.arange(n) >= _BASE_CUSTOMERS
    kind = (rng.random(n) < 0.12).astype(np.int64)  # 1 = business
    # Segments 0 one-time, 1 occasional, 2 loyal; the pre-window base has survived, so skews loyal.
    seg = np.where(
        is_new, rng.choice(3, n, p=[0.45, 0.42, 0.13]), rng.choice(3, n, p=[0, 0.47, 0.53])
    )
    life = rng.exponential(np.array([1.0, 420.0, 1500.0])[seg]).astype(np.int64)  # days to churn
    first = _draw_days(rng, cum, kind, np.zeros(n, np.int64), np.full(n, n_days - 1))
    first[~is_new] = 0
    lo = np.where(is_new, np.minimum(first + 1, n_days - 1), 0)
    hi = np.maximum(np.minimum(first + life, n_days - 1), lo)
    exposure = (cum[kind, hi + 1] - cum[kind, lo]) / cum[kind, -1] * n_days
    weight = np.array([0.0, 2.5, 12.0])[seg] * np.where(kind == 1, 1.3, 1.0) * exposure
    signup = np.where(is_new, days[first], days[0] - rng.integers(30, 3 * 365, n))
    rank = np.empty(n, np.int64)
    rank[np.argsort(signup, kind="stable")] = np.arange(n)  # IDs increase with signup date
    ids = np.array([f"C-{r + 1:05d}" for r in rank], dtype=object)
    region = rng.choice(len(_REGIONS), n, p=_REGION_P)
    by_kind = [rng.choice(len(_ACQUISITION), n, p=p) for p in _ACQUISITION_P]
    acq = np.where(kind == 1, by_kind[1], by_kind[0])
    first_name = [_FIRST_A[a] + _FIRST_B[b] for a, b in rng.integers(0, [15, 12], (n, 2))]
    last_name = [_LAST_A[a] + _LAST_B[b] for a, b in rng.integers(0, [20, 11], (n, 2))]
    suffix = rng.choice(_BUSINESS, n)
    name = [
        f"{ln} {sx}" if k else f"{fn} {ln}"
        for fn, ln, sx, k in zip(first_name, last_name, suffix, kind, strict=True)
    ]
    email = [
        f"{nm.lower().replace(' ', '.')}.{i[2:]}@example.com"
        for nm, i in zip(name, ids, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "customer_name": name,
            "email": email,
            "signup_date": signup.astype(_DT),
            "region": np.array(_REGIONS)[region],
            "acquisition_channel": np.array(_ACQUISITION)[acq],
            "customer_type": np.where(kind == 1, "Business", "Consumer"),
        }
    )
    behaviour = dict(
        kind=kind, is_new=is_new, first=first, lo=lo, hi=hi, weight=weight, id=ids, region=region
    )
    return frame.iloc[np.argsort(rank)].reset_index(drop=True), behaviour


def _orders(
    rng: np.random.Generator,
    days: np.ndarray,
    cum: np.ndarray,
    promo_day: np.ndarray,
    spike: int,
    cust: dict[str, np.ndarray],
    products: pd.DataFrame,
    pop: np.ndarray,
    mix: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Order lines, plus total units sold per SKU (drives replenishment and stock)."""
    n_days, n_sku = len(days), len(products)
    # Scale repeat rates so volume lands near the target whatever the seed's customer mix.
    target = _ORDERS_PER_YEAR * n_days / 365.25 - cust["is_new"].sum()
    counts = rng.poisson(cust["weight"] * max(target, 0) / cust["weight"].sum())
    repeat = np.repeat(np.arange(len(counts)), counts)
    new = np.flatnonzero(cust["is_new"])
    who = np.concatenate([new, repeat])
    kind = cust["kind"]
    again = _draw_days(rng, cum, kind[repeat], cust["lo"][repeat], cust["hi"][repeat])
    day = np.concatenate([cust["first"][new], again])
    order = np.lexsort((who, day))
    who, day = who[order], day[order]
    kind_o = kind[who]
    n_orders = len(day)
    dow = (days[day].astype(np.int64) + 3) % 7
    probs = _CHANNEL_SHARE[:, :, None] * _CHANNEL_DOW[None]
    probs = probs / probs.sum(axis=1, keepdims=True)  # P(channel | customer kind, weekday)
    cdf = probs[kind_o, :, dow].cumsum(axis=1)
    channel = np.minimum((rng.random(n_orders)[:, None] > cdf).sum(axis=1), len(_CHANNELS) - 1)

    o = np.repeat(np.arange(n_orders), 1 + rng.poisson(np.where(kind_o == 1, 2.4, 0.9)))
    month = days[day[o]].astype("datetime64[M]").astype(np.int64) % 12
    sku = np.empty(len(o), np.int64)
    for m in range(12):  # category mix shifts by month (summer camping, January fitness)
        mask = month == m
        p = pop * mix[:, m]
        sku[mask] = rng.choice(n_sku, mask.sum(), p=p / p.sum())
    viral = (day[o] == spike) & (kind_o[o] == 0) & (rng.random(len(o)) < 0.5)
    sku[viral] = np.argsort(-pop)[25]  # a mid-ranked product is what went viral
    keep = np.zeros(len(o), dtype=bool)
    keep[np.unique(o * n_sku + sku, return_index=True)[1]] = True  # one line per SKU per order
    o, sku = o[keep], sku[keep]
    n = len(o)
    starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
    line_no = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1

    ld, biz, wholesale = day[o], kind_o[o] == 1, channel[o] == 2
    promo = promo_day[ld] & (rng.random(n) < 0.8)  # some lines are excluded from the sale
    qty = 1 + rng.poisson(np.where(biz, 4.0, 0.35) * np.where(promo, 1.8, 1.0))
    volume = rng.choice([0.05, 0.10, 0.15], n)
    coupon = np.where(rng.random(n) < 0.06, 0.10, 0.0)
    sale = rng.choice([0.15, 0.20, 0.25, 0.30, 0.40], n, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    disc = np.where(promo, sale, np.where(wholesale, volume, coupon))
    drift = (1 + _INFLATION) ** ((ld - (n_days - 1)) / 365.25)
    price = np.round(products["unit_price"].to_numpy()[sku] * drift, 2)
    cost = np.round(products["unit_cost"].to_numpy()[sku] * drift, 2)
    order_ids = np.array([f"SO-{i + 1:06d}" for i in range(n_orders)], dtype=object)
    frame = pd.DataFrame(
        {
            "order_id": order_ids[o],
            "line_no": line_no,
            "order_date": days[ld].astype(_DT),
            "customer_id": cust["id"][who[o]],
            "sku": products["sku"].to_numpy()[sku],
            "product_name": products["product_name"].to_numpy()[sku],
            "category": products["category"].to_numpy()[sku],
            "region": np.array(_REGIONS)[cust["region"][who[o]]],
            "channel": np.array(_CHANNELS)[channel[o]],
            "promotion": promo,
            "quantity": qty,
            "unit_price": price,
            "discount_pct": disc,
            "amount": np.round(qty * price * (1 - disc), 2),
            "unit_cost": cost,
        }
    )
    return frame, np.bincount(sku, weights=qty, minlength=n_sku)


def _shipments(
    rng: np.random.Generator,
    days: np.ndarray,
    units: np.ndarray,
    products: pd.DataFrame,
    suppliers: pd.DataFrame,
    sup_idx: np.ndarray,
    z: np.ndarray,
    distance: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Inbound purchase orders sized by EOQ, plus units still in transit per (SKU, warehouse)."""
    n_days, n_sku = len(days), len(products)
    holding = products["holding_cost_rate"].to_numpy() * products["unit_cost"].to_numpy()
    annual = units / (n_days / 365.25)
    eoq = np.maximum(np.sqrt(2 * annual * products["ordering_cost"].to_numpy() / holding), 5)
    n_po = np.maximum(np.ceil(units / eoq), 1).astype(np.int64)
    item = np.repeat(np.arange(n_sku), n_po)
    j = np.arange(len(item)) - np.repeat(np.cumsum(n_po) - n_po, n_po)
    placed = ((j + rng.random(len(item))) / n_po[item] * n_days).astype(np.int64)
    s, n = sup_idx[item], len(item)
    land = distance[s] < 3000  # North American suppliers truck or rail
    r = rng.random(n)
    mode = np.where(land, np.where(r < 0.7, 0, 1), np.where(r < 0.85, 2, 3))
    mean = suppliers["lead_time_mean_days"].to_numpy()[s] * _MODE_SPEED[mode]
    std = suppliers["lead_time_std_days"].to_numpy()[s] * _MODE_SPEED[mode]
    transit = np.maximum(np.round(rng.normal(mean, std)), 1).astype(np.int64)
    promised = np.maximum(np.round(mean + z[s] * std), 1).astype(np.int64)
    qty = np.ceil(eoq[item] * rng.uniform(0.8, 1.2, n)).astype(np.int64)
    wh = rng.choice(len(_WAREHOUSES), n, p=_WAREHOUSE_P)
    arrived = placed + transit <= n_days - 1
    slot = item * len(_WAREHOUSES) + wh  # (SKU, warehouse) cell, the inventory table's row order
    in_transit = np.bincount(
        slot[~arrived], weights=qty[~arrived], minlength=len(_WAREHOUSE_P) * n_sku
    )
    a = np.flatnonzero(arrived)[np.argsort(placed[arrived], kind="stable")]
    frame = pd.DataFrame(
        {
            "shipment_id": [f"PO-{i + 1:06d}" for i in range(len(a))],
            "supplier_id": suppliers["supplier_id"].to_numpy()[s[a]],
            "sku": products["sku"].to_numpy()[item[a]],
            "order_date": days[placed[a]].astype(_DT),
            "promised_date": (days[placed[a]] + promised[a]).astype(_DT),
            "received_date": (days[placed[a]] + transit[a]).astype(_DT),
            "mode": np.array(_MODES)[mode[a]],
            "distance_km": np.round(distance[s[a]] * rng.uniform(0.9, 1.1, len(a))).astype(int),
            "weight_kg": np.round(qty[a] * products["weight_kg"].to_numpy()[item[a]], 1),
            "quantity": qty[a],
            "on_time": transit[a] <= promised[a],
        }
    )
    return frame, in_transit.astype(np.int64)


def _inventory(
    rng: np.random.Generator,
    days: np.ndarray,
    units: np.ndarray,
    products: pd.DataFrame,
    in_transit: np.ndarray,
) -> pd.DataFrame:
    """Stock snapshot per SKU and warehouse at the last day, with some low and zero stock."""
    n_sku, n_wh = len(products), len(_WAREHOUSES)
    cover = rng.lognormal(np.log(35), 0.5, (n_sku, n_wh))  # days of demand on the shelf
    r = rng.random((n_sku, n_wh))
    cover = np.where(r < 0.07, 0.0, np.where(r < 0.17, cover * 0.1, cover))  # stock-outs, low stock
    on_hand = np.round(units[:, None] / len(days) * _WAREHOUSE_P * cover).astype(np.int64)
    on_hand = np.where(cover > 0, np.maximum(on_hand, rng.integers(1, 4, on_hand.shape)), 0)
    return pd.DataFrame(
        {
            "sku": np.repeat(products["sku"].to_numpy(), n_wh),
            "warehouse": np.tile(np.array(_WAREHOUSES), n_sku),
            "snapshot_date": np.repeat(days[-1], n_sku * n_wh).astype(_DT),
            "on_hand": on_hand.ravel(),
            "on_order": in_transit,
        }
    )
