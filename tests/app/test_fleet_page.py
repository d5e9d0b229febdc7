"""The Fleet page: devices (table, map, detail, actions), cloud targets and API keys."""

from __future__ import annotations

import boto3
import pytest
import requests
from streamlit.testing.v1 import AppTest

from core.auth.roles import Role, User
from core.config import load_settings
from core.errors import PermissionDenied
from core.fleet import devices, heartbeats, service_accounts, targets
from core.fleet.heartbeats import Heartbeat
from core.fleet.tokens import TokenHasher
from core.secrets_box import NO_KEY, SecretBox, new_key
from core.services import Services, open_services
from tests.app.conftest import click, metrics, texts

FLEET = "views/fleet.py"
SYSTEM = User.system()


@pytest.fixture
def svc() -> Services:
    return open_services(load_settings())


def enrolled(svc: Services, name: str, kind: str = "raspberry-pi", **spec) -> int:
    hasher = TokenHasher.for_store(svc.store)
    enrolment = devices.add_device(
        svc.store, hasher, SYSTEM, devices.DeviceSpec(name, kind, **spec)
    )
    device, _ = devices.enrol(svc.store, hasher, enrolment.token, arch="arm64")
    return device.id


def tab(at: AppTest, label: str):
    return next(t for t in at.tabs if t.label == label)


def test_only_admins_can_open_the_fleet_page(app_as):
    for role in (Role.VIEWER, Role.ANALYST):
        at = app_as(role)
        with pytest.raises(ValueError):
            at.switch_page(FLEET).run()
    analyst = User(id=99, email="a@example.com", role=Role.ANALYST)
    svc = open_services(load_settings())
    with pytest.raises(PermissionDenied, match="Managing devices needs the admin role"):
        devices.list_devices(svc.store, analyst)
    with pytest.raises(PermissionDenied, match="Managing cloud targets needs the admin role"):
        targets.list_targets(svc.store, analyst)


def test_an_empty_fleet_explains_what_to_do(app_as):
    at = app_as(Role.ADMIN, FLEET)
    assert not at.exception and not at.error
    assert at.title[0].value == "Fleet"
    shown = metrics(at)
    assert shown["Online"] == "0 of 0" and shown["Cloud targets"] == "0"
    infos = texts(at.info)
    assert any(i.startswith("No devices yet: add one in the Add device tab") for i in infos)
    assert any(i.startswith("No cloud targets yet.") for i in infos)


def test_adding_a_device_shows_its_token_once_and_the_token_enrols(app_as, svc):
    at = app_as(Role.ADMIN, FLEET)
    form = tab(at, "Add device")
    next(w for w in form.text_input if w.label == "Name").input("pi-lyon")
    next(w for w in form.text_input if w.label == "Tags").input("store-12, Line:A")
    form.selectbox[0].select("jetson")
    form.number_input[0].set_value(45.76)
    form.number_input[1].set_value(4.84)
    next(b for b in form.button if b.label == "Add device").click()
    at.run()
    assert not at.exception and not at.error
    assert texts(at.success)[0].startswith("One-time enrolment token for pi-lyon")
    token = at.code[0].value
    assert token.startswith("bcn_enrol_")
    assert metrics(at)["Awaiting enrolment"] == "1"
    device, credential = devices.enrol(svc.store, TokenHasher.for_store(svc.store), token)
    assert (device.name, device.kind, device.tags) == ("pi-lyon", "jetson", ("store-12", "line:a"))
    assert credential.startswith("bcn_dev_")
    at.run()  # shown once only
    assert not [c for c in at.code if c.value == token]


def test_devices_cards_filters_detail_and_revoke(app_as, svc):
    hot = enrolled(svc, "pi-hot", site="Lyon", lat=45.76, lon=4.84, tags=("store-12",))
    cool = enrolled(svc, "gw-cool", kind="x86-gateway", site="Paris", lat=48.85, lon=2.35)
    devices.add_device(
        svc.store, TokenHasher.for_store(svc.store), SYSTEM, devices.DeviceSpec("phone-1", "mobile")
    )
    for cpu in (50, 70, 98):
        heartbeats.record(svc.store, hot, Heartbeat(cpu_pct=cpu, temp_c=71, latency_p99_ms=30))
    heartbeats.record(svc.store, cool, Heartbeat(cpu_pct=20, mem_pct=30, disk_pct=40))

    at = app_as(Role.ADMIN, FLEET)
    assert not at.exception and not at.error
    shown = metrics(at)
    assert shown["Online"] == "2 of 2"
    assert shown["Unhealthy"] == "1"
    assert shown["Awaiting enrolment"] == "1"
    assert "3 of 3 devices match the filters." in [c.value for c in at.caption]

    at.sidebar.multiselect(key="fleet_filter_kind").select("x86-gateway").run()
    assert "1 of 3 devices match the filters." in [c.value for c in at.caption]
    at.sidebar.multiselect(key="fleet_filter_kind").unselect("x86-gateway").run()
    at.sidebar.text_input(key="fleet_filter_tag").input("store-12").run()
    assert "1 of 3 devices match the filters." in [c.value for c in at.caption]

    at.selectbox(key="fleet_detail_name").select("pi-hot").run()
    detail = tab(at, "Device detail")
    assert len(detail.get("plotly_chart")) == 3  # resources, temperature, latency
    facts = detail.dataframe[0].value
    assert facts.set_index("")["value"]["why"] == "CPU at 98%"
    next(b for b in detail.button if b.label == "Revoke credential").click()
    at.run()
    assert not at.error
    assert devices.get_device(svc.store, SYSTEM, "pi-hot").status == "revoked"
    assert metrics(at)["Online"] == "1 of 1"


@pytest.fixture
def s3(s3_server) -> str:
    requests.post(f"{s3_server.url}/moto-api/reset", timeout=10)
    return s3_server.url


def test_keys_are_refused_without_a_secret_key(app_as):
    at = app_as(Role.ADMIN, FLEET)
    form = tab(at, "Cloud targets")
    fields = {w.label: w for w in form.text_input}
    fields["Name"].input("lake")
    fields["Bucket"].input("beacon-data")
    fields["Endpoint URL"].input("http://127.0.0.1:9")
    fields["Access key id"].input("AKIAEXAMPLE")
    fields["Secret access key"].input("secret")
    form.selectbox(key="fleet_targets_new_provider").select("minio")
    next(s for s in form.selectbox if s.label == "Credentials").select("keys")
    next(b for b in form.button if b.label == "Add target").click()
    at.run()
    assert texts(at.error) == [NO_KEY]


def test_a_cloud_target_is_tested_and_receives_an_export(app_as, monkeypatch, s3, write_file):
    monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
    svc = open_services(load_settings())
    boto3.client(
        "s3",
        endpoint_url=s3,
        region_name="us-east-1",
        aws_access_key_id="a",
        aws_secret_access_key="b",
    ).create_bucket(Bucket="beacon-data")
    spec = targets.TargetSpec(
        "lake",
        "minio",
        "beacon-data",
        endpoint_url=s3,
        prefix="team",
        credentials="keys",
        access_key_id="a",
        secret_access_key="b",
    )
    targets.save_target(svc.store, SecretBox.from_settings(svc.settings), SYSTEM, spec)
    svc.catalog.ingest_file(SYSTEM, write_file("orders.csv", "order_id,amount\n1,9.5\n2,3.25\n"))

    at = app_as(Role.ADMIN, FLEET)
    assert not at.exception and not at.error
    click(at, "Test connection")
    assert texts(at.success)[0].startswith("Connected to s3://beacon-data/team/")
    assert metrics(at)["Circuit"] == "closed" and metrics(at)["Last test"] == "passed"

    at.segmented_control(key="fleet_targets_section").set_value("Export a dataset").run()
    click(at, "Export")
    assert not at.error
    assert texts(at.success)[-1].startswith("Wrote exports/orders_v1.parquet")
    at.segmented_control(key="fleet_targets_section").set_value("Browse").run()
    at.text_input(key="fleet_targets_path_lake").input("exports").run()
    objects = tab(at, "Cloud targets").dataframe[-1].value
    assert objects["key"].tolist() == ["exports/orders_v1.parquet"]

    at.segmented_control(key="fleet_targets_section").set_value("Import as dataset").run()
    at.text_input(key="fleet_targets_import_name").input("orders_copy").run()
    click(at, "Import as dataset")
    assert not at.error
    assert "as orders_copy v1: 2 rows" in texts(at.success)[-1]


def test_api_keys_are_shown_once_and_can_be_revoked(app_as, svc):
    at = app_as(Role.ADMIN, FLEET)
    keys = tab(at, "API keys")
    next(w for w in keys.text_input if w.label == "Name").input("dashboards")
    next(b for b in keys.button if b.label == "Create key").click()
    at.run()
    assert not at.error
    secret = at.code[-1].value
    hasher = TokenHasher.for_store(svc.store)
    assert service_accounts.authenticate_key(svc.store, hasher, secret).scopes == {"devices:read"}
    click(at, "Revoke key")
    with pytest.raises(PermissionDenied):
        service_accounts.authenticate_key(svc.store, hasher, secret)
