"""Carbon: tonnes x km x factor per mode, known answers, factor tables and their versions."""

from __future__ import annotations

import pandas as pd
import pytest

from core.auth.roles import Role, User
from core.errors import PermissionDenied, UserInputError
from core.supply_chain import carbon, carbon_tables
from tests.unit import supply_factories as f

ADMIN = User(id=1, email="ada@example.com", role=Role.ADMIN)
ANALYST = User(id=2, email="ana@example.com", role=Role.ANALYST)


def test_known_answers_per_shipment():
    result = carbon.emissions(f.shipments())
    kg = list(result.shipments["kg_co2e"])
    assert kg[0] == pytest.approx(2 * 500 * 0.126)  # 126 kg: 2 t by HGV over 500 km
    assert kg[2] == pytest.approx(10 * 9000 * 0.0154)  # 1,386 kg: deep-sea container
    assert kg[3] == pytest.approx(0.5 * 1000 * 1.735)  # 867.5 kg: short-haul air
    assert result.total_kg == pytest.approx(126 + 126 + 1386 + 867.5)
    assert result.table_version == 0 and result.table_name == "DESNZ freighting goods"
    assert any("short-haul air factor" in n for n in result.notes)


def test_short_sea_band_and_rollups():
    ships = f.shipments().assign(distance_km=[500.0, 500.0, 1500.0, 1000.0])
    result = carbon.emissions(ships)
    assert result.shipments["kg_co2e"].iloc[2] == pytest.approx(10 * 1500 * 0.0297)
    lanes = result.by_lane.set_index(["supplier_id", "mode"])
    assert lanes.loc[("A", "road"), "kg_co2e"] == pytest.approx(252.0)
    assert lanes.loc[("A", "road"), "shipments"] == 2
    assert result.by_lane["share"].sum() == pytest.approx(1.0)
    sku = result.by_sku.set_index("sku")
    assert sku.loc["sku1", "tonne_km"] == pytest.approx(2000.0)
    assert result.by_supplier.loc[0, "kg_co2e"] == pytest.approx(result.total_kg)


def test_mode_spellings_and_unknown_modes():
    ships = f.shipments().assign(mode=["Truck", "HGV", "ocean", "teleport"])
    result = carbon.emissions(ships)
    assert list(result.shipments["mode"][:3]) == ["road", "road", "sea"]
    assert any("teleport" in n for n in result.notes)
    assert result.total_kg == pytest.approx(126 + 126 + 1386)


def test_weight_from_sku_master_when_shipments_lack_it():
    ships = f.shipments().drop(columns=["weight_kg"])
    result = carbon.emissions(ships, skus=f.skus())
    assert result.shipments["tonnes"].iloc[0] == pytest.approx(10 * 1.0 / 1000)
    with pytest.raises(UserInputError, match="weight_kg"):
        carbon.emissions(ships)


def test_parse_factors_validates():
    good = pd.DataFrame(
        {
            "mode": ["road", "sea", "sea"],
            "kg_per_tkm": [0.1, 0.02, 0.01],
            "max_km": [None, 1000, None],
        }
    )
    factors = carbon.parse_factors(good)
    assert [f.max_km for f in factors] == [None, 1000.0, None]
    bad = [
        ({"mode": ["boat?"], "kg_per_tkm": [0.1]}, "unknown mode"),
        ({"mode": ["road"], "kg_per_tkm": [-1]}, "from 0 to 50"),
        ({"mode": ["road"], "kg_per_tkm": ["=1+1"]}, "not a number"),
        ({"mode": ["road", "road"], "kg_per_tkm": [0.1, 0.2]}, "exactly one row without max_km"),
        ({"mode": ["road"]}, "columns mode and kg_per_tkm"),
        ({"mode": ["road"], "kg_per_tkm": [0.1], "max_km": [0]}, "above 0"),
    ]
    for data, message in bad:
        with pytest.raises(UserInputError, match=message):
            carbon.parse_factors(pd.DataFrame(data))


def test_admin_replaces_the_table_and_results_record_the_version(services):
    store = services.store
    assert carbon_tables.current(store, ANALYST).version == 0
    factors = carbon_tables.read_upload(b"mode,kg_per_tkm,label\nroad,0.2,Van\nsea,0.01,Ship\n")
    with pytest.raises(PermissionDenied):
        carbon_tables.save(store, ANALYST, "Mine", "my own", factors)
    with pytest.raises(UserInputError, match="where the factors come from"):
        carbon_tables.save(store, ADMIN, "Mine", " ", factors)
    saved = carbon_tables.save(
        store, ADMIN, "Fleet study 2026", "Internal fleet telematics", factors
    )
    assert saved.version >= 1 and carbon_tables.current(store, ANALYST) == saved
    result = carbon.emissions(f.shipments(), saved)
    assert result.table_version == saved.version
    assert result.shipments["kg_co2e"].iloc[0] == pytest.approx(2 * 500 * 0.2)
    assert any("air" in n for n in result.notes)  # no air factor in this table
    assert [t.version for t in carbon_tables.versions(store, ANALYST)] == [saved.version, 0]
    assert carbon_tables.get(store, ANALYST, 0) == carbon.DEFAULT


def test_bad_uploads():
    with pytest.raises(UserInputError, match="readable CSV"):
        carbon_tables.read_upload(b"")
    with pytest.raises(UserInputError, match="at most 200 KB"):
        carbon_tables.read_upload(b"x" * 300_000)
