"""Triggers: cron and interval schedules (missed runs, de-duplication, DST through the
scheduler), file arrival, data conditions, workflow completion and webhooks."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.errors import PermissionDenied, UserInputError
from core.workflows import history, runs, service, triggers
from core.workflows.models import WorkflowRunRow, WorkflowTriggerRow
from core.workflows.webhook import trigger_webhook
from tests.unit.test_workflows_engine import (
    SYSTEM,
    FakeClock,
    chain,
    detail,
    make_worker,
    record_task,  # noqa: F401  (the autouse fixture registering the test task)
    save,
    settle,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def scheduled(services, name: str = "flow") -> list[tuple[datetime, bool]]:
    """(scheduled time, caught up) of every run of a workflow, oldest first."""
    found = history.list_runs(services, SYSTEM, name, limit=10_000)
    return sorted(
        (r.scheduled_for, detail(services, r.id).trigger_payload.get("caught_up", False))
        for r in found
        if r.scheduled_for is not None
    )


def test_a_cron_trigger_fires_each_time_once_however_often_the_scheduler_ticks(services):
    start = utc(2026, 6, 1, 12, 0, 30)
    save(
        services, chain("flow", "a", triggers=[{"type": "cron", "cron": "*/15 * * * *"}]), now=start
    )
    moment = start
    while moment < utc(2026, 6, 1, 13, 0, 30):
        moment += timedelta(seconds=7)
        triggers.tick(services, moment)
        triggers.tick(services, moment)  # a second worker at the same moment
    assert [t for t, _ in scheduled(services)] == [
        utc(2026, 6, 1, 12, 15),
        utc(2026, 6, 1, 12, 30),
        utc(2026, 6, 1, 12, 45),
        utc(2026, 6, 1, 13, 0),
    ]


def test_a_lost_scheduler_update_still_cannot_fire_a_time_twice(services):
    start = utc(2026, 6, 1, 12, 0, 30)
    save(services, chain("flow", "a", triggers=[{"type": "cron", "cron": "0 * * * *"}]), now=start)
    report = triggers.tick(services, utc(2026, 6, 1, 13, 0, 5))
    assert len(report.fired) == 1
    with services.store.writing() as s:  # as if a crashed worker had not saved its progress
        s.execute(update(WorkflowTriggerRow).values(last_fired=start, next_due=start))
    assert triggers.tick(services, utc(2026, 6, 1, 13, 0, 6)).fired == ()
    assert len(scheduled(services)) == 1


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"missed": "skip"}, [(utc(2026, 6, 1, 18), False)]),
        (
            {"missed": "catch_up", "catch_up_max": 2},
            [
                (utc(2026, 6, 1, 16), True),
                (utc(2026, 6, 1, 17), True),
                (utc(2026, 6, 1, 18), False),
            ],
        ),
    ],
)
def test_missed_runs_after_downtime_follow_the_policy(services, policy, expected):
    start = utc(2026, 6, 1, 12, 30)
    data = chain("flow", "a", triggers=[{"type": "cron", "cron": "0 * * * *"}], policy=policy)
    save(services, data, now=start)
    # The worker was down from 12:30 until 18:00:20: 13:00-17:00 were missed, 18:00 is on time.
    report = triggers.tick(services, utc(2026, 6, 1, 18, 0, 20))
    assert scheduled(services) == expected
    states = service.trigger_states(services, SYSTEM, "flow")
    skipped = 5 if policy["missed"] == "skip" else 3  # of 13:00-17:00
    assert report.missed == states[0].missed == skipped
    assert states[0].next_due == utc(2026, 6, 1, 19)


def test_a_daily_new_york_job_fires_once_through_the_autumn_night(services):
    start = utc(2026, 10, 31, 12)
    data = chain(
        "flow",
        "a",
        triggers=[{"type": "cron", "cron": "30 1 * * *", "timezone": "America/New_York"}],
    )
    save(services, data, now=start)
    moment = start
    while moment < utc(2026, 11, 2, 12):
        moment += timedelta(minutes=1)
        triggers.tick(services, moment)
    assert [t for t, _ in scheduled(services)] == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_a_berlin_job_in_the_skipped_hour_runs_at_three(services):
    start = utc(2026, 3, 28, 12)
    data = chain(
        "flow", "a", triggers=[{"type": "cron", "cron": "30 2 * * *", "timezone": "Europe/Berlin"}]
    )
    save(services, data, now=start)
    moment = start
    while moment < utc(2026, 3, 30, 12):
        moment += timedelta(minutes=2)
        triggers.tick(services, moment)
    assert [t for t, _ in scheduled(services)] == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]


def test_interval_triggers_and_disabling_them(services):
    start = utc(2026, 6, 1, 12)
    save(services, chain("flow", "a", triggers=[{"type": "interval", "minutes": 10}]), now=start)
    for minutes in range(1, 31):
        triggers.tick(services, start + timedelta(minutes=minutes, seconds=1))
    assert [t for t, _ in scheduled(services)] == [
        start + timedelta(minutes=m) for m in (10, 20, 30)
    ]
    service.set_enabled(services, SYSTEM, "flow", False)
    assert service.trigger_states(services, SYSTEM, "flow") == []
    triggers.tick(services, start + timedelta(hours=2))
    assert len(scheduled(services)) == 3


def test_a_new_file_in_the_watched_folder_starts_one_run_with_its_path(services, tmp_path):
    inbox = tmp_path / "imports"
    (inbox / "orders").mkdir(parents=True)
    (inbox / "orders" / "old.csv").write_text("a\n1\n")
    os.utime(inbox / "orders" / "old.csv", (1, 1))
    settings = replace(services.settings, import_dir=inbox.resolve())
    svc = replace(services, settings=settings)
    data = chain(
        "flow",
        "a",
        triggers=[{"type": "file", "folder": "orders", "pattern": "*.csv", "poll_seconds": 5}],
    )
    data["steps"][0]["params"]["value"] = "{{ trigger.path }}"
    now = datetime.now(UTC)
    save(svc, data, now=now)
    assert triggers.tick(svc, now).fired == ()  # files already there do not count
    new = inbox / "orders" / "new.csv"
    new.write_text("a\n2\n")
    (inbox / "orders" / "notes.txt").write_text("not a csv")
    (inbox / "orders" / "partial.csv.part").write_text("still uploading")
    assert triggers.tick(svc, now + timedelta(seconds=1)).fired == ()  # not due yet
    report = triggers.tick(svc, datetime.now(UTC) + timedelta(seconds=10))
    assert len(report.fired) == 1
    assert triggers.tick(svc, datetime.now(UTC) + timedelta(seconds=20)).fired == ()
    run_id = report.fired[0]
    assert detail(svc, run_id).trigger_payload["path"] == "orders/new.csv"
    settle(make_worker(svc, FakeClock()))
    assert detail(svc, run_id).step("a").output["value"] == "orders/new.csv"


def test_a_data_condition_fires_when_it_becomes_true(services, write_file):
    services.catalog.ingest_file(SYSTEM, write_file("stock.csv", "sku,on_hand\nA,5\nB,3\n"))
    data = chain(
        "flow",
        "a",
        triggers=[
            {
                "type": "data",
                "sql": "select min(on_hand) from stock",
                "operator": "<",
                "threshold": 1,
                "poll_seconds": 60,
            }
        ],
    )
    start = utc(2026, 6, 1, 12)
    save(services, data, now=start)
    assert triggers.tick(services, start).fired == ()  # false: recorded, nothing fires
    services.catalog.ingest_file(
        SYSTEM, write_file("stock2.csv", "sku,on_hand\nA,0\nB,3\n"), name="stock"
    )
    report = triggers.tick(services, start + timedelta(seconds=60))
    assert len(report.fired) == 1
    assert detail(services, report.fired[0]).trigger_payload == {
        "metric": "min(on_hand)",
        "value": 0,
        "operator": "<",
        "threshold": 1.0,
    }
    assert triggers.tick(services, start + timedelta(seconds=120)).fired == ()  # still true


def test_a_workflow_can_start_after_another_one_fails(services):
    clock = FakeClock()
    save(services, chain("upstream", "a"))
    after_fail = chain(
        "cleanup", "x", triggers=[{"type": "workflow", "workflow": "upstream", "status": "failed"}]
    )
    after_fail["steps"][0]["params"]["value"] = "{{ trigger.workflow }} {{ trigger.status }}"
    save(services, after_fail)
    save(services, chain("report", "y", triggers=[{"type": "workflow", "workflow": "upstream"}]))
    from tests.unit.test_workflows_engine import FAILURES

    FAILURES["a"] = 1
    worker = make_worker(services, clock)
    history.start_run(services, SYSTEM, "upstream")
    settle(worker)
    (cleanup,) = history.list_runs(services, SYSTEM, "cleanup")
    assert (cleanup.trigger, cleanup.status) == ("workflow", "succeeded")
    assert detail(services, cleanup.id).step("x").output["value"] == "upstream failed"
    assert history.list_runs(services, SYSTEM, "report") == []
    history.start_run(services, SYSTEM, "upstream")
    settle(worker)
    assert [r.status for r in history.list_runs(services, SYSTEM, "report")] == ["succeeded"]


def test_webhooks_start_runs_only_with_the_current_token(services):
    data = chain("hooked", "a", triggers=[{"type": "webhook"}])
    data["steps"][0]["params"]["value"] = "{{ trigger.order }}"
    save(services, data)
    with pytest.raises(PermissionDenied):
        trigger_webhook(services, "hooked", "no-token-yet", {})
    token = service.issue_webhook_token(services, SYSTEM, "hooked")
    started = trigger_webhook(services, "hooked", token, {"order": "A-1"}, idempotency_key="k1")
    assert (started.workflow, started.status, started.duplicate) == ("hooked", "queued", False)
    again = trigger_webhook(services, "hooked", token, {"order": "A-1"}, idempotency_key="k1")
    assert (again.run_id, again.duplicate) == (started.run_id, True)
    for name, secret in (("hooked", token + "x"), ("missing", token)):
        with pytest.raises(PermissionDenied, match="not valid for this workflow"):
            trigger_webhook(services, name, secret, {})
    with pytest.raises(UserInputError, match="JSON object"):
        trigger_webhook(services, "hooked", token, ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(UserInputError, match="larger than 64 KB"):
        trigger_webhook(services, "hooked", token, {"x": "y" * 70_000})
    newer = service.issue_webhook_token(services, SYSTEM, "hooked")
    with pytest.raises(PermissionDenied):
        trigger_webhook(services, "hooked", token, {})
    service.set_enabled(services, SYSTEM, "hooked", False)
    with pytest.raises(UserInputError, match="disabled"):
        trigger_webhook(services, "hooked", newer, {})
    settle(make_worker(services, FakeClock()))
    assert detail(services, started.run_id).step("a").output["value"] == "A-1"
    with services.store.session() as s:
        stored = s.scalar(
            select(WorkflowRunRow.dedupe_key).where(WorkflowRunRow.id == started.run_id)
        )
    assert stored == "webhook:k1"


def test_a_token_needs_a_webhook_trigger(services):
    save(services, chain("plain", "a"))
    with pytest.raises(UserInputError, match="no webhook trigger"):
        service.issue_webhook_token(services, SYSTEM, "plain")


def test_create_run_returns_none_for_a_repeated_key(services):
    save(services, chain("flow", "a"))
    with services.store.writing() as s:
        from core.workflows.models import WorkflowRow

        workflow = s.scalar(select(WorkflowRow))
        new = runs.NewRun("cron", {}, dedupe_key="k@1")
        first = runs.create_run(s, workflow, new, utc(2026, 1, 1))
        second = runs.create_run(s, workflow, new, utc(2026, 1, 1))
    assert first is not None and second is None
