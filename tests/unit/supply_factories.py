"""Small crafted supply-chain inputs with hand-checkable numbers, for the supply tests."""

from __future__ import annotations

import pandas as pd

from core.supply_chain.inputs import SupplyInputs, make_inputs


def suppliers(**overrides) -> pd.DataFrame:
    """Two suppliers: A (Germany) and B (Vietnam); `overrides` replace columns."""
    frame = pd.DataFrame(
        {
            "supplier_id": ["A", "B"],
            "name": ["Alpha Works", "Beta Textiles"],
            "country": ["Germany", "Vietnam"],
            "lead_time_mean_days": [12.0, 30.0],
            "lead_time_std_days": [2.0, 6.0],
            "on_time_rate": [0.95, 0.9],
            "defect_rate": [0.01, 0.03],
            "certifications": ["ISO 9001; ISO 14001", "ISO 9001"],
        }
    )
    return frame.assign(**overrides)


def skus() -> pd.DataFrame:
    """sku1 (X, A, cost 1), sku2 (X, B, cost 2), sku3 (Y, A, cost 10)."""
    return pd.DataFrame(
        {
            "sku": ["sku1", "sku2", "sku3"],
            "unit_cost": [1.0, 2.0, 10.0],
            "holding_cost_rate": [0.2, 0.2, 0.2],
            "ordering_cost": [50.0, 50.0, 50.0],
            "supplier_id": ["A", "B", "A"],
            "category": ["X", "X", "Y"],
            "weight_kg": [1.0, 2.0, 5.0],
        }
    )


def orders() -> pd.DataFrame:
    """Spend: sku1 60 x 1, sku2 20 x 2, sku3 10 x 10 (A 160, B 40)."""
    return pd.DataFrame(
        {
            "sku": ["sku1", "sku2", "sku3"],
            "date": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-01-12"]),
            "quantity": [60.0, 20.0, 10.0],
        }
    )


def shipments() -> pd.DataFrame:
    """Four shipments from A: lead times 10, 10, 20, 20 days, three on time."""
    ordered = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01", "2026-05-01"])
    return pd.DataFrame(
        {
            "supplier_id": ["A"] * 4,
            "sku": ["sku1", "sku1", "sku3", "sku2"],
            "order_date": ordered,
            "promised_date": ordered + pd.Timedelta(days=15),
            "received_date": ordered + pd.to_timedelta([10, 10, 20, 20], unit="D"),
            "mode": ["road", "road", "sea", "air"],
            "distance_km": [500.0, 500.0, 9000.0, 1000.0],
            "weight_kg": [2000.0, 2000.0, 10000.0, 500.0],
            "quantity": [10, 10, 10, 10],
            "on_time": [True, True, False, True],
        }
    )


def inputs(**frames) -> SupplyInputs:
    """SupplyInputs of the crafted tables; pass a frame (or None) to replace one."""
    tables = {
        "orders": orders(),
        "skus": skus(),
        "suppliers": suppliers(),
        "shipments": shipments(),
        "inventory": pd.DataFrame(
            {"sku": ["sku1", "sku2", "sku3"], "on_hand": [5, 50, 0], "on_order": [0, 0, 10]}
        ),
    }
    tables.update(frames)
    return make_inputs(**tables)
