"""The device registry: enrolment tokens, hashed credentials, rotation, revocation, roles."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import audit
from core.auth.roles import Role, User
from core.errors import PermissionDenied, UserInputError
from core.fleet import devices
from core.fleet.devices import DeviceSpec
from core.fleet.models import DeviceRow
from core.fleet.tokens import META_KEY, TokenHasher, hint
from core.store.models import utcnow

SYSTEM = User.system()


@pytest.fixture
def hasher(services) -> TokenHasher:
    return TokenHasher.for_store(services.store)


def test_the_hasher_is_hmac_sha256_under_one_installation_key(services, hasher):
    import base64

    key = base64.b64decode(services.store.get_meta(META_KEY))
    expected = hmac.new(key, b"bcn_dev_abc", hashlib.sha256).hexdigest()
    assert hasher.digest("bcn_dev_abc") == expected
    assert TokenHasher.for_store(services.store).digest("bcn_dev_abc") == expected  # stable
    assert hint("bcn_dev_0123456789WXYZ") == "bcn_dev_…WXYZ"


def test_enrolment_exchanges_a_one_time_token_for_a_hashed_credential(services, hasher):
    store = services.store
    enrolment = devices.add_device(store, hasher, SYSTEM, DeviceSpec("pi-1", "raspberry-pi"))
    assert enrolment.device.status == "pending" and enrolment.token.startswith("bcn_enrol_")
    assert enrolment.expires_at - utcnow() > timedelta(days=6, hours=23)
    device, credential = devices.enrol(
        store,
        hasher,
        enrolment.token,
        arch="arm64",
        os="Debian 12",
        capabilities={"execution_providers": ["CPUExecutionProvider"], "memory_mb": 8192},
    )
    assert (device.status, device.arch, device.capabilities["memory_mb"]) == (
        "active",
        "arm64",
        8192,
    )
    with store.session() as s:
        row = s.scalar(select(DeviceRow))
        assert row.credential_hash == hasher.digest(credential) and row.enrol_token_hash is None
        stored = " ".join(str(v) for v in vars(row).values())
    assert credential not in stored and enrolment.token not in stored
    assert devices.authenticate(store, hasher, credential).name == "pi-1"
    with pytest.raises(PermissionDenied, match="not valid or was already used"):
        devices.enrol(store, hasher, enrolment.token)
    actions = [(e.actor, e.action) for e in audit.list_events(store, SYSTEM)]
    assert actions == [("device:pi-1", "device.enrol"), ("system", "device.create")]


def test_expired_tokens_are_refused(services, hasher):
    enrolment = devices.add_device(services.store, hasher, SYSTEM, DeviceSpec("pi-1", "iot"))
    with services.store.session() as s:
        s.execute(update(DeviceRow).values(enrol_expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(PermissionDenied, match="has expired"):
        devices.enrol(services.store, hasher, enrolment.token)


def test_rotate_revoke_reissue_retire(services, hasher):
    store = services.store
    token = devices.add_device(store, hasher, SYSTEM, DeviceSpec("gw", "x86-gateway")).token
    _, first = devices.enrol(store, hasher, token)
    identity = devices.authenticate(store, hasher, first)
    second = devices.rotate_credential(store, hasher, identity)
    with pytest.raises(PermissionDenied):
        devices.authenticate(store, hasher, first)
    assert devices.authenticate(store, hasher, second).id == identity.id

    assert devices.revoke(store, SYSTEM, "gw").status == "revoked"
    with pytest.raises(PermissionDenied):
        devices.authenticate(store, hasher, second)
    again = devices.reissue_enrolment(store, hasher, SYSTEM, "gw")
    _, third = devices.enrol(store, hasher, again.token)
    assert devices.authenticate(store, hasher, third).status == "active"

    assert devices.retire(store, SYSTEM, "gw").status == "retired"
    with pytest.raises(PermissionDenied):
        devices.authenticate(store, hasher, third)
    with pytest.raises(UserInputError, match="is retired"):
        devices.reissue_enrolment(store, hasher, SYSTEM, "gw")
    assert devices.list_devices(store, SYSTEM, include_retired=False) == []


def test_tags_and_locations_are_checked(services, hasher):
    store = services.store
    spec = DeviceSpec(
        "pi-1", "jetson", tags=(" Store-12 ", "line:a", "store-12", ""), lat=45.7, lon=4.8
    )
    device = devices.add_device(store, hasher, SYSTEM, spec).device
    assert device.tags == ("store-12", "line:a") and (device.lat, device.lon) == (45.7, 4.8)
    assert devices.set_tags(store, SYSTEM, "pi-1", ["a", "B"]).tags == ("a", "b")
    bad = [
        (DeviceSpec("pi 2", "jetson"), "A device name has 1-64 letters"),
        (DeviceSpec("pi-2", "toaster"), "Device kind must be one of raspberry-pi"),
        (DeviceSpec("pi-2", "iot", lat=10.0), "Give both latitude and longitude"),
        (DeviceSpec("pi-2", "iot", lat=91.0, lon=0.0), "Latitude must be between -90 and 90."),
        (DeviceSpec("pi-2", "iot", lat=0.0, lon=181.0), "Longitude must be between -180 and 180."),
        (DeviceSpec("pi-2", "iot", tags=("no spaces",)), "Tag 'no spaces'"),
        (DeviceSpec("pi-1", "iot"), "A device named 'pi-1' already exists."),
    ]
    for spec, message in bad:
        with pytest.raises(UserInputError, match=message):
            devices.add_device(store, hasher, SYSTEM, spec)


def test_only_admins_manage_devices(services, hasher, make_user):
    analyst = make_user(Role.ANALYST)
    devices.add_device(services.store, hasher, SYSTEM, DeviceSpec("pi-1", "iot"))
    for call in (
        lambda: devices.list_devices(services.store, analyst),
        lambda: devices.add_device(services.store, hasher, analyst, DeviceSpec("x", "iot")),
        lambda: devices.revoke(services.store, analyst, "pi-1"),
        lambda: devices.retire(services.store, analyst, "pi-1"),
        lambda: devices.set_tags(services.store, analyst, "pi-1", ["a"]),
        lambda: devices.reissue_enrolment(services.store, hasher, analyst, "pi-1"),
    ):
        with pytest.raises(PermissionDenied, match="Managing devices needs the admin role"):
            call()


def test_non_device_tokens_are_refused_before_any_lookup(services, hasher):
    with pytest.raises(PermissionDenied, match="Not a device credential"):
        devices.authenticate(services.store, hasher, "bcn_key_abc")
