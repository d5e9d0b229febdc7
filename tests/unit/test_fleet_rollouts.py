"""Rollouts: plans, the health gate, and the persisted state machine driven by a clock."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User
from core.config import load_settings
from core.errors import NotFound, PermissionDenied, UserInputError
from core.fleet import device_models, devices, rollout_state, rollouts
from core.fleet.device_models import ModelReport
from core.fleet.models import DeviceRow
from core.fleet.rollout_catalog import ModelInfo, desired_models
from core.fleet.rollout_gate import FAIL, PASS, WAIT, Observation, evaluate
from core.fleet.rollout_plans import Gate, Plan, plan_waves
from core.fleet.tokens import TokenHasher
from core.services import open_services

SYSTEM = User.system()
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
NAMES = [f"dev-{i:02d}" for i in range(1, 11)]
FAST_GATE = Gate(bake_seconds=10, window_seconds=60, install_timeout_seconds=120)


class FakeCatalog:
    """Two published versions of 'churn'."""

    def version(self, name: str, version: int) -> ModelInfo:
        if name != "churn" or version not in (1, 2):
            raise NotFound(f"No model {name} v{version}.")
        return ModelInfo(name, version, f"{version:064x}", 100, {"shape": [None, 3]}, ("label",))

    def link(self, info: ModelInfo) -> str:
        return f"http://s3.local/{info.name}/v{info.version}?sig=x"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- plans ----------------------------------------------------------------------------


def test_plans_make_the_expected_waves():
    assert plan_waves(Plan(strategy="all"), NAMES) == [NAMES]
    canary = plan_waves(Plan(strategy="canary", canary_percent=20), NAMES)
    assert [len(w) for w in canary] == [2, 8] and sorted(canary[0] + canary[1]) == NAMES
    named = plan_waves(Plan(strategy="canary", canary_devices=("dev-03", "dev-07")), NAMES)
    assert named[0] == ["dev-03", "dev-07"]
    assert [len(w) for w in plan_waves(Plan(strategy="waves"), NAMES)] == [1, 2, 4, 3]
    fixed = Plan(strategy="waves", sizing="fixed", wave_sizes=(2, 3))
    assert [len(w) for w in plan_waves(fixed, NAMES)] == [2, 3, 3, 2]
    assert plan_waves(Plan(), NAMES) == plan_waves(Plan(), list(reversed(NAMES)))  # stable


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (Plan(strategy="blue-green"), "strategy must be one of"),
        (Plan(canary_percent=0), "canary percentage"),
        (Plan(on_failure="panic"), "On failure"),
        (Plan(wave_sizes=(0,)), "Wave sizes"),
        (Plan(gate=Gate(max_error_rate=2)), "error-rate"),
        (Plan(gate=Gate(bake_seconds=-1)), "bake seconds"),
        (Plan(canary_devices=("ghost",)), "ghost"),
    ],
)
def test_bad_plans_are_refused_with_one_line(plan, message):
    with pytest.raises(UserInputError, match=message):
        plan_waves(plan, NAMES)


def test_a_plan_round_trips_through_json():
    plan = Plan(strategy="waves", tags=("store",), wave_sizes=(2, 4), gate=Gate(max_failed=1))
    assert Plan.from_json(plan.to_json()) == plan


# --- gate -----------------------------------------------------------------------------


def obs(name, state="active", changed=0, seen=0, requests=0, errors=0, p95=None):
    return Observation(
        name, state, at(changed), None if seen is None else at(seen), requests, errors, p95
    )


def test_gate_waits_then_passes_after_the_bake_time():
    wave = [obs("a", requests=100, errors=1, p95=20), obs("b", state="downloading")]
    assert evaluate(FAST_GATE, T0, wave, at(5)).decision == WAIT
    wave[1] = obs("b", changed=5, requests=50, p95=40)
    waiting = evaluate(FAST_GATE, T0, wave, at(10))
    assert waiting.decision == WAIT and "baking" in waiting.reasons[0]
    verdict = evaluate(FAST_GATE, T0, wave, at(16))
    assert verdict.decision == PASS
    assert verdict.error_rate == pytest.approx(1 / 150) and verdict.p95_ms == 40


@pytest.mark.parametrize(
    ("wave", "now", "reason"),
    [
        ([obs("a", requests=100, errors=10)], 20, "error rate 10.0%"),
        ([obs("a", p95=2500.0)], 20, "p95 latency 2500 ms"),
        ([obs("a", state="failed"), obs("b")], 20, "1 device(s) failed (a)"),
        ([obs("a", seen=-100), obs("b", seen=15)], 20, "heartbeats from 50%"),
        ([obs("a", state="assigned"), obs("b")], 121, "1 device(s) failed (a)"),
    ],
)
def test_gate_fails_on_each_threshold(wave, now, reason):
    verdict = evaluate(FAST_GATE, T0, wave, at(now))
    assert verdict.decision == FAIL
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_gate_allows_the_configured_number_of_failures():
    gate = replace(FAST_GATE, max_failed=1, min_heartbeat_ratio=0.5)
    assert evaluate(gate, T0, [obs("a", state="failed"), obs("b")], at(20)).decision == PASS


# --- the state machine ----------------------------------------------------------------


@pytest.fixture
def fleet(services):
    """Ten enrolled devices, tagged 'store' (the last two also 'lab')."""
    hasher = TokenHasher.for_store(services.store)
    ids = {}
    for index, name in enumerate(NAMES):
        tags = ("store", "lab") if index >= 8 else ("store",)
        enrolment = devices.add_device(
            services.store, hasher, SYSTEM, devices.DeviceSpec(name, "raspberry-pi", tags=tags)
        )
        found, _ = devices.enrol(services.store, hasher, enrolment.token)
        ids[name] = found.id
    return ids


def identity(ids, name):
    return devices.DeviceIdentity(ids[name], name, devices.ACTIVE)


def report(services, ids, names, version, state="active", now=T0, **counters):
    for name in names:
        device_models.record_report(
            services.store,
            identity(ids, name),
            f"http://127.0.0.1:9{ids[name]:03d}",
            [ModelReport("churn", version, state, **counters)],
            now,
        )
    with services.store.session() as s:  # heartbeats arrive with the reports
        for row in s.scalars(select(DeviceRow).where(DeviceRow.name.in_(names))):
            row.last_seen_at = now


def desired(services, name):
    with services.store.session() as s:
        row = s.scalar(select(DeviceRow).where(DeviceRow.name == name))
        return row.desired_state["models"]


def start(services, version=2, **plan):
    plan = Plan(**{"strategy": "canary", "canary_percent": 20, "gate": FAST_GATE, **plan})
    return rollouts.create_rollout(
        services.store, FakeCatalog(), SYSTEM, "churn", version, plan, T0
    )


def wave_names(rollout, wave):
    return [d.device for d in rollout.devices if d.wave == wave]


def test_canary_then_everyone_succeeds(services, fleet):
    rollout = start(services)
    canaries, rest = wave_names(rollout, 0), wave_names(rollout, 1)
    assert len(canaries) == 2 and len(rest) == 8 and rollout.state == "running"
    assert rollout.counts()["assigned"] == 2 and rollout.counts()["pending"] == 8
    assert desired(services, canaries[0]) == [{"name": "churn", "version": 2}]
    assert desired(services, rest[0]) == []

    assert rollouts.tick(services.store, at(5)).changes == ()  # nothing reported yet
    report(services, fleet, canaries, 2, "downloading", at(6))
    rollouts.tick(services.store, at(7))
    shown = rollouts.get_rollout(services.store, SYSTEM, rollout.id)
    assert shown.counts()["downloading"] == 2 and "still installing" in shown.message

    report(services, fleet, canaries, 2, "active", at(8), requests=200, errors=1, p95_ms=12.0)
    assert rollouts.tick(services.store, at(9)).changes == ()  # baking
    assert rollouts.tick(services.store, at(19)).changes == ((rollout.id, "wave 2"),)
    assert desired(services, rest[0]) == [{"name": "churn", "version": 2}]

    report(services, fleet, rest, 2, "active", at(30), requests=10, p95_ms=15.0)
    assert rollouts.tick(services.store, at(41)).changes == ((rollout.id, "succeeded"),)
    done = rollouts.get_rollout(services.store, SYSTEM, rollout.id)
    assert done.state == "succeeded" and done.counts()["active"] == 10
    assert done.finished_at == at(41)
    events = audit.list_events(services.store, SYSTEM, action="rollout.finished")
    assert events[0].detail["state"] == "succeeded"


def test_failed_gate_rolls_back_to_the_previous_version(services, fleet):
    first = start(services, version=1, strategy="all")
    report(services, fleet, NAMES, 1, "active", at(1))
    rollouts.tick(services.store, at(20))
    assert rollouts.get_rollout(services.store, SYSTEM, first.id).state == "succeeded"

    second = start(services, version=2)
    canaries = wave_names(second, 0)
    report(services, fleet, canaries[:1], 2, "active", at(30), requests=100, errors=40)
    report(services, fleet, canaries[1:], 2, "failed", at(30), detail="InvalidProtobuf")
    assert rollouts.tick(services.store, at(31)).changes == ((second.id, "rolled_back"),)
    back = rollouts.get_rollout(services.store, SYSTEM, second.id)
    assert back.state == "rolled_back" and "error rate 40.0%" in back.message
    assert {d.state for d in back.devices if d.wave == 0} == {"rolled_back"}
    assert {d.state for d in back.devices if d.wave == 1} == {"pending"}
    for name in NAMES:
        assert desired(services, name) == [{"name": "churn", "version": 1}]
    assert rollouts.tick(services.store, at(60)).changes == ()  # finished for good


def test_on_failure_stop_leaves_devices_where_they_are(services, fleet):
    rollout = start(services, on_failure="stop")
    canaries = wave_names(rollout, 0)
    # One canary never reports: it fails once the install timeout is over.
    report(services, fleet, canaries[:1], 2, "active", at(95))
    assert rollouts.tick(services.store, at(100)).changes == ()
    assert rollouts.tick(services.store, at(121)).changes == ((rollout.id, "failed"),)
    failed = rollouts.get_rollout(services.store, SYSTEM, rollout.id)
    silent = next(d for d in failed.devices if d.device == canaries[1])
    assert silent.state == "failed" and "not active within 120 s" in silent.detail
    assert desired(services, canaries[0]) == [{"name": "churn", "version": 2}]


def test_tags_choose_the_devices(services, fleet):
    rollout = start(services, strategy="all", tags=("lab",))
    assert sorted(d.device for d in rollout.devices) == ["dev-09", "dev-10"]
    rollouts.abort(services.store, SYSTEM, rollout.id, at(1))
    with pytest.raises(UserInputError, match="No active device"):
        start(services, version=1, strategy="all", tags=("nowhere",))


def test_pause_resume_abort_and_their_refusals(services, fleet):
    rollout = start(services)
    paused = rollouts.pause(services.store, SYSTEM, rollout.id, at(1))
    assert paused.state == "paused"
    report(services, fleet, wave_names(rollout, 0), 2, "active", at(2))
    assert rollouts.tick(services.store, at(60)).changes == ()  # paused: nothing moves
    with pytest.raises(UserInputError, match="is paused: it cannot pause"):
        rollouts.pause(services.store, SYSTEM, rollout.id, at(61))
    resumed = rollouts.resume(services.store, SYSTEM, rollout.id, at(62))
    assert resumed.state == "running" and resumed.wave_started_at == at(62)
    with pytest.raises(UserInputError, match="still open"):
        start(services, version=1)
    aborted = rollouts.abort(services.store, SYSTEM, rollout.id, at(63), rollback=True)
    assert aborted.state == "rolled_back"
    assert all(desired(services, n) == [] for n in wave_names(rollout, 0))
    with pytest.raises(UserInputError, match="cannot abort"):
        rollouts.abort(services.store, SYSTEM, rollout.id, at(64))
    with pytest.raises(NotFound):
        rollouts.get_rollout(services.store, SYSTEM, 999)


def test_only_admins_manage_rollouts(services, fleet, make_user):
    analyst = make_user(Role.ANALYST)
    with pytest.raises(PermissionDenied):
        rollouts.create_rollout(services.store, FakeCatalog(), analyst, "churn", 2, Plan(), T0)
    with pytest.raises(PermissionDenied):
        rollouts.list_rollouts(services.store, analyst)
    with pytest.raises(NotFound):
        start(services, version=7)


def test_state_survives_a_restart(services, fleet):
    rollout = start(services)
    report(services, fleet, wave_names(rollout, 0), 2, "active", at(5))
    restarted = open_services(load_settings())  # a new process: new engine, nothing cached
    assert rollouts.tick(restarted.store, at(20)).changes == ((rollout.id, "wave 2"),)
    again = open_services(load_settings())
    shown = rollouts.get_rollout(again.store, SYSTEM, rollout.id)
    assert shown.wave == 1 and shown.counts()["assigned"] == 8


def test_finish_events_reach_listeners(services, fleet, monkeypatch):
    seen = []
    monkeypatch.setattr(rollout_state, "EVENT_LISTENERS", [lambda s, e, now: seen.append(e)])
    rollout = start(services, strategy="all")
    rollouts.abort(services.store, SYSTEM, rollout.id, at(1))
    assert [(e.rollout_id, e.state) for e in seen] == [(rollout.id, "aborted")]


def test_a_rollout_ending_starts_the_workflows_waiting_for_it(services, fleet):
    """A workflow `rollout` trigger: by model (or any) and by how the rollout ended."""
    from core.workflows import history
    from core.workflows.definition import from_data
    from core.workflows.service import save_workflow

    def waiting(name: str, **trigger) -> None:
        step = {"id": "note", "type": "condition", "params": {"expr": "true"}}
        data = {"name": name, "triggers": [{"type": "rollout", **trigger}], "steps": [step]}
        save_workflow(services, SYSTEM, from_data(data), now=T0)

    waiting("on-churn-rollback", model="churn", state="rolled_back")
    waiting("on-any-finish")
    waiting("on-churn-success", model="churn", state="succeeded")
    waiting("on-other-model", model="other")
    first = start(services, version=1, strategy="all")
    report(services, fleet, NAMES, 1, "active", at(1))
    rollouts.tick(services.store, at(20))  # succeeded
    second = start(services, version=2)
    report(services, fleet, wave_names(second, 0), 2, "failed", at(30), detail="bad model")
    rollouts.tick(services.store, at(31))  # rolled back

    def started(name: str) -> list[dict]:
        runs = history.list_runs(services, SYSTEM, name)
        assert all(r.trigger == "rollout" for r in runs)
        return sorted(
            (history.run_detail(services, SYSTEM, r.id).trigger_payload for r in runs),
            key=lambda p: p["rollout_id"],
        )

    (rollback,) = started("on-churn-rollback")
    assert rollback["rollout_id"] == second.id and rollback["state"] == "rolled_back"
    assert (rollback["model"], rollback["version"]) == ("churn", 2)
    assert [p["state"] for p in started("on-any-finish")] == ["succeeded", "rolled_back"]
    assert [p["rollout_id"] for p in started("on-churn-success")] == [first.id]
    assert started("on-other-model") == []


def test_processes_ticking_at_once_wait_for_each_other(services, fleet, beacon_home):
    """The worker and the API may tick together: on SQLite neither fails as 'locked'."""
    from concurrent.futures import ThreadPoolExecutor

    from core.store import open_store

    other = open_store(f"sqlite:///{beacon_home / 'beacon.db'}")  # another process's engine
    rollout = start(services, strategy="all")
    report(services, fleet, NAMES, 2, "active", at(1))

    def ticks(store) -> list:
        return [rollouts.tick(store, at(20 + n)).changes for n in range(20)]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(ticks, [services.store, other]))
    other.engine.dispose()
    finished = [change for changes in results for batch in changes for change in batch]
    assert finished == [(rollout.id, "succeeded")]  # exactly one process finished it


def test_desired_models_carry_checksum_schema_and_link():
    models = desired_models(
        FakeCatalog(), [{"name": "churn", "version": 2}, {"name": "x", "version": 1}]
    )
    assert models == [
        {
            "name": "churn",
            "version": 2,
            "sha256": f"{2:064x}",
            "size_bytes": 100,
            "url": "http://s3.local/churn/v2?sig=x",
            "input_schema": {"shape": [None, 3]},
            "output_names": ["label"],
        }
    ]


def test_serving_lists_active_recent_devices_with_weights(services, fleet):
    devices.set_tags(services.store, SYSTEM, "dev-01", ["weight=3"])
    report(services, fleet, ["dev-01", "dev-02"], 2, "active", at(0))
    report(services, fleet, ["dev-03"], 2, "failed", at(0))
    report(services, fleet, ["dev-04"], 2, "active", at(-500))
    serving = device_models.serving(services.store, "churn", at(10))
    assert [(d.device, d.weight) for d in serving] == [("dev-01", 3), ("dev-02", 1)]
    with pytest.raises(UserInputError, match="endpoint must be"):
        device_models.record_report(services.store, identity(fleet, "dev-01"), "ftp://x", [], T0)


# --- simulator faults and the CLI -----------------------------------------------------


def test_fail_specs_parse_and_fill_devices_in_order():
    from core.fleet.simulate import FailSpec, assign_faults, parse_fail

    assert parse_fail("crash") == FailSpec("crash")
    assert parse_fail("slow:2") == FailSpec("slow", 2)
    assert parse_fail("bad-model:all@3") == FailSpec("bad-model", None, 3)
    for bad in ("explode", "slow@2", "crash:x"):
        with pytest.raises(UserInputError, match=r"--fail|Only bad-model"):
            parse_fail(bad)
    plans = assign_faults(4, [parse_fail("crash:1"), parse_fail("slow:2")])
    assert [crash for _, crash in plans] == [True, False, False, False]
    assert [f.slow_ms > 0 for f, _ in plans] == [False, True, True, False]
    everyone = assign_faults(3, [parse_fail("bad-model@2")])
    assert all(f.bad(2) and not f.bad(1) for f, _ in everyone)
    with pytest.raises(UserInputError, match="More faulty devices"):
        assign_faults(2, [parse_fail("crash:3")])


def test_cli_lists_steers_and_refuses_with_exit_2(services, fleet, capsys):
    from core.cli import main

    rollout = start(services)
    assert main(["fleet", "rollouts", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["id"] == rollout.id and listed[0]["counts"] == {"assigned": 2, "pending": 8}
    assert main(["fleet", "rollouts", "pause", str(rollout.id)]) == 0
    assert "paused" in capsys.readouterr().out
    assert main(["fleet", "rollouts", "pause", str(rollout.id)]) == 2
    assert "cannot pause" in capsys.readouterr().err
    assert main(["fleet", "rollouts", "show", "99"]) == 2
    assert capsys.readouterr().err == "error: No rollout #99.\n"
    assert main(["fleet", "simulate", "--fail", "explode"]) == 2
    assert "--fail 'explode'" in capsys.readouterr().err
    assert main(["fleet", "rollouts", "create", "ghost", "1"]) == 2


def test_cached_catalog_signs_each_link_once_per_period():
    from core.fleet.rollout_catalog import CachedCatalog

    class Counting(FakeCatalog):
        links = 0

        def link(self, info: ModelInfo) -> str:
            Counting.links += 1
            return super().link(info)

    cached = CachedCatalog(Counting(), seconds=3600)
    entries = [{"name": "churn", "version": 2}]
    assert desired_models(cached, entries) == desired_models(cached, entries)
    assert Counting.links == 1
    with pytest.raises(NotFound):
        cached.version("churn", 9)
