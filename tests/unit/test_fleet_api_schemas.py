"""What the API accepts from devices: bounds, unknown fields, times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.api.schemas import EnrolIn, HeartbeatIn


def test_device_times_are_stored_in_utc():
    naive = HeartbeatIn.model_validate({"sent_at": "2026-11-27T10:00:00"})
    zoned = HeartbeatIn.model_validate({"sent_at": "2026-11-27T10:00:00+02:00"})
    assert naive.sent_at == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert zoned.sent_at == datetime(2026, 11, 27, 8, tzinfo=UTC)


def test_newer_agents_may_send_fields_this_version_ignores():
    report = HeartbeatIn.model_validate({"cpu_pct": 5, "gpu_pct": 50, "inference": {"count": 3}})
    assert report.cpu_pct == 5 and report.inference.count == 3
    assert "gpu_pct" not in report.model_dump()


@pytest.mark.parametrize(
    "body",
    [
        {"cpu_pct": -1},
        {"mem_pct": 100.5},
        {"temp_c": 500},
        {"inference": {"count": -3}},
        {"models": [{"name": "", "version": "1"}]},
        {"models": [{"name": "m", "version": "1"}] * 51},
    ],
)
def test_impossible_readings_are_refused(body):
    with pytest.raises(ValidationError):
        HeartbeatIn.model_validate(body)


def test_enrolment_needs_a_plausible_token():
    with pytest.raises(ValidationError):
        EnrolIn.model_validate({"token": "short"})
    assert EnrolIn.model_validate({"token": "bcn_enrol_" + "x" * 43}).capabilities.memory_mb is None
