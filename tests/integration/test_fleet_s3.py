"""Cloud targets against a real S3-compatible server on loopback (moto in server mode).

Covers the bucket round trip (put, list, get, multipart both ways, presigned links),
the errors a connection test must tell apart, and a server that stops in the middle of
a transfer: a clear error, the circuit opens, no partial dataset, recovery afterwards.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pandas as pd
import pytest
import requests

from core.auth.roles import User
from core.config import load_settings
from core.errors import IntegrationError, UserInputError
from core.fleet import targets
from core.fleet.cloud import Cloud
from core.integrations import BreakerRegistry, CallPolicy, CircuitOpen
from core.secrets_box import SecretBox, new_key
from core.services import Services, open_services
from tests.loopback_s3 import LoopbackS3, admin_client

SYSTEM = User.system()
MB = 1024 * 1024
FAST = CallPolicy(
    connect_timeout=1, read_timeout=3, attempts=2, breaker_threshold=2, breaker_reset_seconds=0.5
)


@pytest.fixture
def s3(s3_server: LoopbackS3) -> Iterator[LoopbackS3]:
    """The server with no buckets and authentication off (any keys are accepted)."""
    requests.post(f"{s3_server.url}/moto-api/reset", timeout=10)
    yield s3_server
    requests.post(f"{s3_server.url}/moto-api/reset-auth", data=b"inf", timeout=10)


@pytest.fixture
def fleet_services(beacon_home, monkeypatch) -> Services:
    monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
    return open_services(load_settings())


@pytest.fixture
def cloud(fleet_services: Services) -> Cloud:
    return Cloud(
        fleet_services.store,
        fleet_services.settings,
        fleet_services.catalog,
        breakers=BreakerRegistry(),
        policy=FAST,
        multipart_mb=5,
    )


@pytest.fixture
def add_target(fleet_services: Services) -> Callable[..., targets.CloudTarget]:
    box = SecretBox.from_settings(fleet_services.settings)

    def add(url: str, bucket: str = "beacon-data", **overrides) -> targets.CloudTarget:
        values = dict(
            name="lake",
            provider="minio",
            bucket=bucket,
            endpoint_url=url,
            prefix="beacon/",
            credentials="keys",
            access_key_id="admin",
            secret_access_key="admin",
        )
        values.update(overrides)
        return targets.save_target(fleet_services.store, box, SYSTEM, targets.TargetSpec(**values))

    return add


def test_put_list_get_multipart_and_presigned_link(s3, cloud, add_target, tmp_path):
    admin_client(s3.url).create_bucket(Bucket="beacon-data")
    add_target(s3.url)
    bucket = cloud.open(SYSTEM, "lake")

    bucket.put_bytes(b"hello", "notes/hello.txt")
    assert bucket.get_bytes("notes/hello.txt") == b"hello"

    big = tmp_path / "model.bin"
    payload = bytes(range(256)) * (12 * MB // 256) + b"tail"
    big.write_bytes(payload)
    seen: list[tuple[int, int]] = []
    sent = bucket.put_file(big, "models/model.bin", lambda done, total: seen.append((done, total)))
    assert sent.bytes == len(payload)
    assert seen[-1] == (len(payload), len(payload))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # Stored as a multipart upload: S3 ETags of those end in -<parts>.
    head = admin_client(s3.url).head_object(Bucket="beacon-data", Key="beacon/models/model.bin")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MB

    listing = bucket.browse()
    assert listing.prefixes == ("models/", "notes/")
    assert bucket.browse("models").objects[0].key == "models/model.bin"
    assert bucket.browse("models").objects[0].size == len(payload)

    back = tmp_path / "back.bin"
    progress: list[int] = []
    got = bucket.get_file("models/model.bin", back, lambda done, total: progress.append(done))
    assert got.bytes == len(payload) and back.read_bytes() == payload
    assert progress[-1] == len(payload) and len(progress) > 1

    url = bucket.presigned_url("notes/hello.txt", 60)
    assert "X-Amz-Signature=" in url
    assert requests.get(url, timeout=10).content == b"hello"

    with pytest.raises(UserInputError, match=r"there is no object 'notes/absent\.txt'"):
        bucket.head("notes/absent.txt")


def test_connection_test_passes_and_is_remembered(s3, cloud, add_target, fleet_services):
    admin_client(s3.url).create_bucket(Bucket="beacon-data")
    add_target(s3.url)
    check = cloud.test(SYSTEM, "lake")
    assert (check.ok, check.can_read, check.can_write, check.kind) == (True, True, True, "ok")
    saved = targets.get_target(fleet_services.store, SYSTEM, "lake")
    assert saved.last_test_ok is True and saved.last_test_message.startswith("Connected")
    # The probe object is removed again.
    listed = admin_client(s3.url).list_objects_v2(Bucket="beacon-data")
    assert listed.get("KeyCount", 0) == 0


def test_missing_bucket_is_named(s3, cloud, add_target):
    add_target(s3.url, bucket="no-such-bucket")
    check = cloud.test(SYSTEM, "lake")
    assert (check.ok, check.kind) == (False, "missing_bucket")
    assert "the bucket does not exist" in check.message
    assert cloud.breaker(targets.get_target(cloud.store, SYSTEM, "lake")).state == "closed"


@pytest.fixture
def iam_user(s3) -> dict[str, str]:
    """A user whose keys may do anything in S3 except write to 'read-only-data'."""
    iam = boto3.client(
        "iam",
        endpoint_url=s3.url,
        region_name="us-east-1",
        aws_access_key_id="admin",
        aws_secret_access_key="admin",
    )
    admin = admin_client(s3.url)
    admin.create_bucket(Bucket="beacon-data")
    admin.create_bucket(Bucket="read-only-data")
    # The next 3 calls run without authentication; every call after them is checked.
    requests.post(f"{s3.url}/moto-api/reset-auth", data=b"3", timeout=10)
    iam.create_user(UserName="beacon")
    key = iam.create_access_key(UserName="beacon")["AccessKey"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::read-only-data/*",
            },
        ],
    }
    iam.put_user_policy(UserName="beacon", PolicyName="beacon", PolicyDocument=json.dumps(policy))
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def test_wrong_credentials_and_missing_permission_are_told_apart(
    s3, cloud, add_target, fleet_services, iam_user
):
    box = SecretBox.from_settings(fleet_services.settings)
    add_target(s3.url, **iam_user)
    assert cloud.test(SYSTEM, "lake").ok

    wrong_id = dict(iam_user, access_key_id="AKIAWRONGWRONGWRONG1")
    add_target(s3.url, name="wrong-id", **wrong_id)
    check = cloud.test(SYSTEM, "wrong-id")
    assert (check.ok, check.kind) == (False, "bad_credentials")
    assert "access key id is not known" in check.message

    wrong_secret = dict(iam_user, secret_access_key="not-the-secret")
    add_target(s3.url, name="wrong-secret", **wrong_secret)
    check = cloud.test(SYSTEM, "wrong-secret")
    assert (check.ok, check.kind) == (False, "bad_credentials")
    assert "secret access key does not match" in check.message

    add_target(s3.url, name="read-only", bucket="read-only-data", **iam_user)
    check = cloud.test(SYSTEM, "read-only")
    assert (check.ok, check.can_read, check.can_write) == (False, True, False)
    assert check.kind == "no_permission"
    assert check.message.startswith("Read works;") and "may not write" in check.message
    # Keys are stored encrypted, never in the clear.
    from core.fleet.models import CloudTargetRow

    with fleet_services.store.session() as s:
        row = s.query(CloudTargetRow).filter_by(name="lake").one()
        assert iam_user["secret_access_key"] not in (row.secret_key_enc or "")
        assert box.decrypt(row.secret_key_enc) == iam_user["secret_access_key"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint_opens_the_circuit(cloud, add_target):
    add_target(f"http://127.0.0.1:{free_port()}")
    target = targets.get_target(cloud.store, SYSTEM, "lake")
    first = cloud.test(SYSTEM, "lake")
    assert (first.ok, first.kind) == (False, "unreachable")
    assert "cannot reach the storage service" in first.message
    assert cloud.breaker(target).state == "closed"  # 1 of 2 failures
    assert cloud.test(SYSTEM, "lake").kind == "unreachable"
    assert cloud.breaker(target).state == "open"
    started = time.perf_counter()
    paused = cloud.test(SYSTEM, "lake")
    assert paused.kind == "circuit_open" and "is paused after 2 failed call(s)" in paused.message
    assert time.perf_counter() - started < 0.2  # no network call while open


class SkewedClock(BaseHTTPRequestHandler):
    """Answers like S3 does to a request signed with a clock 20 minutes off."""

    def do_GET(self) -> None:
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>RequestTimeTooSkewed</Code>'
            b"<Message>The difference between the request time and the current time is too "
            b"large.</Message></Error>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_clock_skew_is_explained(cloud, add_target):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SkewedClock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        add_target(f"http://127.0.0.1:{server.server_address[1]}")
        check = cloud.test(SYSTEM, "lake")
    finally:
        server.shutdown()
        server.server_close()
    assert (check.ok, check.kind) == (False, "clock_skew")
    assert "synchronise it (NTP)" in check.message


def orders_csv(rows: int) -> bytes:
    frame = pd.DataFrame(
        {
            "order_id": range(1, rows + 1),
            "order_date": pd.date_range("2025-01-01", periods=rows, freq="min").date,
            "customer_id": [f"C{i % 977:04d}" for i in range(rows)],
            "amount": [round((i % 500) * 1.37, 2) for i in range(rows)],
        }
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def test_import_an_object_as_a_dataset_and_export_one_back(s3, cloud, add_target, fleet_services):
    admin = admin_client(s3.url)
    admin.create_bucket(Bucket="beacon-data")
    add_target(s3.url)
    admin.put_object(Bucket="beacon-data", Key="beacon/in/orders.csv", Body=orders_csv(5000))

    dataset = cloud.import_object(SYSTEM, "lake", "in/orders.csv")
    assert (dataset.name, dataset.version, dataset.rows) == ("orders", 1, 5000)
    assert dataset.current.source_name == "s3://beacon-data/beacon/in/orders.csv"
    assert dataset.column_for("amount") == "amount"

    parquet = cloud.export_dataset(SYSTEM, "lake", dataset, "parquet")
    assert parquet.key == "exports/orders_v1.parquet"
    assert parquet.bytes == dataset.path.stat().st_size
    csv = cloud.export_dataset(SYSTEM, "lake", dataset, "csv", key="exports/orders.csv")
    body = admin.get_object(Bucket="beacon-data", Key="beacon/exports/orders.csv")["Body"].read()
    assert len(body) == csv.bytes
    assert pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")["amount"].sum() == pytest.approx(
        pd.read_csv(io.BytesIO(orders_csv(5000)))["amount"].sum()
    )


def test_server_stopping_mid_transfer(s3_server, cloud, add_target, fleet_services, tmp_path):
    """A clear error, the circuit opens, no partial dataset, and recovery once it is back."""
    requests.post(f"{s3_server.url}/moto-api/reset", timeout=10)
    url, port = s3_server.url, s3_server.get_host_and_port()[1]
    admin = admin_client(url)
    admin.create_bucket(Bucket="beacon-data")
    add_target(url)
    admin.put_object(Bucket="beacon-data", Key="beacon/big.csv", Body=orders_csv(600_000))
    target = targets.get_target(cloud.store, SYSTEM, "lake")

    stopper: list[threading.Thread] = []

    def stop_server(done: int, total: int) -> None:
        if not stopper:  # first chunk arrived: pull the plug while the rest is in flight
            stopper.append(threading.Thread(target=s3_server.stop))
            stopper[0].start()

    with pytest.raises(IntegrationError, match="cannot reach the storage service"):
        cloud.import_object(SYSTEM, "lake", "big.csv", progress=stop_server)
    stopper[0].join()
    catalog = fleet_services.catalog
    assert catalog.datasets(SYSTEM) == []  # no partial dataset
    assert list((fleet_services.settings.home / "tmp" / "cloud").iterdir()) == []
    staging = catalog.staging_dir
    assert not staging.exists() or list(staging.iterdir()) == []

    # A second failure opens the circuit; calls then fail fast without the network.
    assert cloud.test(SYSTEM, "lake").kind == "unreachable"
    assert cloud.breaker(target).state == "open"
    with pytest.raises(CircuitOpen, match="is paused"):
        cloud.open(SYSTEM, "lake").browse()

    # The server comes back (moto keeps its buckets in this process): after the cool-down
    # one trial call goes through, succeeds and closes the circuit.
    back = LoopbackS3(port)
    back.start()
    s3_server._server = back._server  # the module fixture stops whichever is running
    s3_server._thread = back._thread
    time.sleep(FAST.breaker_reset_seconds + 0.1)
    assert cloud.breaker(target).state == "half-open"
    dataset = cloud.import_object(SYSTEM, "lake", "big.csv")
    assert dataset.rows == 600_000
    assert cloud.breaker(target).state == "closed"
