"""The edge agent on loopback: install checks (sha256, self-test), /infer and /health."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from skl2onnx import to_onnx
from sklearn.linear_model import LinearRegression

from core.fleet.agent import Agent, Faults


@pytest.fixture
def artifact(tmp_path: Path) -> tuple[str, str]:
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    data = to_onnx(
        LinearRegression().fit(x, x.sum(axis=1)), x[:1], target_opset=17
    ).SerializeToString()
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    return path.as_uri(), hashlib.sha256(data).hexdigest()


def agent_at(tmp_path: Path, **kwargs) -> Agent:
    agent = Agent("http://127.0.0.1:9", tmp_path / "agent", **kwargs)
    agent.name = "pi-test"
    agent.serve()
    return agent


def entry(artifact, version: int = 1, sha: str | None = None) -> dict:
    url, digest = artifact
    return {"name": "demand", "version": version, "sha256": sha or digest, "url": url}


def test_install_serve_and_answer_over_http(tmp_path, artifact):
    agent = agent_at(tmp_path)
    try:
        agent.reconcile([entry(artifact)])
        assert agent.status["demand"].state == "active"
        with httpx.Client(base_url=agent.endpoint) as c:
            ok = c.post("/infer", json={"model": "demand", "rows": [[1, 2, 3], [0, 0, 0]]})
            assert ok.status_code == 200
            assert np.allclose(ok.json()["outputs"]["variable"], [[6.0], [0.0]], atol=1e-3)
            assert c.get("/health").json() == {"device": "pi-test", "models": {"demand": 1}}
            assert c.post("/infer", content=b"{nope").status_code == 400
            assert c.post("/infer", json={"model": "demand"}).status_code == 400
            wrong = c.post("/infer", json={"model": "demand", "rows": [[1, 2]]})
            assert wrong.status_code == 400
            assert c.post("/infer", json={"model": "churn", "rows": [[1]]}).status_code == 404
            assert c.get("/nowhere").status_code == 404
        served = agent.models["demand"]
        assert (served.requests, served.errors) == (2, 0)  # bad requests are not model errors
        agent.reconcile([])  # no longer desired: unloaded
        assert agent.models == {} and agent.status == {}
    finally:
        agent.stop()


def test_a_wrong_checksum_or_a_corrupted_copy_fails_the_install(tmp_path, artifact):
    agent = agent_at(tmp_path, faults=Faults(bad_model=True, bad_versions=(2,)))
    try:
        agent.reconcile([entry(artifact, sha="0" * 64)])
        failed = agent.status["demand"]
        assert failed.state == "failed" and "sha256 mismatch" in failed.detail
        assert not (tmp_path / "agent" / "models" / "demand" / "v1.onnx").exists()
        agent.reconcile([entry(artifact, sha="0" * 64)])  # not retried for the same version
        assert agent.status["demand"].detail == failed.detail

        agent.reconcile([entry(artifact, version=1)])
        assert agent.status["demand"].state == "active"
        agent.reconcile([entry(artifact, version=2)])  # the simulator corrupts v2
        assert agent.status["demand"].state == "failed"
        assert agent.models["demand"].version == 1  # the running version keeps serving
    finally:
        agent.stop()
