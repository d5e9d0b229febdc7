"""Cloud targets in the store: validation, keys encrypted at rest, updates, roles, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User
from core.config import load_settings
from core.errors import NotFound, PermissionDenied, UserInputError
from core.fleet import targets
from core.fleet.models import CloudTargetRow
from core.fleet.targets import TargetSpec
from core.secrets_box import NO_KEY, SecretBox, new_key
from core.services import open_services

SYSTEM = User.system()
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def svc(beacon_home, monkeypatch):
    monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
    return open_services(load_settings())


@pytest.fixture
def box(svc) -> SecretBox:
    return SecretBox.from_settings(svc.settings)


def keys_spec(**overrides) -> TargetSpec:
    values = dict(
        name="lake",
        provider="r2",
        bucket="beacon-data",
        endpoint_url="https://abc.r2.cloudflarestorage.com/",
        prefix="/team/exports",
        credentials="keys",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key=SECRET,
    )
    return TargetSpec(**values | overrides)


def test_keys_are_stored_encrypted_and_shown_only_as_a_hint(svc, box):
    saved = targets.save_target(svc.store, box, SYSTEM, keys_spec())
    assert (saved.endpoint_url, saved.prefix, saved.region) == (
        "https://abc.r2.cloudflarestorage.com",
        "team/exports/",
        "auto",  # R2's default region
    )
    assert saved.key_hint == "••••••••MPLE" and saved.location == "s3://beacon-data/team/exports/"
    with svc.store.session() as s:
        row = s.scalar(select(CloudTargetRow))
        stored = f"{row.access_key_enc} {row.secret_key_enc} {row.key_hint}"
    assert SECRET not in stored and "AKIAIOSFODNN7EXAMPLE" not in stored
    access = targets.access(svc.store, box, SYSTEM, "lake")
    assert access.secret_access_key.reveal() == SECRET
    assert SECRET not in repr(access)


def test_updating_without_keys_keeps_them_and_switching_mode_drops_them(svc, box):
    targets.save_target(svc.store, box, SYSTEM, keys_spec())
    targets.save_target(
        svc.store,
        box,
        SYSTEM,
        keys_spec(bucket="other-bucket", access_key_id="", secret_access_key=""),
        replaces="lake",
    )
    access = targets.access(svc.store, box, SYSTEM, "lake")
    assert access.target.bucket == "other-bucket" and access.secret_access_key.reveal() == SECRET
    targets.save_target(
        svc.store,
        box,
        SYSTEM,
        keys_spec(name="lake-2", credentials="profile", profile="ops"),
        replaces="lake",
    )
    access = targets.access(svc.store, box, SYSTEM, "lake-2")
    assert access.secret_access_key is None and access.target.profile == "ops"
    with pytest.raises(NotFound):
        targets.get_target(svc.store, SYSTEM, "lake")
    actions = [e.action for e in audit.list_events(svc.store, SYSTEM)]
    assert actions == ["cloud_target.update", "cloud_target.update", "cloud_target.create"]


def test_keys_are_refused_without_a_secret_key(beacon_home):
    svc = open_services(load_settings())
    with pytest.raises(UserInputError) as refused:
        targets.save_target(svc.store, SecretBox.from_settings(svc.settings), SYSTEM, keys_spec())
    assert str(refused.value) == NO_KEY
    # The default chain needs no key.
    chain = keys_spec(credentials="chain", access_key_id="", secret_access_key="")
    assert targets.save_target(svc.store, SecretBox(None), SYSTEM, chain).credentials == "chain"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "-bad"}, "A target name has 1-64 letters"),
        ({"provider": "dropbox"}, "Unknown storage provider 'dropbox'"),
        ({"bucket": "Upper_Case"}, "'Upper_Case' is not a bucket name"),
        ({"bucket": "ab"}, "'ab' is not a bucket name"),
        ({"endpoint_url": "ftp://x"}, "The endpoint must be an http(s) URL"),
        ({"endpoint_url": ""}, "Cloudflare R2 needs an endpoint URL"),
        ({"region": "EU West!"}, "is not a region name"),
        ({"addressing": "dns"}, "Addressing style must be auto, path or virtual."),
        ({"credentials": "magic"}, "Credentials must be 'chain', 'profile' or 'keys'."),
        ({"credentials": "profile", "profile": ""}, "Name the AWS profile"),
        ({"secret_access_key": ""}, "Enter both the access key id and the secret access key."),
        ({"prefix": "a/../b"}, "A prefix may not contain '..' segments."),
    ],
)
def test_bad_input_says_what_to_fix(svc, box, overrides, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        targets.save_target(svc.store, box, SYSTEM, keys_spec(**overrides))


def test_aws_needs_no_endpoint_and_names_are_unique(svc, box):
    aws = TargetSpec("s3", "aws", "my-bucket", region="eu-west-3")
    assert targets.save_target(svc.store, box, SYSTEM, aws).endpoint_url == ""
    with pytest.raises(UserInputError, match=r"A cloud target named 's3' already exists\."):
        targets.save_target(svc.store, box, SYSTEM, aws)


def test_only_admins_manage_targets(svc, box, make_user):
    analyst = make_user(Role.ANALYST)
    for call in (
        lambda: targets.list_targets(svc.store, analyst),
        lambda: targets.save_target(svc.store, box, analyst, keys_spec()),
        lambda: targets.delete_target(svc.store, analyst, "lake"),
        lambda: targets.access(svc.store, box, analyst, "lake"),
    ):
        with pytest.raises(PermissionDenied, match="needs the admin role"):
            call()


def test_delete_forgets_the_target_and_its_keys(svc, box):
    targets.save_target(svc.store, box, SYSTEM, keys_spec())
    targets.delete_target(svc.store, SYSTEM, "lake")
    assert targets.list_targets(svc.store, SYSTEM) == []
    with svc.store.session() as s:
        assert s.scalar(select(CloudTargetRow)) is None
