"""The model registry over a hand-written fake bucket: versions, manifests, roles, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from core.auth.roles import Role, User
from core.errors import IntegrationError, NotFound, PermissionDenied, UserInputError
from core.fleet import model_registry
from core.fleet.packaging import Candidate, PackagedModel, package

SYSTEM = User.system()


class FakeBucket:
    """Objects in a dict; can be told to fail on a key suffix."""

    def __init__(self, fail_on: str = "") -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_on = fail_on

    def _put(self, key: str, data: bytes) -> None:
        if self.fail_on and key.endswith(self.fail_on):
            raise IntegrationError(f"Cloud target edge: write of {key} failed")
        self.objects[key] = data

    def put_stream(self, stream, key, size, progress=None):
        self._put(key, stream.read())

    def put_bytes(self, data, key):
        self._put(key, data)

    def delete(self, key):
        self.objects.pop(key, None)

    def presigned_url(self, key, seconds):
        return f"https://example.invalid/{key}?expires={seconds}"

    def get_bytes(self, key, limit):
        return self.objects[key]


class FakeCloud:
    def __init__(self, bucket: FakeBucket) -> None:
        self.bucket = bucket

    def open(self, user, name):
        if name != "edge":
            raise NotFound(f"No cloud target named {name!r}.")
        return self.bucket


@pytest.fixture(scope="module")
def packaged() -> PackagedModel:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    model = LinearRegression().fit(X, X @ np.array([1.0, 2.0, 3.0, 4.0]))
    return package(Candidate("demand", "regressor", "benchmark", model, X, ()), repeats=2)


def publish(services, packaged, bucket=None, **kwargs):
    cloud = FakeCloud(bucket or FakeBucket())
    kwargs.setdefault("target_name", "edge")
    return model_registry.publish(services, SYSTEM, packaged, cloud=cloud, **kwargs)


def test_versions_count_up_per_name_and_list_newest_first(services, packaged):
    bucket = FakeBucket()
    a1 = publish(services, packaged, bucket, name="alpha")
    a2 = publish(services, packaged, bucket, name="alpha")
    b1 = publish(services, packaged, bucket, name="beta", lineage={"run_id": 7})
    assert [(v.name, v.version) for v in model_registry.list_versions(services.store, SYSTEM)] == [
        ("alpha", 2),
        ("alpha", 1),
        ("beta", 1),
    ]
    assert model_registry.list_versions(services.store, SYSTEM, "beta") == [b1]
    assert model_registry.latest(services.store, SYSTEM, "alpha") == a2
    assert model_registry.get_version(services.store, SYSTEM, "alpha", 1) == a1
    assert b1.lineage["run_id"] == 7 and b1.architectures == ("x86_64", "aarch64")
    assert len(bucket.objects) == 6
    manifest = json.loads(bucket.objects[b1.manifest_key])
    assert manifest == model_registry.manifest(b1)
    assert manifest["format"] == "beacon-edge-model/1" and manifest["sha256"] == b1.sha256


def test_a_failed_manifest_upload_takes_the_artifact_back_and_records_nothing(services, packaged):
    bucket = FakeBucket(fail_on="manifest.json")
    with pytest.raises(IntegrationError, match="write of"):
        publish(services, packaged, bucket, name="alpha")
    assert bucket.objects == {}
    assert model_registry.list_versions(services.store, SYSTEM) == []


def test_artifact_link_and_digest_check(services, packaged):
    bucket = FakeBucket()
    version = publish(services, packaged, bucket, name="alpha")
    cloud = FakeCloud(bucket)
    url = model_registry.artifact_url(services, SYSTEM, version, expires=60, cloud=cloud)
    assert url.endswith(f"{version.artifact_key}?expires=60")
    assert model_registry.read_artifact(services, SYSTEM, version, cloud=cloud) == packaged.model
    bucket.objects[version.artifact_key] = b"changed"
    with pytest.raises(IntegrationError, match="does not match its digest"):
        model_registry.read_artifact(services, SYSTEM, version, cloud=cloud)


@pytest.mark.parametrize("name", ["", "../up", "a b", "-x", "x" * 101])
def test_bad_model_names_are_refused(services, packaged, name):
    with pytest.raises(UserInputError, match="A model name has"):
        publish(services, packaged, name=name)


def test_architectures_are_checked(services, packaged):
    assert model_registry.check_architectures(["AArch64", " x86_64", "aarch64"]) == (
        "aarch64",
        "x86_64",
    )
    with pytest.raises(UserInputError, match="at least one target architecture"):
        publish(services, packaged, name="a", architectures=[" "])
    with pytest.raises(UserInputError, match="is not an architecture name"):
        publish(services, packaged, name="a", architectures=["arm v7!"])


def test_registry_is_for_admins_only(services, packaged, make_user):
    version = publish(services, packaged, name="alpha")
    for role in (Role.VIEWER, Role.ANALYST):
        user = make_user(role)
        with pytest.raises(PermissionDenied):
            model_registry.publish(
                services, user, packaged, target_name="edge", cloud=FakeCloud(FakeBucket())
            )
        with pytest.raises(PermissionDenied):
            model_registry.list_versions(services.store, user)
        with pytest.raises(PermissionDenied):
            model_registry.artifact_url(services, user, version, cloud=FakeCloud(FakeBucket()))
    admin = make_user(Role.ADMIN)
    assert model_registry.list_versions(services.store, admin) == [version]


def test_unknown_versions_and_targets(services, packaged):
    with pytest.raises(NotFound, match="No model named 'ghost'"):
        model_registry.latest(services.store, SYSTEM, "ghost")
    with pytest.raises(NotFound, match="no version 3 of model 'ghost'"):
        model_registry.get_version(services.store, SYSTEM, "ghost", 3)
    with pytest.raises(NotFound, match="no model version with id 99"):
        model_registry.get_by_id(services.store, SYSTEM, 99)
    with pytest.raises(NotFound, match="No cloud target named 'lake'"):
        publish(services, packaged, name="a", target_name="lake")


def test_table_rows_flatten_lineage(services, packaged):
    version = publish(services, packaged, name="alpha", lineage={"dataset": "orders"})
    (row,) = model_registry.versions_table([version])
    assert row["name"] == "alpha" and row["version"] == 1 and row["quantized"] is False
    assert "dataset=orders" in row["lineage"] and row["architectures"] == "x86_64, aarch64"
