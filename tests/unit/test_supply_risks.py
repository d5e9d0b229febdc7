"""Risk rules on crafted suppliers: each rule scores a risky subject high and a safe one low."""

from __future__ import annotations

import pandas as pd

from core.supply_chain import countries, risks
from core.supply_chain.risks import RiskSettings
from tests.unit import supply_factories as f

ALL_ON = RiskSettings(min_sku_score=1)


def by_id(assessment) -> dict[str, risks.RiskScore]:
    return {r.risk_id: r for r in assessment.risks}


def test_eight_rule_types_are_registered():
    assert set(risks.RULES) == {
        "concentration", "lead_time_variability", "quality", "demand_volatility",
        "stockout_exposure", "country", "logistics", "compliance",
    }  # fmt: skip
    assert all(rule.mitigation for rule in risks.RULES.values())


def test_band_edges():
    assert [risks.band(v, (1, 2, 3, 4)) for v in (0, 1, 1.5, 4, 9)] == [1, 2, 2, 5, 5]
    assert risks.band(float("nan"), (1, 2, 3, 4)) == 1


def test_concentration_by_category():
    found = by_id(risks.assess(f.inputs(), rules=["concentration"]))
    assert found["concentration:Y"].likelihood == 5  # one supplier: HHI 10,000
    assert found["concentration:X"].likelihood == 4  # HHI 5,200
    assert "HHI 5,200 over 2 supplier(s)" in found["concentration:X"].reasoning
    # ten equal suppliers: HHI 1,000, unconcentrated
    n = 10
    ids = [f"S{i}" for i in range(n)]
    spread = f.inputs(
        suppliers=pd.DataFrame({"supplier_id": ids, "name": ids}),
        skus=pd.DataFrame({"sku": ids, "unit_cost": 1.0, "supplier_id": ids, "category": "Z"}),
        orders=pd.DataFrame({"sku": ids, "date": pd.Timestamp("2026-01-05"), "quantity": 5.0}),
        shipments=None,
    )
    low = by_id(risks.assess(spread, rules=["concentration"]))["concentration:Z"]
    assert low.likelihood == 1 and "HHI 1,000 over 10 supplier(s)" in low.reasoning


def test_lead_time_variability():
    crafted = f.inputs(shipments=None, suppliers=f.suppliers(lead_time_std_days=[0.5, 9.0]))
    found = by_id(risks.assess(crafted, rules=["lead_time_variability"]))
    low, high = found["lead_time_variability:A"], found["lead_time_variability:B"]
    assert low.likelihood == 1 and "CV 0.04 from master" in low.reasoning
    assert high.likelihood == 4 and "CV 0.30" in high.reasoning
    assert low.impact == 5 and "80.0% of spend" in low.reasoning  # A: 160 of 200
    assert high.impact == 5  # B: 20% of spend reaches the top band


def test_quality():
    crafted = f.inputs(suppliers=f.suppliers(defect_rate=[0.001, 0.08]))
    found = by_id(risks.assess(crafted, rules=["quality"]))
    assert (
        found["quality:A"].likelihood == 1 and "defect rate 0.10%" in found["quality:A"].reasoning
    )
    assert (
        found["quality:B"].likelihood == 5 and "defect rate 8.00%" in found["quality:B"].reasoning
    )


def _weekly_orders() -> pd.DataFrame:
    weeks = pd.date_range("2026-01-05", periods=10, freq="7D")
    steady = pd.DataFrame({"sku": "sku1", "date": weeks, "quantity": 10.0})
    lumpy = pd.DataFrame({"sku": ["sku3"], "date": [weeks[4]], "quantity": [100.0]})
    edge = pd.DataFrame({"sku": ["sku3"], "date": [weeks[0]], "quantity": [0.0]})
    return pd.concat([steady, lumpy, edge], ignore_index=True)


def test_demand_volatility():
    crafted = f.inputs(orders=_weekly_orders())
    found = by_id(risks.assess(crafted, settings=ALL_ON, rules=["demand_volatility"]))
    steady, lumpy = found["demand_volatility:sku1"], found["demand_volatility:sku3"]
    assert steady.likelihood == 1 and "weekly demand CV 0.00" in steady.reasoning
    # 100 in one of ten weeks: mean 10, sd sqrt(1000) -> CV 3.16
    assert lumpy.likelihood == 5 and "CV 3.16" in lumpy.reasoning
    assert lumpy.impact == 5 and "class A" in lumpy.reasoning  # 1,000 of 1,100 spend
    # with the default threshold only the material one is listed
    default = by_id(risks.assess(crafted, rules=["demand_volatility"]))
    assert set(default) == {"demand_volatility:sku3"}


def test_stockout_exposure_uses_the_policy():
    policy = pd.DataFrame(
        {
            "sku": ["sku1", "sku2"],
            "abc": ["A", "C"],
            "stockout_probability": [0.6, 0.01],
            "days_of_cover": [3.0, 90.0],
        }
    )
    found = by_id(risks.assess(f.inputs(), policy, settings=ALL_ON, rules=["stockout_exposure"]))
    high, low = found["stockout_exposure:sku1"], found["stockout_exposure:sku2"]
    assert (high.likelihood, high.impact) == (5, 5)
    assert "60% chance of a stock-out before the next receipt, 3 days of cover" in high.reasoning
    assert (low.likelihood, low.impact) == (1, 2)
    skipped = risks.assess(f.inputs(), None, rules=["stockout_exposure"]).skipped
    assert skipped == (("Stock-out exposure", "needs the inventory policy (orders, inventory "
                        "snapshot and lead times)"),)  # fmt: skip


def test_country_uses_the_table_and_a_stated_default():
    found = by_id(risks.assess(f.inputs(), rules=["country"]))
    assert (
        found["country:A"].likelihood == 1
        and "Germany: country score 1" in found["country:A"].reasoning
    )
    b = found["country:B"]
    assert b.likelihood == countries.UNKNOWN_SCORE and "not in the country table" in b.reasoning
    table = {**countries.DEFAULT_TABLE, "Viet Nam": (4, "admin")}
    table["Vietnam"] = (5, "admin: OECD category 7")
    edited = RiskSettings(country_table=table)
    assert (
        by_id(risks.assess(f.inputs(), settings=edited, rules=["country"]))["country:B"].likelihood
        == 5
    )


def test_logistics_by_lane():
    found = by_id(risks.assess(f.inputs(), rules=["logistics"]))
    sea, road = found["logistics:A/sea"], found["logistics:A/road"]
    assert sea.likelihood == 5 and "100% of 1 shipments late" in sea.reasoning
    assert "sea lane of 8,000 km or more" in sea.reasoning
    assert road.likelihood == 1 and "0% of 2 shipments late" in road.reasoning
    assert sea.subject == "Alpha Works (A) by sea" and sea.subject_kind == "lane"
    assert road.impact == 5  # 4 t of 14.5 t shipped: 28%
    assert found["logistics:A/air"].impact == 2  # 0.5 t of 14.5 t: 3.4%


def test_compliance_against_required_certifications():
    found = by_id(risks.assess(f.inputs(), rules=["compliance"]))
    assert found["compliance:A"].likelihood == 1
    assert "holds all 2 required" in found["compliance:A"].reasoning
    assert found["compliance:B"].likelihood == 3  # one of two missing
    assert "missing ISO 14001" in found["compliance:B"].reasoning
    strict = RiskSettings(required_certifications=("ISO 9001", "ISO 14001", "SA8000"))
    assert (
        by_id(risks.assess(f.inputs(), settings=strict, rules=["compliance"]))[
            "compliance:B"
        ].likelihood
        == 4
    )  # 1 + ceil(4 * 2/3)
    off = risks.assess(
        f.inputs(), settings=RiskSettings(required_certifications=()), rules=["compliance"]
    )
    assert off.risks == () and "no certifications are required" in off.skipped[0][1]


def test_assessment_is_sorted_and_has_a_full_heatmap():
    assessment = risks.assess(f.inputs())
    scores = [r.score for r in assessment.risks]
    assert scores == sorted(scores, reverse=True)
    heat = assessment.heatmap()
    assert len(heat) == 25 and heat["risks"].sum() == len(assessment.risks)
    frame = assessment.frame()
    assert list(frame.columns[:3]) == ["risk_id", "type", "subject"]
    assert frame["risk_id"].is_unique


def test_missing_tables_skip_rules_with_reasons():
    bare = f.inputs(suppliers=None, shipments=None, skus=None)
    assessment = risks.assess(bare)
    reasons = dict(assessment.skipped)
    assert "needs a supplier master or shipment history" in reasons["Quality"]
    assert "needs shipments with a transport mode" in reasons["Logistics disruption"]
