"""Supply chain at scale: 10,000 SKUs x 3 years of weekly demand through forecast, policy, risks.

Generates a deterministic company (seeded): SKUs with smooth, seasonal or intermittent
weekly demand, 60 suppliers, a SKU master, an inventory snapshot and shipments. Times
each stage once (the fast demand models, the policy, the risk register), then measures
the accuracy cost of the fast model set against the full forecasting model zoo
(`forecast_many`) on the same evenly spread SKUs: the last `--holdout` weeks are held
out, both forecast them from the weeks before, MASE (seasonal naive scale, lag 52)
and sMAPE (M4 definition, 0-200) are averaged per kind of demand.

    python bench/supply.py                         # 10,000 SKUs, 200 for accuracy
    python bench/supply.py --skus 1000 --accuracy-skus 40   # a quick look
    python bench/supply.py --append                # also add the results to RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.forecasting import forecast_many, metrics  # noqa: E402
from core.supply_chain import fast_models  # noqa: E402
from core.supply_chain.demand import demand_matrix, forecast_demand, resolve_freq  # noqa: E402
from core.supply_chain.inputs import make_inputs  # noqa: E402
from core.supply_chain.policy import compute_policy  # noqa: E402

SEED = 20261127
KINDS = ("smooth", "seasonal", "intermittent")
MODES = (("road", 0.6), ("sea", 0.3), ("rail", 0.07), ("air", 0.03))


def weekly_demand(n: int, weeks: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """SKUs x weeks of units (NaN before a SKU's launch) and each SKU's kind."""
    kind = rng.choice(len(KINDS), n, p=[0.4, 0.3, 0.3])
    t = np.arange(weeks)
    level = rng.lognormal(np.log(40), 1.0, n)[:, None]
    trend = 1 + rng.normal(0, 0.15, n)[:, None] * t / weeks
    season = 1 + rng.uniform(0.2, 0.6, n)[:, None] * np.sin(
        2 * np.pi * t / 52 + rng.uniform(0, 2 * np.pi, n)[:, None]
    )
    mean = level * trend * np.where(kind[:, None] == 1, season, 1.0)
    noisy = rng.normal(mean, mean * rng.uniform(0.1, 0.4, n)[:, None])
    occurs = rng.random((n, weeks)) < rng.uniform(0.1, 0.45, n)[:, None]
    sizes = rng.poisson(rng.uniform(1, 8, n)[:, None], (n, weeks)) + 1
    Y = np.where(kind[:, None] == 2, occurs * sizes, np.maximum(np.round(noisy), 0))
    launch = np.where(rng.random(n) < 0.1, rng.integers(10, weeks // 2, n), 0)  # 10% newer
    Y = Y.astype(float)
    Y[t[None, :] < launch[:, None]] = np.nan
    return Y, kind


def company(n: int, weeks: int) -> tuple[dict[str, pd.DataFrame], np.ndarray]:
    """The generated tables (orders as one row per SKU-week with demand) and SKU kinds."""
    rng = np.random.default_rng(SEED)
    Y, kind = weekly_demand(n, weeks, rng)
    skus = np.array([f"SKU-{i:05d}" for i in range(n)])
    weeks_start = pd.date_range("2023-10-02", periods=weeks, freq="W-MON")
    row, col = np.nonzero(np.nan_to_num(Y) > 0)
    orders = pd.DataFrame({"sku": skus[row], "date": weeks_start[col], "quantity": Y[row, col]})
    n_sup = 60
    supplier = rng.integers(0, n_sup, n)
    suppliers = pd.DataFrame(
        {
            "supplier_id": [f"S-{i:03d}" for i in range(n_sup)],
            "name": [f"Supplier {i}" for i in range(n_sup)],
            "country": rng.choice(["China", "Vietnam", "Germany", "Mexico", "India", "Poland"],
                                  n_sup),
            "lead_time_mean_days": rng.uniform(7, 60, n_sup).round(1),
            "lead_time_std_days": rng.uniform(1, 12, n_sup).round(1),
            "on_time_rate": rng.uniform(0.7, 0.99, n_sup).round(3),
            "defect_rate": rng.uniform(0.001, 0.05, n_sup).round(4),
            "certifications": rng.choice(["ISO 9001", "ISO 9001; ISO 14001", ""], n_sup),
        }
    )  # fmt: skip
    master = pd.DataFrame(
        {
            "sku": skus,
            "unit_cost": rng.lognormal(np.log(20), 0.8, n).round(2),
            "holding_cost_rate": rng.uniform(0.15, 0.3, n).round(3),
            "ordering_cost": rng.uniform(30, 200, n).round(2),
            "supplier_id": suppliers["supplier_id"].to_numpy()[supplier],
            "category": rng.choice([f"Category {c}" for c in "ABCDEFGH"], n),
            "weight_kg": rng.lognormal(0, 0.7, n).round(2),
        }
    )
    weekly_mean = np.nan_to_num(np.nanmean(np.where(np.isnan(Y), np.nan, Y), axis=1))
    inventory = pd.DataFrame(
        {
            "sku": skus,
            "on_hand": np.round(weekly_mean * rng.uniform(0, 8, n)),
            "on_order": np.round(weekly_mean * rng.choice([0, 4], n)),
        }
    )
    m = 5 * n  # about five deliveries per SKU
    item = rng.integers(0, n, m)
    ordered = weeks_start[0] + pd.to_timedelta(rng.integers(0, weeks * 7 - 70, m), unit="D")
    lt = suppliers["lead_time_mean_days"].to_numpy()[supplier[item]]
    sd = suppliers["lead_time_std_days"].to_numpy()[supplier[item]]
    shipments = pd.DataFrame(
        {
            "supplier_id": master["supplier_id"].to_numpy()[item],
            "sku": skus[item],
            "order_date": ordered,
            "promised_date": ordered + pd.to_timedelta(np.round(lt), unit="D"),
            "received_date": ordered
            + pd.to_timedelta(np.maximum(np.round(rng.normal(lt, sd)), 1), unit="D"),
            "mode": rng.choice([k for k, _ in MODES], m, p=[p for _, p in MODES]),
            "distance_km": rng.uniform(300, 15_000, m).round(),
            "weight_kg": rng.uniform(50, 5_000, m).round(1),
            "quantity": rng.integers(10, 500, m),
        }
    )
    shipments["on_time"] = shipments["received_date"] <= shipments["promised_date"]
    tables = {"orders": orders, "skus": master, "suppliers": suppliers,
              "inventory": inventory, "shipments": shipments}  # fmt: skip
    return tables, kind


def timed(rows: list[tuple[str, float]], label: str, func, *args, **kwargs):
    started = time.perf_counter()
    out = func(*args, **kwargs)
    rows.append((label, time.perf_counter() - started))
    print(f"{label}: {rows[-1][1]:.2f} s", flush=True)
    return out


def _scores(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray) -> dict[str, float]:
    """MASE, sMAPE, RMSSE (M5: RMSE over the in-sample naive RMSE), forecast and actual sums.

    MASE and sMAPE reward forecasting zero on intermittent demand (the median is 0);
    RMSSE and the bias of the sums judge the mean, which safety stock and orders use.
    """
    history = train[~np.isnan(train)]
    naive_mse = float(np.mean(np.diff(history) ** 2)) if len(history) > 1 else np.nan
    return {
        "mase": metrics.mase(actual, forecast, metrics.mase_scale(history, 52)),
        "smape": metrics.smape(actual, forecast),
        "rmsse": metrics.rmse(actual, forecast) / np.sqrt(naive_mse) if naive_mse > 0 else np.nan,
        "forecast_sum": float(forecast.sum()),
        "actual_sum": float(actual.sum()),
    }


def accuracy(
    orders: pd.DataFrame, kind_of: dict[str, int], count: int, holdout: int, jobs: int
) -> tuple[pd.DataFrame, dict[str, float]]:
    """MASE and sMAPE of the fast set and the full zoo on `count` evenly spread SKUs."""
    skus, Y, periods = demand_matrix(orders, resolve_freq("W"))
    pick = np.linspace(0, len(skus) - 1, count).round().astype(int)
    skus, Y = skus[pick], Y[pick]
    train, actual = Y[:, :-holdout], Y[:, -holdout:]
    keep = (~np.isnan(train)).sum(axis=1) >= 2 * holdout
    skus, train, actual = skus[keep], train[keep], actual[keep]
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    fit = fast_models.select(train, holdout, 52, holdout)
    seconds["fast"] = time.perf_counter() - started
    row, col = np.nonzero(~np.isnan(train))
    frame = pd.DataFrame({"sku": skus[row], "date": periods[col], "quantity": train[row, col]})
    started = time.perf_counter()
    batch = forecast_many(frame, "sku", "date", "quantity", holdout, freq="weekly", n_jobs=jobs)
    seconds["full"] = time.perf_counter() - started
    results = []
    for i, sku in enumerate(skus):
        series = batch.get(str(sku))
        full = series.forecast["yhat"].to_numpy(float).clip(0)
        for name, forecast, model in (
            ("fast", fit.forecast[i], fit.model[i]),
            ("full", full, series.model),
        ):
            kind = KINDS[kind_of[str(sku)]]
            scores = _scores(actual[i], forecast, train[i])
            results.append({"set": name, "kind": kind, "model": model, **scores})
    return pd.DataFrame(results), seconds


def report(args, rows, counts, scores, seconds, load_before, load_after) -> str:
    lines = [
        "",
        "# Supply chain benchmark",
        "",
        f"`python bench/supply.py{' --append' if args.append else ''}`: {args.skus:,} SKUs x "
        f"{args.weeks} weeks of generated weekly demand (seed {SEED}; 40% smooth, 30% "
        "seasonal, 30% intermittent, 10% launched later), 60 suppliers, ~5 deliveries per "
        "SKU. Stages run once each in one process.",
        "",
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_before:.2f} before, {load_after:.2f} after",
        "",
        f"{counts}",
        "",
        "| stage | seconds |",
        "|---|---:|",
        *[f"| {label} | {value:.2f} |" for label, value in rows],
        f"| **total** | **{sum(v for _, v in rows):.2f}** |",
    ]
    if scores is not None:
        n = len(scores) // 2  # one row per SKU and set
        scores = scores.assign(group=scores["kind"])
        scores = pd.concat([scores, scores.assign(group="all")], ignore_index=True)
        grouped = scores.groupby(["group", "set"])
        table = grouped[["mase", "smape", "rmsse"]].mean()
        sums = grouped[["forecast_sum", "actual_sum"]].sum()
        table["bias"] = 100 * (sums["forecast_sum"] / sums["actual_sum"] - 1)
        table = table.unstack("set")
        lines += [
            "",
            f"Accuracy cost of the fast set on {n} evenly spread SKUs (last {args.holdout} "
            "weeks held out; scores are means per SKU; bias is total forecast over total "
            f"actual, in percent). Fast set {seconds['fast']:.2f} s, full zoo "
            f"(`forecast_many`, 3 backtest folds, {args.jobs} workers) {seconds['full']:.1f} s.",
            "",
            "| demand | SKUs | MASE fast | MASE full | sMAPE fast | sMAPE full "
            "| RMSSE fast | RMSSE full | bias % fast | bias % full |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        sizes = scores[scores["set"] == "fast"].groupby("group").size()
        for kind in [*KINDS, "all"]:
            if kind not in table.index:
                continue
            r = table.loc[kind]
            cells = [f"{r[(m, w)]:.3f}" for m in ("mase",) for w in ("fast", "full")]
            cells += [f"{r[('smape', w)]:.1f}" for w in ("fast", "full")]
            cells += [f"{r[('rmsse', w)]:.3f}" for w in ("fast", "full")]
            cells += [f"{r[('bias', w)]:+.1f}" for w in ("fast", "full")]
            lines.append(f"| {kind} | {sizes[kind]} | " + " | ".join(cells) + " |")
        intermittent = scores[(scores["group"] == "intermittent")]
        chosen = intermittent.groupby("set")["model"]
        lines += [
            "",
            "Models chosen for the intermittent SKUs: "
            + "; ".join(f"{name} {group.value_counts().to_dict()}" for name, group in chosen)
            + ".",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--accuracy-skus", type=int, default=200, help="0 skips accuracy")
    parser.add_argument("--holdout", type=int, default=13)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--append", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    tables, kind = company(args.skus, args.weeks)
    counts = (
        f"{args.skus:,} SKUs, {len(tables['orders']):,} order rows (SKU-weeks with demand), "
        f"{len(tables['shipments']):,} shipments."
    )
    print(counts, flush=True)
    rows: list[tuple[str, float]] = []
    inputs = timed(rows, "inputs (checks and cleaning)", make_inputs, **tables)
    demand = timed(rows, "demand: fast models, weekly, horizon 13", forecast_demand, inputs.orders)
    policy = timed(rows, "policy", compute_policy, inputs, demand)
    try:
        from core.supply_chain import risks
    except ImportError:
        print("risks: core.supply_chain.risks is not there; timed forecast and policy only")
    else:
        found = timed(rows, "risk register (all rules)", risks.assess, inputs, policy.table)
        counts += f" Risks found: {len(found.risks):,}."
    counts += (
        f" Models chosen: {demand.table['model'].value_counts().to_dict()}."
        f" Orders recommended: {len(policy.recommended_orders):,}."
    )
    scores, seconds = None, {}
    if args.accuracy_skus:
        kind_of = {f"SKU-{i:05d}": int(k) for i, k in enumerate(kind)}
        scores, seconds = accuracy(
            inputs.orders, kind_of, args.accuracy_skus, args.holdout, args.jobs
        )
    text = report(args, rows, counts, scores, seconds, load_before, os.getloadavg()[0])
    print(text)
    if args.append:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
