"""KPI benchmark: the KPI page's query set through Beacon, as hand-written DuckDB SQL, and
in pandas, on the same order lines, in one run.

    python bench/kpis.py                 # 10M order lines (generated once, cached)
    python bench/kpis.py --rows 500000   # quick smoke run

The query set is what the KPI page runs for its default view (last 90 days, weekly):
  cards     revenue, orders, customers, AOV over the window, the previous 90 days and
            the same days last year
  series    the same four metrics per week with anomaly bands (weeks covering the window
            plus the 4 weeks of history the bands need)
  breakdown revenue by category, top 10 + Other, with shares of the total
  top10     the top 10 SKUs by revenue in one region (a filtered top-10), with Other
  cohorts   monthly first-order cohorts of the last 12 months and their retention
Every case checks its answers against Beacon's. Each case runs in its own subprocess, so
its peak memory (VmHWM) is its own. Beacon and DuckDB read the Parquet file of a dataset
version; pandas first loads the columns it needs into memory (timed separately). The
machine is shared, so the Beacon / SQL ratios come from a further subprocess that runs
the two alternately (B S B S ..., 9 runs each after a warm-up): both see the same load.

The page itself is then timed with AppTest over the same dataset: a cold load (the first
run of the page in a fresh process, modules already imported) and a warm rerun (cached).
Generated data and a BEACON_HOME live in bench/.work (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ itself is first on sys.path, where other benchmarks' module names
# would shadow the standard library if named after one: import from the project root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / ".work"
SEED = 20261127
GENERATOR_VERSION = 1
CHUNK = 1_000_000
START, END = date(2023, 10, 1), date(2026, 9, 30)
REPEATS = 5
QUERIES = ("cards", "series", "breakdown", "top10", "cohorts")
TARGET_VS_SQL = 1.3
SHOWN = 13  # weeks of the series compared (the ones the 90-day window shows)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- data -------------------------------------------------------------------------------


def generate(path: Path, rows: int) -> None:
    """Order lines with trend, weekly and yearly seasonality; sorted by date like an export."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    days = (END - START).days + 1
    t = np.arange(days)
    weekday = (np.array([START.toordinal() + i for i in t]) - 1) % 7  # Monday = 0
    intensity = (1 + 0.25 * t / days) * (1 + 0.3 * np.sin(2 * np.pi * (t - 80) / 365.25))
    intensity *= np.where(weekday >= 5, 1.3, 1.0)
    cdf = np.cumsum(intensity) / intensity.sum()
    n_orders = int(rows / 2.05) + 1
    lines = 1 + rng.poisson(1.05, n_orders)
    order_day = np.sort(np.searchsorted(cdf, rng.random(n_orders)))
    line_order = np.repeat(np.arange(n_orders), lines)[:rows]
    customers = max(rows // 50, 10)
    cust_of_order = np.minimum(
        (rng.pareto(1.2, n_orders) * customers / 20).astype(np.int64), customers - 1
    )
    categories = np.array(
        [
            "Apparel",
            "Footwear",
            "Outdoor Gear",
            "Camping",
            "Fitness",
            "Home & Kitchen",
            "Electronics",
            "Accessories",
        ]
    )
    regions = np.array(["North", "South", "East", "West", "Central"])
    channels = np.array(["Online", "Retail", "Wholesale", "Marketplace"])
    n_sku = 2000
    sku_price = np.round(rng.lognormal(np.log(50), 0.7, n_sku), 2)
    sku_cat = rng.integers(0, len(categories), n_sku)
    region_of_cust = rng.choice(len(regions), customers, p=[0.22, 0.2, 0.25, 0.23, 0.1])
    channel_of_order = rng.choice(len(channels), n_orders, p=[0.5, 0.25, 0.1, 0.15])
    schema = pa.schema(
        [
            ("order_id", pa.string()),
            ("order_date", pa.date32()),
            ("customer_id", pa.string()),
            ("sku", pa.string()),
            ("category", pa.string()),
            ("region", pa.string()),
            ("channel", pa.string()),
            ("quantity", pa.int64()),
            ("unit_price", pa.float64()),
            ("amount", pa.float64()),
            ("unit_cost", pa.float64()),
        ]
    )
    tmp = path.with_suffix(".tmp")
    epoch = np.datetime64(START, "D")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for lo in range(0, rows, CHUNK):
            o = line_order[lo : lo + CHUNK]
            n = len(o)
            sku = (rng.zipf(1.3, n) - 1) % n_sku
            qty = 1 + rng.poisson(0.8, n)
            cust = cust_of_order[o]
            table = pa.table(
                {
                    "order_id": pa.array(np.char.add("SO-", o.astype("U9"))),
                    "order_date": pa.array(epoch + order_day[o]),
                    "customer_id": pa.array(np.char.add("C-", cust.astype("U7"))),
                    "sku": pa.array(np.char.add("SKU-", sku.astype("U5"))),
                    "category": pa.array(categories[sku_cat[sku]]),
                    "region": pa.array(regions[region_of_cust[cust]]),
                    "channel": pa.array(channels[channel_of_order[o]]),
                    "quantity": pa.array(qty),
                    "unit_price": pa.array(sku_price[sku]),
                    "amount": pa.array(np.round(qty * sku_price[sku], 2)),
                    "unit_cost": pa.array(np.round(sku_price[sku] * 0.55, 2)),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=122_880)
    tmp.rename(path)


# --- the query set, three ways ----------------------------------------------------------


def view(asof: date) -> dict:
    """The page's default view as plain dates (last 90 days, weekly, 12 months of cohorts)."""
    from core.kpis.dashboard import series_range
    from core.kpis.periods import comparisons, resolve

    window = resolve("last_90", asof)
    previous, last_year = comparisons("last_90", window)
    series = series_range("week", window)
    cohort_start = date(asof.year - 1, asof.month, 1) + timedelta(days=31)
    cohort_start = cohort_start.replace(day=1)
    return {
        "windows": {
            "current": (window.start, window.end),
            "previous": (previous.window.start, previous.window.end),
            "last_year": (last_year.window.start, last_year.window.end),
        },
        "series": (series.start, series.end),
        "cohorts": (cohort_start, window.end),
    }


def beacon_queries(path: Path, asof: date):
    """Beacon: core.kpis over the dataset file, exactly as the page calls it."""
    from core.data.catalog import ColumnInfo
    from core.data.duck import connect
    from core.data.roles import guess_roles
    from core.kpis import cohorts, dashboard, metrics, queries
    from core.kpis.periods import Window
    from core.kpis.source import DuckRunner, KpiSource

    con = connect("2GB", 2)
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    typed = [(r[0], r[1]) for r in described]
    roles = guess_roles(typed)
    source = KpiSource(
        "orders", str(path), tuple(ColumnInfo(n, t, roles[n]) for n, t in typed), path=path
    )
    runner = DuckRunner(con, source)
    catalog = metrics.catalog(source)
    chosen = [catalog[k] for k in ("revenue", "orders", "customers", "aov")]
    v = view(asof)
    window = Window(*v["windows"]["current"])
    return {
        "cards": lambda: dashboard.cards(runner, source, chosen, "last_90", window),
        "series": lambda: dashboard.series_with_bands(runner, source, chosen, "week", window),
        "breakdown": lambda: queries.breakdown(
            runner, source, catalog["revenue"], "category", window, top=10
        ),
        "top10": lambda: queries.breakdown(
            runner, source, catalog["revenue"], "sku", window, (("region", ("North",)),), top=10
        ),
        "cohorts": lambda: cohorts.cohorts(runner, source, Window(*v["cohorts"])),
    }


def beacon_answers(results: dict) -> dict:
    cards = results["cards"]
    return {
        "cards": [[c.value, *[d.before for d in c.deltas]] for c in cards.cards],
        "series": results["series"][["revenue", "orders", "customers"]]
        .to_numpy()[-SHOWN:]
        .tolist(),
        "breakdown": results["breakdown"].table["revenue"].tolist(),
        "top10": [
            *results["top10"].table["value"].tolist()[:10],
            results["top10"].table["revenue"].iloc[-1],
        ],
        "cohorts": int(results["cohorts"].table["active"].sum()),
    }


SQL = {
    "cards": """
        SELECT ? AS w, sum(amount) AS revenue, count(DISTINCT order_id) AS orders,
               count(DISTINCT customer_id) AS customers
        FROM read_parquet(?) WHERE order_date BETWEEN ? AND ?""",
    "series": """
        SELECT date_trunc('week', order_date) AS week, sum(amount) AS revenue,
               count(DISTINCT order_id) AS orders, count(DISTINCT customer_id) AS customers
        FROM read_parquet(?) WHERE order_date BETWEEN ? AND ? GROUP BY 1 ORDER BY 1""",
    "breakdown": """
        SELECT category, sum(amount) AS revenue FROM read_parquet(?)
        WHERE order_date BETWEEN ? AND ? GROUP BY 1 ORDER BY 2 DESC""",
    "top10": """
        SELECT sku, sum(amount) AS revenue FROM read_parquet(?)
        WHERE order_date BETWEEN ? AND ? AND region = 'North'
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""",
    "top10_total": """
        SELECT sum(amount) FROM read_parquet(?)
        WHERE order_date BETWEEN ? AND ? AND region = 'North'""",
    # The better plan by hand: first orders over all history, activity from the window only.
    "cohorts": """
        WITH f AS (SELECT customer_id AS c, date_trunc('month', min(order_date)) AS cohort
                   FROM read_parquet(?) WHERE order_date <= ? GROUP BY 1
                   HAVING min(order_date) >= ?),
             a AS (SELECT DISTINCT customer_id AS c, date_trunc('month', order_date) AS m
                   FROM read_parquet(?) WHERE order_date BETWEEN ? AND ?)
        SELECT cohort, datediff('month', cohort, m) AS months, count(*) AS active
        FROM a JOIN f USING (c) GROUP BY ALL ORDER BY ALL""",
}


def sql_queries(path: Path, asof: date):
    """Hand-written DuckDB SQL for the same answers."""
    import duckdb

    from core.kpis.anomalies import bands

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '2GB'")
    p, v = str(path), view(asof)
    w = v["windows"]

    def cards():
        parts = [con.execute(SQL["cards"], [k, p, *w[k]]).fetchone() for k in w]
        return [(r[0], r[1], r[2], r[3], r[1] / r[2]) for r in parts]

    def series():
        frame = con.execute(SQL["series"], [p, *v["series"]]).df()
        for metric in ("revenue", "orders", "customers"):
            bands(frame[metric], "week")
        return frame

    def top10():
        head = con.execute(SQL["top10"], [p, *w["current"]]).fetchall()
        total = con.execute(SQL["top10_total"], [p, *w["current"]]).fetchone()[0]
        return head, total - sum(r[1] for r in head)

    return {
        "cards": cards,
        "series": series,
        "breakdown": lambda: con.execute(SQL["breakdown"], [p, *w["current"]]).fetchall(),
        "top10": top10,
        "cohorts": lambda: con.execute(
            SQL["cohorts"], [p, v["cohorts"][1], v["cohorts"][0], p, *v["cohorts"]]
        ).df(),
    }


def sql_answers(results: dict) -> dict:
    head, other = results["top10"]
    return {
        "cards": [[r[i] for r in results["cards"]] for i in (1, 2, 3, 4)],
        "series": results["series"][["revenue", "orders", "customers"]]
        .to_numpy()[-SHOWN:]
        .tolist(),
        "breakdown": [r[1] for r in results["breakdown"]],
        "top10": [r[0] for r in head] + [other],
        "cohorts": int(results["cohorts"]["active"].sum()),
    }


def pandas_queries(path: Path, asof: date):
    """pandas on the whole table in memory (loaded once, timed apart)."""
    import pandas as pd

    from core.kpis.anomalies import bands

    started = time.perf_counter()
    df = pd.read_parquet(
        path,
        columns=["order_id", "order_date", "customer_id", "sku", "category", "region", "amount"],
    )
    df["order_date"] = pd.to_datetime(df["order_date"])
    load_s = time.perf_counter() - started
    v = view(asof)
    w = {k: (pd.Timestamp(a), pd.Timestamp(b)) for k, (a, b) in v["windows"].items()}

    def in_window(lo, hi):
        return df[(df["order_date"] >= lo) & (df["order_date"] <= hi)]

    def cards():
        out = []
        for lo, hi in w.values():
            part = in_window(lo, hi)
            revenue, orders = part["amount"].sum(), part["order_id"].nunique()
            out.append((revenue, orders, part["customer_id"].nunique(), revenue / orders))
        return out

    def series():
        lo, hi = (pd.Timestamp(x) for x in v["series"])
        part = in_window(lo, hi)
        week = part["order_date"].dt.to_period("W-SUN").dt.start_time
        frame = part.groupby(week).agg(
            revenue=("amount", "sum"),
            orders=("order_id", "nunique"),
            customers=("customer_id", "nunique"),
        )
        for metric in ("revenue", "orders", "customers"):
            bands(frame[metric], "week")
        return frame

    def breakdown():
        return (
            in_window(*w["current"])
            .groupby("category")["amount"]
            .sum()
            .sort_values(ascending=False)
        )

    def top10():
        part = in_window(*w["current"])
        sums = part[part["region"] == "North"].groupby("sku")["amount"].sum()
        sums = sums.sort_values(ascending=False, kind="stable")
        return sums.head(10), sums.iloc[10:].sum()

    def cohorts():
        lo, hi = (pd.Timestamp(x) for x in v["cohorts"])
        part = df[df["order_date"] <= hi]
        a = pd.DataFrame(
            {"c": part["customer_id"], "m": part["order_date"].dt.to_period("M")}
        ).drop_duplicates()
        first = a.groupby("c")["m"].min().rename("cohort")
        a = a.join(first, on="c")
        a = a[a["cohort"] >= lo.to_period("M")]
        a["months"] = (a["m"] - a["cohort"]).apply(lambda d: d.n)
        return a.groupby(["cohort", "months"]).size()

    return load_s, {
        "cards": cards,
        "series": series,
        "breakdown": breakdown,
        "top10": top10,
        "cohorts": cohorts,
    }


def pandas_answers(results: dict) -> dict:
    head, other = results["top10"]
    return {
        "cards": [[r[i] for r in results["cards"]] for i in (0, 1, 2, 3)],
        "series": results["series"][["revenue", "orders", "customers"]]
        .to_numpy()[-SHOWN:]
        .tolist(),
        "breakdown": results["breakdown"].tolist(),
        "top10": [*head.index, other],
        "cohorts": int(results["cohorts"].sum()),
    }


def run_interleaved(path: Path, asof: date) -> dict:
    """Beacon and hand-written SQL timed alternately in one process (B S B S ...), so both
    see the same machine load; the ratios come from here."""
    beacon, sql = beacon_queries(path, asof), sql_queries(path, asof)
    timings: dict = {}
    for name in QUERIES:
        beacon[name](), sql[name]()  # warm both (file metadata, page cache)
        runs: dict[str, list[float]] = {"beacon": [], "sql": []}
        for _ in range(REPEATS * 2 - 1):
            for case, queries in (("beacon", beacon), ("sql", sql)):
                started = time.perf_counter()
                queries[name]()
                runs[case].append(time.perf_counter() - started)
        timings[name] = {case: statistics.median(r) for case, r in runs.items()} | {"runs": runs}
    return {"timings": timings}


def run_case(case: str, path: Path, asof: date) -> dict:
    """Time each query REPEATS times in this process; return timings, answers, peak memory."""
    load_s = 0.0
    if case == "beacon":
        queries, answers = beacon_queries(path, asof), beacon_answers
    elif case == "sql":
        queries, answers = sql_queries(path, asof), sql_answers
    else:
        load_s, queries = pandas_queries(path, asof)
        answers = pandas_answers
    timings, results = {}, {}
    for name in QUERIES:
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            results[name] = queries[name]()
            runs.append(time.perf_counter() - started)
        timings[name] = {"first": runs[0], "median": statistics.median(runs[1:]), "runs": runs}
    return {
        "case": case,
        "load_s": load_s,
        "timings": timings,
        "answers": answers(results),
        "peak_rss_mib": vm_hwm_mib(),
    }


# --- the page, through AppTest ----------------------------------------------------------


def prepare_home(path: Path, home: Path) -> None:
    """A BEACON_HOME with the order lines as dataset 'orders' and an admin account."""
    os.environ["BEACON_HOME"] = str(home)
    os.environ["BEACON_SECRETS_FILE"] = str(home / "no-secrets.toml")
    from core.auth import users
    from core.auth.roles import User
    from core.config import load_settings
    from core.services import open_services

    svc = open_services(load_settings())
    if users.needs_first_admin(svc.store):
        users.create_first_admin(svc.store, "bench@example.com", "benchmark password")
    if not svc.catalog.datasets(User.system()):
        svc.catalog.ingest_file(User.system(), path, name="orders")


def run_page(home: Path) -> dict:
    """Cold load and warm reruns of the KPI page (the landing page) with AppTest."""
    os.environ["BEACON_HOME"] = str(home)
    os.environ["BEACON_SECRETS_FILE"] = str(home / "no-secrets.toml")
    import plotly.graph_objects  # noqa: F401 - imported before timing, as in a running server
    from streamlit.testing.v1 import AppTest

    import core.kpis.dashboard  # noqa: F401
    from core.auth import users
    from core.config import load_settings
    from core.services import open_services

    svc = open_services(load_settings())
    admin = next(a.user for a in users.list_accounts(svc.store, users.User.system()))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["beacon_user_id"] = admin.id
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    warm = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    return {
        "cold_s": cold,
        "warm_s": statistics.median(warm),
        "warm_runs": warm,
        "metrics": shown,
        "title": [t.value for t in at.title],
    }


# --- driver -----------------------------------------------------------------------------


def child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if out.returncode != 0:
        raise SystemExit(f"case {args} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def close(a, b, rel=1e-6) -> bool:
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= rel * max(1.0, abs(float(a)), abs(float(b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--case", choices=["beacon", "sql", "pandas", "interleaved", "page", "prepare"]
    )
    parser.add_argument("--data")
    parser.add_argument("--home")
    args = parser.parse_args()
    if args.case in ("beacon", "sql", "pandas"):
        print(json.dumps(run_case(args.case, Path(args.data), END), default=float))
        return
    if args.case == "interleaved":
        print(json.dumps(run_interleaved(Path(args.data), END), default=float))
        return
    if args.case == "prepare":
        prepare_home(Path(args.data), Path(args.home))
        print("{}")
        return
    if args.case == "page":
        print(json.dumps(run_page(Path(args.home)), default=str))
        return

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"kpi-orders-{args.rows}-v{GENERATOR_VERSION}.parquet"
    if not path.exists():
        log(f"generating {args.rows:,} order lines -> {path.name}")
        started = time.perf_counter()
        generate(path, args.rows)
        log(f"  {time.perf_counter() - started:.1f} s, {path.stat().st_size / 2**20:.0f} MiB")
    home = WORK / f"kpi-home-{args.rows}-v{GENERATOR_VERSION}"
    log("preparing BEACON_HOME with the dataset")
    child(["--case", "prepare", "--data", str(path), "--home", str(home)])
    results = {}
    load = {}
    for case in ("beacon", "sql", "pandas"):
        log(f"case {case}  (load average {os.getloadavg()[0]:.2f})")
        load[case] = os.getloadavg()[0]
        results[case] = child(["--case", case, "--data", str(path)])
    log(f"interleaved Beacon / SQL  (load average {os.getloadavg()[0]:.2f})")
    load["interleaved"] = os.getloadavg()[0]
    paired = child(["--case", "interleaved", "--data", str(path)])["timings"]
    log(f"page  (load average {os.getloadavg()[0]:.2f})")
    load["page"] = os.getloadavg()[0]
    page = child(["--case", "page", "--home", str(home)])
    same = {
        other: {
            q: close(results["beacon"]["answers"][q], results[other]["answers"][q], 1e-6)
            for q in QUERIES
        }
        for other in ("sql", "pandas")
    }
    summary = {
        "rows": args.rows,
        "file_mib": path.stat().st_size / 2**20,
        "load": load,
        "results": results,
        "interleaved": paired,
        "page": page,
        "same_answers": same,
    }
    (WORK / f"kpi-results-{args.rows}.json").write_text(json.dumps(summary, indent=2, default=str))
    print(f"\n{args.rows:,} order lines, {summary['file_mib']:.0f} MiB Parquet")
    print("Beacon vs hand-written SQL, interleaved in one process (median s):")
    print(f"{'query':<10} {'Beacon':>8} {'SQL':>8} {'ratio':>6}")
    for q in QUERIES:
        b, s_ = paired[q]["beacon"], paired[q]["sql"]
        flag = "" if b / s_ <= TARGET_VS_SQL else "  (over 1.3x)"
        print(f"{q:<10} {b:>8.3f} {s_:>8.3f} {b / s_:>6.2f}{flag}")
    b_all = sum(paired[q]["beacon"] for q in QUERIES)
    s_all = sum(paired[q]["sql"] for q in QUERIES)
    print(f"{'all':<10} {b_all:>8.3f} {s_all:>8.3f} {b_all / s_all:>6.2f}")
    print("\nEach case in its own process (median s of runs 2-5; peak RSS):")
    print(
        f"{'query':<10} {'Beacon':>8} {'SQL':>8} {'pandas':>8} {'pandas/Beacon':>14}  same answers"
    )
    for q in QUERIES:
        b, s_, p = (results[c]["timings"][q]["median"] for c in ("beacon", "sql", "pandas"))
        print(
            f"{q:<10} {b:>8.3f} {s_:>8.3f} {p:>8.3f} {p / b:>14.2f}  "
            f"SQL {same['sql'][q]}, pandas {same['pandas'][q]}"
        )
    totals = {c: sum(results[c]["timings"][q]["median"] for q in QUERIES) for c in results}
    print(
        f"{'all':<10} {totals['beacon']:>8.3f} {totals['sql']:>8.3f} {totals['pandas']:>8.3f} "
        f"{totals['pandas'] / totals['beacon']:>14.2f}"
    )
    print(f"pandas load (read_parquet of 7 columns): {results['pandas']['load_s']:.2f} s")
    print("peak RSS MiB: " + ", ".join(f"{c} {results[c]['peak_rss_mib']:.0f}" for c in results))
    print(
        f"page: cold {page['cold_s']:.2f} s, warm rerun {page['warm_s']:.3f} s "
        f"(runs {', '.join(f'{w:.3f}' for w in page['warm_runs'])}); cards {page['metrics']}"
    )
    print(f"load average at each case: {load}; now {os.getloadavg()}")


if __name__ == "__main__":
    main()
