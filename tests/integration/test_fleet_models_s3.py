"""Publishing edge models to a real S3-compatible server on loopback (moto in server mode).

Artifact and manifest land in the bucket and the version in the registry; devices can
download with a presigned link; a publish whose upload fails (the server stopped before
or in the middle of it) leaves no registry row; roles and tolerance refuse before any
upload.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import requests

from core.audit import list_events
from core.auth.roles import Role, User
from core.config import load_settings
from core.errors import IntegrationError, PermissionDenied, UserInputError
from core.fleet import model_registry, targets
from core.fleet.cloud import Cloud
from core.fleet.packaging import PackagedModel, package
from core.fleet.storage import ObjectStore
from core.fleet.trained import benchmark_model
from core.fleet.verify import Tolerance, run, session
from core.integrations import BreakerRegistry
from core.secrets_box import SecretBox, new_key
from core.services import Services, open_services
from tests.integration.test_fleet_s3 import FAST
from tests.loopback_s3 import LoopbackS3, admin_client

SYSTEM = User.system()
BUCKET = "beacon-models"


@pytest.fixture
def s3(s3_server: LoopbackS3) -> LoopbackS3:
    requests.post(f"{s3_server.url}/moto-api/reset", timeout=10)
    admin_client(s3_server.url).create_bucket(Bucket=BUCKET)
    return s3_server


@pytest.fixture(scope="module")
def linear_package() -> PackagedModel:
    return package(benchmark_model("linear", rows=400), repeats=3)


@pytest.fixture
def svc(beacon_home, monkeypatch) -> Services:
    monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
    return open_services(load_settings())


@pytest.fixture
def cloud(svc: Services) -> Cloud:
    return Cloud(svc.store, svc.settings, svc.catalog, breakers=BreakerRegistry(), policy=FAST)


def add_target(svc: Services, url: str, name: str = "edge") -> None:
    spec = targets.TargetSpec(
        name=name,
        provider="minio",
        bucket=BUCKET,
        endpoint_url=url,
        prefix="beacon/",
        credentials="keys",
        access_key_id="admin",
        secret_access_key="admin",
    )
    targets.save_target(svc.store, SecretBox.from_settings(svc.settings), SYSTEM, spec)


def stored_keys(url: str) -> list[str]:
    listed = admin_client(url).list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_publish_uploads_artifact_and_manifest_then_records_the_version(
    s3, svc, cloud, linear_package
):
    add_target(svc, s3.url)
    first = model_registry.publish(
        svc,
        SYSTEM,
        linear_package,
        target_name="edge",
        name="demand",
        architectures=("x86_64", "aarch64"),
        lineage={"note": "test"},
        cloud=cloud,
    )
    assert (first.name, first.version, first.kind, first.source) == (
        "demand",
        1,
        "regressor",
        "benchmark",
    )
    assert first.sha256 == hashlib.sha256(linear_package.model).hexdigest()
    assert first.artifact_key.startswith(f"models/demand/v1-{first.sha256[:12]}/")
    assert stored_keys(s3.url) == sorted(
        [f"beacon/{first.artifact_key}", f"beacon/{first.manifest_key}"]
    )

    raw = admin_client(s3.url).get_object(Bucket=BUCKET, Key=f"beacon/{first.manifest_key}")
    manifest = json.loads(raw["Body"].read())
    assert manifest["name"] == "demand" and manifest["version"] == 1
    assert manifest["sha256"] == first.sha256 and manifest["size_bytes"] == first.size_bytes
    assert manifest["architectures"] == ["x86_64", "aarch64"]
    assert manifest["input_schema"]["name"] == "input"
    assert manifest["input_schema"]["features"] == [f"x{i}" for i in range(10)]
    assert manifest["metrics"]["verification"]["passed"] is True
    assert {m["variant"] for m in manifest["metrics"]["latency"]} == {
        "scikit-learn",
        "onnx fp32",
    }
    assert manifest["lineage"]["note"] == "test"

    # Devices download with a presigned link; Beacon reads it back checked.
    url = model_registry.artifact_url(svc, SYSTEM, first, expires=120, cloud=cloud)
    downloaded = requests.get(url, timeout=10).content
    assert hashlib.sha256(downloaded).hexdigest() == first.sha256
    data = model_registry.read_artifact(svc, SYSTEM, first, cloud=cloud)
    rows = np.ones((2, 10), dtype=np.float32)
    assert run(session(data), {"input": rows})[0].shape == (2, 1)

    second = model_registry.publish(
        svc, SYSTEM, linear_package, target_name="edge", name="demand", cloud=cloud
    )
    assert second.version == 2 and second.id != first.id
    assert model_registry.latest(svc.store, SYSTEM, "demand") == second
    assert [v.version for v in model_registry.list_versions(svc.store, SYSTEM)] == [2, 1]
    assert model_registry.get_version(svc.store, SYSTEM, "demand", 1) == first
    assert model_registry.get_by_id(svc.store, SYSTEM, first.id) == first
    published = list_events(svc.store, SYSTEM, action="model.publish")
    assert [e.target for e in published] == ["demand v2", "demand v1"]


def test_a_tampered_artifact_is_caught_on_reading(s3, svc, cloud, linear_package):
    add_target(svc, s3.url)
    version = model_registry.publish(
        svc, SYSTEM, linear_package, target_name="edge", name="demand", cloud=cloud
    )
    admin_client(s3.url).put_object(
        Bucket=BUCKET, Key=f"beacon/{version.artifact_key}", Body=b"not the model"
    )
    with pytest.raises(IntegrationError, match="does not match its digest"):
        model_registry.read_artifact(svc, SYSTEM, version, cloud=cloud)


def test_server_stopped_before_publishing_leaves_no_row(svc, cloud, linear_package):
    server = LoopbackS3()
    server.start()
    admin_client(server.url).create_bucket(Bucket=BUCKET)
    add_target(svc, server.url)
    server.stop()
    with pytest.raises(IntegrationError, match="Cloud target edge"):
        model_registry.publish(
            svc, SYSTEM, linear_package, target_name="edge", name="demand", cloud=cloud
        )
    assert model_registry.list_versions(svc.store, SYSTEM) == []
    assert list_events(svc.store, SYSTEM, action="model.publish") == []


def test_server_stopping_between_artifact_and_manifest_leaves_no_row(
    svc, cloud, linear_package, monkeypatch
):
    server = LoopbackS3()
    server.start()
    admin_client(server.url).create_bucket(Bucket=BUCKET)
    add_target(svc, server.url)
    original = ObjectStore.put_bytes

    def stop_first(self, data, key):
        server.stop()  # the artifact is up; the manifest upload meets a dead server
        return original(self, data, key)

    monkeypatch.setattr(ObjectStore, "put_bytes", stop_first)
    with pytest.raises(IntegrationError):
        model_registry.publish(
            svc, SYSTEM, linear_package, target_name="edge", name="demand", cloud=cloud
        )
    assert model_registry.list_versions(svc.store, SYSTEM) == []


def test_failed_manifest_upload_removes_the_artifact(s3, svc, cloud, linear_package, monkeypatch):
    add_target(svc, s3.url)

    def refuse(self, data, key):
        raise IntegrationError("manifest refused")

    monkeypatch.setattr(ObjectStore, "put_bytes", refuse)
    with pytest.raises(IntegrationError, match="manifest refused"):
        model_registry.publish(
            svc, SYSTEM, linear_package, target_name="edge", name="demand", cloud=cloud
        )
    assert stored_keys(s3.url) == []  # the artifact that did arrive was taken back
    assert model_registry.list_versions(svc.store, SYSTEM) == []


def test_analyst_cannot_publish_and_nothing_is_uploaded(s3, svc, cloud, linear_package, make_user):
    add_target(svc, s3.url)
    analyst = make_user(Role.ANALYST)
    with pytest.raises(PermissionDenied):
        model_registry.publish(
            svc, analyst, linear_package, target_name="edge", name="demand", cloud=cloud
        )
    with pytest.raises(PermissionDenied):
        model_registry.list_versions(svc.store, analyst)
    assert stored_keys(s3.url) == []


def test_a_model_outside_the_tolerance_is_refused_with_its_numbers(s3, svc, cloud):
    add_target(svc, s3.url)
    strict = package(
        benchmark_model("linear", rows=400), tolerance=Tolerance(max_relative=0.0), repeats=2
    )
    assert not strict.passed
    with pytest.raises(UserInputError, match=r"Not published: onnx fp32: max deviation \S+"):
        model_registry.publish(svc, SYSTEM, strict, target_name="edge", name="x", cloud=cloud)
    assert stored_keys(s3.url) == []
    assert model_registry.list_versions(svc.store, SYSTEM) == []


def test_missing_bucket_and_unknown_target_are_refused(s3, svc, cloud, linear_package):
    with pytest.raises(UserInputError, match="No cloud target named 'edge'"):
        model_registry.publish(svc, SYSTEM, linear_package, target_name="edge", cloud=cloud)
    requests.post(f"{s3.url}/moto-api/reset", timeout=10)  # the bucket is gone
    add_target(svc, s3.url)
    with pytest.raises(IntegrationError, match="the bucket does not exist"):
        model_registry.publish(svc, SYSTEM, linear_package, target_name="edge", cloud=cloud)
    assert model_registry.list_versions(svc.store, SYSTEM) == []
