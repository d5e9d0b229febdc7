"""The risk register and stored supply choices on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from core import audit
from core.auth.roles import Role, User
from core.data.export import frame_to_csv
from core.errors import PermissionDenied, UserInputError
from core.store import Store, open_store
from core.supply_chain import carbon, carbon_tables, countries, preferences, register
from core.supply_chain.register import RegisterEdit
from core.supply_chain.risks import RiskAssessment, RiskScore

SYSTEM = User.system()
ADMIN = User(id=1, email="ada@example.com", role=Role.ADMIN)
ANALYST = User(id=2, email="ana@example.com", role=Role.ANALYST)
VIEWER = User(id=3, email="vic@example.com", role=Role.VIEWER)
SCOPE = "sample_suppliers"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'supply.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    yield opened
    opened.engine.dispose()


def risk(key: str, likelihood: int, impact: int, why: str = "because") -> RiskScore:
    kind, subject = key.split(":")
    return RiskScore(key, kind, subject, "supplier", likelihood, impact, why, "act")


def assessment(*items: RiskScore) -> RiskAssessment:
    return RiskAssessment(tuple(items), ())


def test_refresh_keeps_user_fields_and_marks_vanished_risks(store):
    first = assessment(risk("quality:A", 4, 4), risk("country:B", 3, 2))
    saved = register.sync(store, ANALYST, SCOPE, first)
    assert [e.risk_id for e in saved] == ["quality:A", "country:B"]
    assert all(e.status == "open" and e.detected for e in saved)
    changed = register.update(
        store,
        ANALYST,
        SCOPE,
        [
            RegisterEdit(
                "quality:A",
                owner="Sam",
                status="mitigating",
                due_date="2026-12-31",
                notes="<b>audit</b> booked",
            )
        ],
    )
    assert changed == 1
    second = assessment(risk("quality:A", 2, 4, "better now"), risk("logistics:A/sea", 5, 5))
    after = {e.risk_id: e for e in register.sync(store, ANALYST, SCOPE, second)}
    kept = after["quality:A"]
    assert (kept.likelihood, kept.score, kept.reasoning) == (2, 8, "better now")
    assert (kept.owner, kept.status, kept.due_date) == ("Sam", "mitigating", date(2026, 12, 31))
    assert kept.notes == "<b>audit</b> booked" and kept.updated_by == ANALYST.email
    assert after["country:B"].detected is False  # kept, not deleted
    assert after["logistics:A/sea"].status == "open"
    order = [e.risk_id for e in register.entries(store, VIEWER, SCOPE)]
    assert order == ["logistics:A/sea", "quality:A", "country:B"]  # detected first, by score
    # the risk comes back: detected again, fields still there
    third = {e.risk_id: e for e in register.sync(store, ANALYST, SCOPE, first)}
    assert third["country:B"].detected and third["quality:A"].owner == "Sam"
    frame = register.frame(list(third.values()))
    assert set(frame["detected"]) == {"detected", "no longer detected"}


def test_register_export_is_formula_safe(store):
    register.sync(store, ANALYST, SCOPE, assessment(risk("quality:A", 4, 4)))
    register.update(store, ANALYST, SCOPE, [RegisterEdit("quality:A", notes="=cmd|' /C calc'!A0")])
    csv = frame_to_csv(register.frame(register.entries(store, VIEWER, SCOPE))).decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in csv


def test_viewers_read_merged_without_writing(store):
    register.sync(store, ANALYST, SCOPE, assessment(risk("quality:A", 4, 4)))
    register.update(store, ANALYST, SCOPE, [RegisterEdit("quality:A", owner="Kim")])
    fresh = assessment(risk("quality:A", 5, 4), risk("country:C", 2, 2))
    view = {e.risk_id: e for e in register.merged(store, VIEWER, SCOPE, fresh)}
    assert view["quality:A"].owner == "Kim" and view["quality:A"].likelihood == 5
    assert "country:C" in view
    assert [e.risk_id for e in register.entries(store, VIEWER, SCOPE)] == ["quality:A"]
    with pytest.raises(PermissionDenied, match="analyst"):
        register.sync(store, VIEWER, SCOPE, fresh)
    with pytest.raises(PermissionDenied):
        register.update(store, VIEWER, SCOPE, [RegisterEdit("quality:A", owner="me")])


@pytest.mark.parametrize(
    "edit, message",
    [
        (RegisterEdit("quality:A", status="done"), "Status must be one of"),
        (RegisterEdit("quality:A", due_date="31/12/2026"), "is not a date"),
        (RegisterEdit("quality:A", owner="x" * 400), "at most 320"),
        (RegisterEdit("quality:A", notes="x" * 5000), "at most 4,000"),
        (RegisterEdit("nope:Z", owner="x"), "not in the register"),
    ],
)
def test_bad_edits_change_nothing(store, edit, message):
    register.sync(store, ANALYST, SCOPE, assessment(risk("quality:A", 4, 4)))
    with pytest.raises(UserInputError, match=message):
        register.update(store, ANALYST, SCOPE, [RegisterEdit("quality:A", owner="Sam"), edit])
    assert register.entries(store, VIEWER, SCOPE)[0].owner == ""


def test_edits_are_audited(store):
    register.sync(store, ANALYST, SCOPE, assessment(risk("quality:A", 4, 4)))
    register.update(
        store, ANALYST, SCOPE, [RegisterEdit("quality:A", status="accepted", notes="secret plan")]
    )
    events = audit.list_events(store, ADMIN, action="supply.register.edit")
    assert events[0].actor == ANALYST.email and events[0].target == f"{SCOPE}/quality:A"
    assert events[0].detail == {"status": "accepted", "notes": "11 characters"}
    assert audit.list_events(store, ADMIN, action="supply.register.refresh")


def test_weights_per_user_and_shared(store):
    assert preferences.weights(store, VIEWER) == preferences.DEFAULT_WEIGHTS
    mine = {"on_time": 1, "lead_time": 0, "lead_time_cv": 0, "defect_rate": 1}
    preferences.save_weights(store, ANALYST, mine)
    assert preferences.weights(store, ANALYST)["lead_time"] == 0.0
    assert preferences.weights(store, VIEWER) == preferences.DEFAULT_WEIGHTS
    with pytest.raises(PermissionDenied):
        preferences.save_weights(store, VIEWER, mine)
    with pytest.raises(PermissionDenied, match="admin"):
        preferences.save_weights(store, ANALYST, mine, shared=True)
    shared = {"on_time": 2, "lead_time": 2, "lead_time_cv": 2, "defect_rate": 2}
    preferences.save_weights(store, ADMIN, shared, shared=True)
    assert preferences.weights(store, VIEWER)["on_time"] == 2.0
    assert preferences.weights(store, ANALYST)["on_time"] == 1.0  # own weights win
    with pytest.raises(UserInputError):
        preferences.save_weights(store, ANALYST, {"on_time": -3})


def test_country_table_and_certifications_are_admin_only(store):
    assert preferences.country_table(store, VIEWER) == countries.DEFAULT_TABLE
    edited = countries.parse_table(
        pd.DataFrame({"country": ["Vietnam", "Germany"], "score": [4, 1], "note": ["OECD 4", None]})
    )
    with pytest.raises(PermissionDenied):
        preferences.save_country_table(store, ANALYST, edited)
    preferences.save_country_table(store, ADMIN, edited)
    assert preferences.country_table(store, VIEWER) == {
        "Vietnam": (4, "OECD 4"),
        "Germany": (1, ""),
    }
    assert preferences.required_certifications(store, VIEWER) == ("ISO 9001", "ISO 14001")
    with pytest.raises(PermissionDenied):
        preferences.save_required_certifications(store, ANALYST, ["SA8000"])
    preferences.save_required_certifications(store, ADMIN, ["SA8000", " ISO  9001 ", "SA8000"])
    assert preferences.required_certifications(store, VIEWER) == ("SA8000", "ISO 9001")
    actions = {e.action for e in audit.list_events(store, ADMIN)}
    assert {"supply.country_risk.save", "supply.required_certifications.save"} <= actions


def test_carbon_versions(store):
    assert carbon_tables.current(store, VIEWER) == carbon.DEFAULT
    one = carbon_tables.save(store, ADMIN, "v-a", "test", carbon.DEFAULT.factors[:2])
    two = carbon_tables.save(store, ADMIN, "v-b", "test", carbon.DEFAULT.factors)
    assert two.version > one.version
    assert carbon_tables.current(store, VIEWER).name == "v-b"
    assert carbon_tables.get(store, VIEWER, one.version).factors == carbon.DEFAULT.factors[:2]
