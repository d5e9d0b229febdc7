"""The fleet's store work on PostgreSQL: registry, group-committed heartbeats, hourly activity."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from core.api.webhooks import remember_delivery
from core.auth.roles import User
from core.fleet import devices, heartbeats, service_accounts
from core.fleet.devices import DeviceSpec
from core.fleet.heartbeats import CredentialRevoked, Heartbeat, HeartbeatSink, Incoming
from core.fleet.overview import activity
from core.fleet.tokens import TokenHasher
from core.store import open_store
from core.store.models import utcnow

SYSTEM = User.system()
pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url):
    opened = open_store(postgres_url)
    yield opened
    opened.engine.dispose()


def test_registry_heartbeats_and_activity_on_postgresql(store):
    assert store.engine.dialect.name == "postgresql"
    hasher = TokenHasher.for_store(store)
    ids = {}
    for name in ("a", "b"):
        token = devices.add_device(
            store, hasher, SYSTEM, DeviceSpec(name, "jetson", lat=1.0, lon=2.0)
        ).token
        device, credential = devices.enrol(store, hasher, token, capabilities={"memory_mb": 4096})
        ids[name] = (device.id, hasher.digest(credential))
    sink = HeartbeatSink(store).start()
    with ThreadPoolExecutor(8) as pool:
        futures = list(
            pool.map(
                lambda n: sink.submit(
                    ids["ab"[n % 2]][0], Heartbeat(cpu_pct=n % 100), ids["ab"[n % 2]][1]
                ),
                range(400),
            )
        )
    assert [f.result(timeout=30) for f in futures] == [None] * 400
    devices.revoke(store, SYSTEM, "b")
    with pytest.raises(CredentialRevoked):
        sink.submit(ids["b"][0], Heartbeat(), ids["b"][1]).result(timeout=30)
    sink.close()
    counts = {d.name: d.heartbeat_count for d in devices.list_devices(store, SYSTEM)}
    assert counts == {"a": 200, "b": 200}
    assert devices.get_device(store, SYSTEM, "a").capabilities == {"memory_mb": 4096}

    now = utcnow().replace(minute=30)
    heartbeats.write_batch(
        store,
        [Incoming(ids["a"][0], Heartbeat(cpu_pct=99), now - timedelta(hours=1))],
    )
    frame = activity(store, SYSTEM, now, hours=2)
    assert frame["devices"].tolist()[0] == 1 and frame["unhealthy_devices"].tolist()[0] == 1
    assert heartbeats.history(store, SYSTEM, "a", limit=5)["cpu_pct"].notna().all()
    assert heartbeats.prune(store, 30, now + timedelta(days=31)) == 401


def test_service_accounts_and_webhook_replays_on_postgresql(store):
    hasher = TokenHasher.for_store(store)
    _, key = service_accounts.create_key(store, hasher, SYSTEM, "ci", ["devices:read"])
    assert service_accounts.authenticate_key(store, hasher, key).name == "ci"
    assert remember_delivery(store, "sha256=one", "restock")
    assert not remember_delivery(store, "sha256=one", "restock")
