"""The Rollouts page: plan a rollout, follow and steer it, and route test inference."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from skl2onnx import to_onnx
from sklearn.linear_model import Ridge

from core.auth.roles import Role, User
from core.config import load_settings
from core.errors import PermissionDenied
from core.fleet import device_models, devices, rollouts
from core.fleet.agent import Agent
from core.fleet.device_models import ModelReport
from core.fleet.registry_models import ModelVersionRow
from core.fleet.tokens import TokenHasher
from core.services import Services, open_services
from core.store.models import utcnow
from tests.app.conftest import click, metrics, texts

PAGE = "views/rollouts.py"
SYSTEM = User.system()


@pytest.fixture
def svc() -> Services:
    return open_services(load_settings())


def tab(at, label: str):
    return next(t for t in at.tabs if t.label == label)


def onnx_model() -> bytes:
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    model = Ridge().fit(x, x.sum(axis=1))
    return to_onnx(model, x[:1], target_opset=17).SerializeToString()


def publish_row(svc: Services, data: bytes, version: int = 1) -> None:
    """A registry row as publishing leaves it (the artifact itself is served from a file)."""
    with svc.store.session() as s:
        s.add(
            ModelVersionRow(
                name="demand",
                version=version,
                kind="regressor",
                source="upload",
                sha256=hashlib.sha256(data).hexdigest(),
                size_bytes=len(data),
                target_name="edge",
                artifact_key="k",
                manifest_key="m",
                input_schema={"name": "X", "shape": [None, 3]},
                output_names=["variable"],
                architectures=["x86_64"],
                metrics={},
                lineage={},
                quantized=False,
                created_by="root@example.com",
            )
        )


def enrol(svc: Services, name: str, tags=("store",)) -> devices.DeviceIdentity:
    hasher = TokenHasher.for_store(svc.store)
    enrolment = devices.add_device(
        svc.store, hasher, SYSTEM, devices.DeviceSpec(name, "raspberry-pi", tags=tags)
    )
    found, _ = devices.enrol(svc.store, hasher, enrolment.token)
    return devices.DeviceIdentity(found.id, found.name, found.status)


@pytest.fixture
def serving(svc: Services, tmp_path: Path) -> Iterator[list[Agent]]:
    """Two agents serving 'demand' v1 on loopback, known to Beacon through their reports."""
    data = onnx_model()
    publish_row(svc, data)
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(data)
    agents = []
    for name in ("pi-a", "pi-b"):
        me = enrol(svc, name)
        agent = Agent("http://127.0.0.1:9", tmp_path / name)  # no API: driven directly
        agent.name = name
        agent.serve()
        sha = hashlib.sha256(data).hexdigest()
        agent.install({"name": "demand", "version": 1, "sha256": sha, "url": artifact.as_uri()})
        device_models.record_report(
            svc.store, me, agent.endpoint, [ModelReport("demand", 1, "active", sha)], utcnow()
        )
        agents.append(agent)
    yield agents
    for agent in agents:
        agent.stop()


def test_only_admins_open_the_page(app_as, svc):
    for role in (Role.VIEWER, Role.ANALYST):
        with pytest.raises(ValueError):
            app_as(role).switch_page(PAGE).run()
    with pytest.raises(PermissionDenied, match="Managing rollouts needs the admin role"):
        rollouts.list_rollouts(svc.store, User(id=9, email="a@example.com", role=Role.ANALYST))


def test_the_empty_page_says_what_to_do(app_as):
    at = app_as(Role.ADMIN, PAGE)
    assert not at.exception and not at.error
    assert metrics(at)["In progress"] == "0"
    assert "No rollout yet: plan one in the New rollout tab." in texts(tab(at, "Rollouts").info)
    assert any("No published model" in t for t in texts(tab(at, "New rollout").info))
    assert any("No device reports a model" in t for t in texts(tab(at, "Test inference").info))


def test_plan_a_rollout_then_pause_resume_and_roll_back(app_as, svc):
    publish_row(svc, b"model-bytes")
    for index in range(4):
        enrol(svc, f"pi-{index}", tags=("store", "lab") if index < 2 else ("store",))
    at = app_as(Role.ADMIN, PAGE)
    form = tab(at, "New rollout")
    form.radio(key="rollout_plan_strategy").set_value("waves")
    form.multiselect(key="rollout_plan_tags").set_value(["lab"])
    form.number_input(key="rollout_plan_bake").set_value(0)
    at.button(key="FormSubmitter:rollout_plan-Start rollout").click()
    at.run()
    assert not at.exception and not at.error
    created = rollouts.list_rollouts(svc.store, SYSTEM)[0]
    assert created.state == "running" and created.waves == 2
    assert sorted(d.device for d in created.devices) == ["pi-0", "pi-1"]
    assert metrics(at)["In progress"] == "1"
    assert any("wave 1 assigned" in c for c in texts(tab(at, "Rollouts").caption))

    at = click(at, "Pause")
    assert rollouts.get_rollout(svc.store, SYSTEM, created.id).state == "paused"
    at = click(at, "Resume")
    assert rollouts.get_rollout(svc.store, SYSTEM, created.id).state == "running"
    at = click(at, "Roll back")
    assert rollouts.get_rollout(svc.store, SYSTEM, created.id).state == "rolled_back"
    assert metrics(at)["Rolled back or failed"] == "1"
    assert not at.exception and not at.error


def test_a_bad_plan_shows_one_error_line(app_as, svc):
    publish_row(svc, b"model-bytes")
    enrol(svc, "pi-0")
    at = app_as(Role.ADMIN, PAGE)
    form = tab(at, "New rollout")
    form.radio(key="rollout_plan_sizing").set_value("fixed")
    form.text_input(key="rollout_plan_sizes").set_value("2, none")
    at.button(key="FormSubmitter:rollout_plan-Start rollout").click()
    at.run()
    assert texts(at.error) == ["Wave sizes are whole numbers above 0, separated by commas."]
    assert rollouts.list_rollouts(svc.store, SYSTEM) == []


def test_test_inference_spreads_requests_over_the_serving_devices(app_as, serving):
    at = app_as(Role.ADMIN, PAGE)
    assert metrics(at)["Devices serving"] == "2 of 2"
    panel = tab(at, "Test inference")
    panel.radio(key="rollout_infer_strategy").set_value("round-robin")
    panel.number_input(key="rollout_infer_count").set_value(40)
    at.button(key="FormSubmitter:rollout_infer-Send requests").click()
    at.run()
    assert not at.exception and not at.error
    shown = metrics(at)
    assert shown["Served"] == "40" and shown["Failed"] == "0"
    assert sum(a.models["demand"].requests for a in serving) == 40
    assert {a.models["demand"].requests for a in serving} == {20}
