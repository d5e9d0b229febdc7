"""Supply chain views at scale: scorecards, risks, carbon and a what-if beyond the policy.

The sample company's tables are tiled into `--copies` companies' worth of SKUs (each
copy's SKUs renamed, its weekly demand jittered by +-30%, its shipments repeated), keeping the
16 suppliers, so the timings are for many SKUs on the same supplier base. Times each
step once after a warm-up on the sample, and the Supply chain page's first load and
rerun in AppTest on the sample (243 SKUs).

    python bench/supply_views.py              # 42 copies: 10,206 SKUs
    python bench/supply_views.py --copies 4   # a quick look
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def tiled(copies: int):
    """SupplyInputs with `copies` x the sample's SKUs (weekly orders, same suppliers)."""
    from core.data.sample import generate_company
    from core.supply_chain.inputs import make_inputs

    company = generate_company()
    orders = company["orders"].assign(
        date=lambda f: f["order_date"].dt.to_period("W").dt.start_time
    )
    weekly = orders.groupby(["sku", "date"], as_index=False)["quantity"].sum()
    rng = np.random.default_rng(1)
    parts = {k: [] for k in ("orders", "inventory", "skus", "shipments")}
    inventory = company["inventory"].groupby("sku", as_index=False)[["on_hand", "on_order"]].sum()
    for c in range(copies):
        suffix = f"-{c:02d}"
        jitter = rng.uniform(0.7, 1.3, len(weekly))  # copies differ, as real SKUs would
        quantity = np.round(weekly["quantity"] * jitter)
        parts["orders"].append(weekly.assign(sku=weekly["sku"] + suffix, quantity=quantity))
        parts["inventory"].append(inventory.assign(sku=inventory["sku"] + suffix))
        parts["skus"].append(company["products"].assign(sku=company["products"]["sku"] + suffix))
        ships = company["shipments"]
        parts["shipments"].append(ships.assign(sku=ships["sku"] + suffix))
    frames = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    frames["suppliers"] = company["suppliers"].rename(columns={"supplier_name": "name"})
    return make_inputs(**frames)


def timed(label: str, rows: list, func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    rows.append((label, time.perf_counter() - start))
    print(f"{label}: {rows[-1][1]:.2f} s", flush=True)
    return out


def page_load() -> tuple[float, float]:
    """First load and rerun of the Supply chain page in AppTest on the sample company."""
    os.environ["BEACON_HOME"] = tempfile.mkdtemp(prefix="beacon-bench-")
    from streamlit.testing.v1 import AppTest

    from components.session import USER_KEY
    from core.auth import users
    from core.config import load_settings
    from core.data.samples import load_sample
    from core.services import open_services

    services = open_services(load_settings())
    admin = users.create_first_admin(services.store, "bench@example.com", "correct horse battery")
    load_sample(services.catalog, admin)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state[USER_KEY] = admin.id
    at.run()
    start = time.perf_counter()
    at.switch_page("views/supply_chain.py").run()
    first = time.perf_counter() - start
    assert not at.exception, at.exception
    start = time.perf_counter()
    at.run()
    return first, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=42)
    args = parser.parse_args()
    from core.supply_chain import carbon, demand, policy, risks, scenarios, suppliers

    rows: list[tuple[str, float]] = []
    data = timed("build inputs", rows, tiled, args.copies)
    n = data.skus["sku"].nunique()
    forecast = timed("demand (fast models)", rows, demand.forecast_demand, data.orders)
    result = timed("policy", rows, policy.compute_policy, data, forecast)
    card = timed("supplier scorecards", rows, suppliers.scorecard, data)
    assessment = timed(
        "risk assessment (8 rules)", rows, risks.assess, data, result.table, card=card
    )
    timed("carbon", rows, carbon.emissions, data.shipments, carbon.DEFAULT, data.skus)
    timed(
        "what-if: air to sea (base + scenario)", rows, scenarios.compare, data, forecast,
        scenarios.Scenario(shift_from="air", shift_to="sea"),
    )  # fmt: skip
    first, rerun = page_load()
    print(f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {n:,} SKUs, "
          f"{len(data.orders):,} weekly order rows, {len(data.shipments):,} shipments, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n")  # fmt: skip
    print("| step | seconds |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")
    print(f"\nRisks found: {len(assessment.risks):,}. Supply chain page on the sample company "
          f"(243 SKUs) in AppTest: first load {first:.2f} s, rerun {rerun:.2f} s.")  # fmt: skip


if __name__ == "__main__":
    main()
