"""The Edge models page: package a segment classifier, publish it to S3, read the registry;
uploads (a pickle refused, an ONNX file packaged); empty states; admins only."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import requests
from sklearn.linear_model import LinearRegression

from core.auth.roles import Role, User
from core.config import load_settings
from core.data.samples import load_sample
from core.fleet import model_registry, targets
from core.fleet.packaging import Candidate, convert
from core.secrets_box import SecretBox, new_key
from core.segmentation import pipeline
from core.segmentation import runs as segment_runs
from core.services import Services, open_services
from tests.app.conftest import click, metrics, texts
from tests.loopback_s3 import admin_client

PAGE = "views/edge_models.py"
SYSTEM = User.system()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def svc(monkeypatch) -> Services:
    monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
    return open_services(load_settings())


def saved_segmentation(svc: Services) -> int:
    datasets = {d.name: d for d in load_sample(svc.catalog, SYSTEM)}
    settings = pipeline.SegmentationSettings(k=4, stability_runs=0)
    con = svc.catalog.connect()
    try:
        result = pipeline.segment(con, SYSTEM, datasets["sample_orders"], settings, with_clv=False)
    finally:
        con.close()
    saved = segment_runs.save_run(
        svc.store, SYSTEM, datasets["sample_orders"], settings, result, "four segments"
    )
    return saved.id


def add_target(svc: Services, url: str) -> None:
    requests.post(f"{url}/moto-api/reset", timeout=10)
    admin_client(url).create_bucket(Bucket="edge-models")
    spec = targets.TargetSpec(
        name="edge",
        provider="minio",
        bucket="edge-models",
        endpoint_url=url,
        credentials="keys",
        access_key_id="admin",
        secret_access_key="admin",
    )
    targets.save_target(svc.store, SecretBox.from_settings(svc.settings), SYSTEM, spec)


def test_only_admins_can_open_the_page(app_as):
    for role in (Role.VIEWER, Role.ANALYST):
        at = app_as(role)
        with pytest.raises(ValueError):
            at.switch_page(PAGE).run()


def test_empty_page_says_what_to_do(app_as, svc):
    at = app_as(Role.ADMIN, PAGE)
    assert not at.exception and not at.error
    assert at.title[0].value == "Edge models"
    assert metrics(at)["Published versions"] == "0"
    infos = texts(at.info)
    assert any(i.startswith("No saved segmentation runs: run and save one") for i in infos)
    assert any(i.startswith("No model has been published yet") for i in infos)


def test_package_a_segment_classifier_and_publish_it(app_as, svc, s3_server):
    run_id = saved_segmentation(svc)
    add_target(svc, s3_server.url)
    at = app_as(Role.ADMIN, PAGE)
    assert at.selectbox[0].value == run_id
    click(at, "Package")
    assert not at.exception and not at.error
    shown = metrics(at)
    assert shown["Published variant"] == "fp32"  # logistic regression: nothing to quantise
    assert float(shown["Label agreement"].rstrip("%")) >= 99
    captions = " ".join(texts(at.caption))
    assert "quantisation skipped: no MatMul/Gemm weights to quantise" in captions
    assert "clusters of run" in captions and "held-out customers" in captions
    assert texts(at.success)[0].startswith("onnx fp32: max deviation")

    click(at, "Publish")
    assert not at.exception and not at.error
    assert any(
        t.startswith("Published segments-sample_orders v1 to edge") for t in texts(at.success)
    )
    assert metrics(at)["Published versions"] == "1"
    (version,) = model_registry.list_versions(svc.store, SYSTEM)
    assert version.lineage["run_id"] == run_id and version.source == "segmentation"
    listed = admin_client(s3_server.url).list_objects_v2(Bucket="edge-models")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
        [version.artifact_key, version.manifest_key]
    )
    assert at.selectbox(key="em_manifest_version").value == "segments-sample_orders v1"


def test_without_a_target_the_page_points_to_the_fleet_page(app_as, svc):
    saved_segmentation(svc)
    at = app_as(Role.ADMIN, PAGE)
    click(at, "Package")
    assert not at.exception and not at.error
    assert any(
        i.startswith("No cloud targets yet: add one on the Fleet page") for i in texts(at.info)
    )


def test_uploads_refuse_a_pickle_and_package_an_onnx_file(app_as, svc):
    at = app_as(Role.ADMIN, PAGE)
    at.segmented_control(key="em_source").set_value("upload").run()
    uploader = at.get("file_uploader")[0]
    # A pickle renamed to .onnx: refused by its content, never loaded.
    uploader.upload("model.onnx", pickle.dumps({"w": [1, 2]}), "application/octet-stream")
    at.run()
    click(at, "Package")
    assert not at.exception
    assert texts(at.error) == [
        "model.onnx is a Python pickle: Beacon never loads pickles; export the model to ONNX."
    ]

    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    model = LinearRegression().fit(X, X.sum(axis=1))
    data = convert(Candidate("m", "regressor", "benchmark", model, X, ()))
    at.get("file_uploader")[0].upload("linear.onnx", data, "application/octet-stream")
    at.run()
    click(at, "Package")
    assert not at.exception and not at.error
    assert metrics(at)["Published variant"] == "fp32"
    assert any("uploaded model on 256 random rows" in c for c in texts(at.caption))


def test_package_the_forecasting_model_of_the_sample_orders(app_as, svc):
    load_sample(svc.catalog, SYSTEM)
    at = app_as(Role.ADMIN, PAGE)
    at.segmented_control(key="em_source").set_value("forecast").run()
    at.selectbox(key="em_fc_dataset").select("sample_orders").run()
    click(at, "Package")
    assert not at.exception and not at.error
    assert metrics(at)["Published variant"] == "fp32"  # trees: nothing to quantise
    captions = " ".join(texts(at.caption))
    assert "Global gradient boosting over" in captions and "(monthly, 3 steps ahead" in captions
    assert texts(at.success)[0].startswith("onnx fp32: max deviation")
