"""Supplier scorecards: known answers for OTIF, lead time, spend, HHI and the composite score."""

from __future__ import annotations

import math

import pytest

from core.errors import UserInputError
from core.supply_chain import suppliers
from tests.unit import supply_factories as f


def test_hhi_by_hand():
    assert suppliers.hhi([60, 40]) == pytest.approx(5200.0)  # 60^2 + 40^2
    assert suppliers.hhi([1.0]) == pytest.approx(10000.0)
    assert suppliers.hhi([25, 25, 25, 25]) == pytest.approx(2500.0)
    assert suppliers.hhi([]) == 0.0


def test_scorecard_known_answers():
    card = suppliers.scorecard(f.inputs())
    table = card.table.set_index("supplier_id")
    a, b = table.loc["A"], table.loc["B"]
    # A from shipments: 3 of 4 on time; lead times 10, 10, 20, 20 -> mean 15, sd sqrt(100/3)
    assert a["on_time"] == pytest.approx(0.75) and a["on_time_source"] == "shipments"
    assert a["lead_time_mean"] == pytest.approx(15.0)
    assert a["lead_time_cv"] == pytest.approx(math.sqrt(100 / 3) / 15)
    # B has no shipments: the master's figures
    assert b["on_time"] == pytest.approx(0.9) and b["on_time_source"] == "master"
    assert b["lead_time_cv"] == pytest.approx(0.2)
    # spend: A = 60*1 + 10*10 = 160, B = 20*2 = 40
    assert a["spend"] == pytest.approx(160.0) and a["spend_share"] == pytest.approx(0.8)
    assert b["spend_share"] == pytest.approx(0.2)
    # composite with the default weights (0.4, 0.15, 0.2, 0.25)
    cv = math.sqrt(100 / 3) / 15
    expected_a = 100 * (0.4 * 0.75 + 0.15 * 0.75 + 0.2 * (1 - cv / 0.5) + 0.25 * 0.8)
    expected_b = 100 * (0.4 * 0.9 + 0.15 * 0.5 + 0.2 * 0.6 + 0.25 * 0.4)
    assert a["score"] == pytest.approx(round(expected_a, 1))
    assert b["score"] == pytest.approx(round(expected_b, 1))
    assert list(card.table["supplier_id"]) == ["A", "B"] and list(card.table["rank"]) == [1, 2]


def test_category_hhi_and_single_source():
    card = suppliers.scorecard(f.inputs())
    cats = card.categories.set_index("category")
    assert cats.loc["X", "hhi"] == pytest.approx(5200.0)  # A 60, B 40 of 100
    assert cats.loc["Y", "hhi"] == pytest.approx(10000.0)
    assert cats.loc["X", "top_supplier"] == "Alpha Works"
    # sku2 is listed under B but also shipped by A: two sources
    assert list(card.single_source["sku"]) == ["sku1", "sku3"]
    assert card.table.set_index("supplier_id").loc["A", "single_source_skus"] == 2


def test_weights_change_the_ranking():
    card = suppliers.scorecard(
        f.inputs(), {"on_time": 1, "lead_time": 0, "lead_time_cv": 0, "defect_rate": 0}
    )
    table = card.table.set_index("supplier_id")
    assert table.loc["A", "score"] == pytest.approx(75.0)
    assert table.loc["B", "score"] == pytest.approx(90.0)
    assert card.table.iloc[0]["supplier_id"] == "B"


def test_quarterly_trend():
    trend = suppliers.scorecard(f.inputs()).trend
    a = trend[trend["supplier_id"] == "A"].set_index("quarter")
    assert list(a["shipments"]) == [2, 2]  # received Jan and Feb; Apr and May
    assert list(a["on_time"]) == [1.0, 0.5]
    assert list(a["lead_time_mean"]) == [10.0, 20.0]


def test_master_only_and_unknown_measures():
    card = suppliers.scorecard(f.inputs(shipments=None, orders=None))
    table = card.table.set_index("supplier_id")
    assert table.loc["A", "on_time_source"] == "master"
    assert table.loc["A", "spend"] == 0.0
    assert any("No shipment history" in n for n in card.notes)
    no_defects = f.suppliers().drop(columns=["defect_rate"])
    card = suppliers.scorecard(f.inputs(suppliers=no_defects), {"on_time": 1, "defect_rate": 1})
    # the unknown defect rate drops out: the score is the on-time share alone
    assert card.table.set_index("supplier_id").loc["B", "score"] == pytest.approx(90.0)


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"on_time": -1}, "between 0 and 100"),
        ({"on_time": "x"}, "must be a number"),
        ({"price": 1}, "Unknown scorecard weight"),
        ({"on_time": 0, "lead_time": 0, "lead_time_cv": 0, "defect_rate": 0}, "above zero"),
        ({"on_time": float("inf")}, "between 0 and 100"),
    ],
)
def test_bad_weights(weights, message):
    with pytest.raises(UserInputError, match=message):
        suppliers.check_weights(weights)


def test_no_suppliers_at_all():
    with pytest.raises(UserInputError, match="supplier master or a shipment history"):
        suppliers.scorecard(f.inputs(suppliers=None, shipments=None, skus=None))
