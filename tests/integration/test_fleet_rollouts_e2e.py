"""Rollouts end to end: a real API (uvicorn), a loopback S3 server, ten simulated devices.

Models are packaged and published with the model registry; devices pull their desired
version through presigned links, verify its sha256, load it in ONNX Runtime, report
back, and serve /infer, which the routing API reaches over HTTP. The agents are driven
one cycle at a time (`step_all`) and rollouts are ticked with the real clock or a
clock set ahead, so every step is deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import requests

from core.api.app import create_app
from core.api.ratelimit import TokenBucketLimiter
from core.auth.roles import User
from core.config import load_settings
from core.fleet import inference, model_registry, rollouts, service_accounts, simulate, targets
from core.fleet.packaging import PackagedModel, package
from core.fleet.rollout_catalog import RegistryCatalog
from core.fleet.rollout_plans import Gate, Plan
from core.fleet.routing import INFER_SCOPE
from core.fleet.simulate import FailSpec, Simulation
from core.fleet.tokens import TokenHasher
from core.fleet.trained import benchmark_model
from core.integrations import BreakerRegistry
from core.integrations.breaker import BREAKERS
from core.secrets_box import SecretBox, new_key
from core.services import Services, open_services
from core.store.models import utcnow
from tests.integration.test_fleet_api import serve
from tests.loopback_s3 import admin_client

SYSTEM = User.system()
BUCKET = "beacon-edge"
MODEL = "demand"
GATE = Gate(bake_seconds=0, window_seconds=600, install_timeout_seconds=30)


@pytest.fixture(scope="module")
def packages() -> list[PackagedModel]:
    """Three versions of a small linear model (different seeds, so different bytes)."""
    return [package(benchmark_model("linear", rows=300, seed=s), repeats=2) for s in (0, 1, 2)]


@dataclass
class Edge:
    services: Services
    url: str
    sim: Simulation

    def rollout(self, version: int, **plan) -> rollouts.Rollout:
        spec = Plan(**{"strategy": "canary", "canary_percent": 20, "gate": GATE, **plan})
        catalog = RegistryCatalog(self.services)
        return rollouts.create_rollout(
            self.services.store, catalog, SYSTEM, MODEL, version, spec, utcnow()
        )

    def settle(self, rollout_id: int, *, ahead: float = 0.0) -> rollouts.Rollout:
        """One agent cycle, then one tick; returns the rollout as stored."""
        self.sim.step_all()
        rollouts.tick(self.services.store, utcnow() + timedelta(seconds=ahead))
        return rollouts.get_rollout(self.services.store, SYSTEM, rollout_id)

    def running(self) -> Counter:
        """Which version of the model each live agent serves."""
        return Counter(
            a.models[MODEL].version if MODEL in a.models else None
            for a in self.sim.agents
            if not a.crashed
        )


@pytest.fixture
def edge(beacon_home, monkeypatch, s3_server, packages, tmp_path) -> Iterator[Callable[..., Edge]]:
    started: list[tuple] = []

    def make(specs: tuple[FailSpec, ...] = ()) -> Edge:
        requests.post(f"{s3_server.url}/moto-api/reset", timeout=10)
        admin_client(s3_server.url).create_bucket(Bucket=BUCKET)
        monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
        services = open_services(load_settings())
        spec = targets.TargetSpec(
            name="edge",
            provider="minio",
            bucket=BUCKET,
            endpoint_url=s3_server.url,
            credentials="keys",
            access_key_id="admin",
            secret_access_key="admin",
        )
        targets.save_target(
            services.store, SecretBox.from_settings(services.settings), SYSTEM, spec
        )
        for pkg in packages:
            model_registry.publish(services, SYSTEM, pkg, target_name="edge", name=MODEL)
        app = create_app(services, limiter=TokenBucketLimiter(1000, 1000))
        server, thread, url = serve(app)
        tokens = simulate.enrolment_tokens(
            services.store,
            TokenHasher.for_store(services.store),
            SYSTEM,
            10,
            prefix="sim",
            tags=("sim",),
        )
        sim = simulate.start(url, tokens, tmp_path / "agents", specs=specs, run_loops=False)
        started.append((server, thread, sim))
        return Edge(services, url, sim)

    yield make
    for server, thread, sim in started:
        sim.stop()
        server.should_exit = True
        thread.join(10)


def test_canary_to_two_of_ten_then_everyone_and_routing_over_http(edge):
    env = edge()
    first = env.rollout(1, strategy="all")
    assert env.settle(first.id).state == "succeeded"
    assert env.running() == Counter({1: 10})

    second = env.rollout(2)
    canaries = {d.device for d in second.devices if d.wave == 0}
    assert len(canaries) == 2
    after_canary = env.settle(second.id)
    assert after_canary.state == "running" and after_canary.wave == 1
    assert {d.device for d in after_canary.devices if d.state == "active"} == canaries
    assert after_canary.gate["decision"] == "pass"
    assert env.running() == Counter({2: 2, 1: 8})

    done = env.settle(second.id)
    assert done.state == "succeeded" and done.counts()["active"] == 10
    assert env.running() == Counter({2: 10})

    # Routing over real HTTP: the API sends each request to a device serving the model.
    _, key = service_accounts.create_key(
        env.services.store,
        TokenHasher.for_store(env.services.store),
        SYSTEM,
        "edge-app",
        [INFER_SCOPE],
    )
    rows = [[0.5] * 10]
    with httpx.Client(base_url=env.url, headers={"Authorization": f"Bearer {key}"}) as c:
        answers = [
            c.post(f"/v1/infer/{MODEL}", json={"rows": rows, "strategy": "round-robin"})
            for _ in range(20)
        ]
        assert {a.status_code for a in answers} == {200}, answers[0].text
        served = Counter(a.json()["device"] for a in answers)
        assert len(served) == 10 and set(served.values()) == {2}
        assert {a.json()["version"] for a in answers} == {2}
        assert len(answers[0].json()["outputs"]["variable"][0]) == 1
        bad = c.post(f"/v1/infer/{MODEL}", json={"rows": rows, "strategy": "fastest"})
        assert bad.status_code == 400 and "strategy must be one of" in bad.json()["error"]
        nobody = c.post("/v1/infer/unknown", json={"rows": rows})
        assert nobody.status_code == 503
    with httpx.Client(base_url=env.url) as c:
        assert c.post(f"/v1/infer/{MODEL}", json={"rows": rows}).status_code == 401

    summary = inference.trial_inference(
        env.services.store,
        SYSTEM,
        MODEL,
        "weighted",
        40,
        rows,
        utcnow(),
        breakers=BreakerRegistry(),
    )
    assert summary.failed == 0 and set(summary.by_device.values()) == {4}

    # A device that dies is routed around: its breaker opens, callers see no failure.
    dead = env.sim.agents[0]
    dead.crash()
    try:
        with httpx.Client(base_url=env.url, headers={"Authorization": f"Bearer {key}"}) as c:
            answers = [c.post(f"/v1/infer/{MODEL}", json={"rows": rows}) for _ in range(30)]
        assert {a.status_code for a in answers} == {200}
        assert dead.name not in {a.json()["device"] for a in answers}
        assert BREAKERS.snapshot(f"device:{dead.name}").state == "open"
    finally:
        BREAKERS.forget(f"device:{dead.name}")  # the registry is per process


def test_a_bad_model_fails_the_canary_gate_and_is_rolled_back(edge):
    env = edge((FailSpec("bad-model", None, 3),))
    assert env.settle(env.rollout(2, strategy="all").id).state == "succeeded"

    bad = env.rollout(3)
    canaries = {d.device for d in bad.devices if d.wave == 0}
    failed = env.settle(bad.id)
    assert failed.state == "rolled_back", failed.message
    assert "failed the gate" in failed.message and "2 device(s) failed" in failed.message
    assert {d.state for d in failed.devices if d.device in canaries} == {"rolled_back"}
    assert {d.state for d in failed.devices if d.device not in canaries} == {"pending"}

    env.sim.step_all()  # the canaries pull v2 again (from their cache) and serve it
    assert env.running() == Counter({2: 10})
    states = {a.name: a.status[MODEL] for a in env.sim.agents}
    assert {s.state for s in states.values()} == {"active"}


def test_a_device_that_dies_mid_rollout(edge):
    env = edge()
    rollout = env.rollout(
        1, gate=Gate(bake_seconds=0, window_seconds=600, install_timeout_seconds=30, max_failed=1)
    )
    assert env.settle(rollout.id).wave == 1
    second_wave = {d.device for d in rollout.devices if d.wave == 1}
    victim = next(a for a in env.sim.agents if a.name in second_wave)
    victim.crash()
    waiting = env.settle(rollout.id)
    assert waiting.state == "running" and "1 device(s) still installing" in waiting.message

    done = env.settle(rollout.id, ahead=31)  # the install timeout is over
    assert done.state == "succeeded", done.message
    dead = next(d for d in done.devices if d.device == victim.name)
    assert dead.state == "failed" and "not active within 30 s" in dead.detail
    assert done.counts()["active"] == 9
